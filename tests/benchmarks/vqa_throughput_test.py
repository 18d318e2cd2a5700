"""The VQA throughput benchmark on tiny inputs: rows, ratios, policies."""

import math

from absl.testing import absltest
import keras
import pytest

from benchmarks import vqa_shapes
from benchmarks import vqa_throughput
from mi_zoo import models

TINY = models.VqaSpec(30, 5, "pixels", (16, 16, 3), 4)


class VqaShapesTest(absltest.TestCase):
    def test_specs(self):
        self.assertEqual(
            vqa_shapes.SPECS["sort_of_clevr"].image_shape, (75, 75, 3)
        )
        self.assertEqual(
            vqa_shapes.SPECS["clevr2d_pixels"].image_shape, (64, 64, 3)
        )
        vqa2 = vqa_shapes.SPECS["vqa2"]
        self.assertEqual(
            (vqa2.image_shape, vqa2.question_length, vqa2.num_answers),
            ((36, 2048), 14, 3129),
        )

    def test_small_ban_rank_is_a_multiple_of_the_pooling(self):
        small = models.VQA_MODELS.arguments("ban", "small")
        self.assertEqual(small["rank"] % 3, 0)

    def test_random_batch(self):
        spec = vqa_shapes.vqa2_spec(50, 6, 4, 8, 5)
        inputs, targets = vqa_shapes.random_batch(spec, 3)
        self.assertEqual(inputs["boxes"].shape, (3, 4, 4))
        self.assertEqual(targets.shape, (3, 5))
        self.assertTrue(((inputs["question"] != 0).sum(1) >= 2).all())


def tiny_run(test, names, precisions, adams=("fused",)):
    vqa_shapes.SPECS["tiny"] = TINY
    test.addCleanup(vqa_shapes.SPECS.pop, "tiny")
    return vqa_throughput.run(
        ["tiny"],
        ["small"],
        names,
        precisions,
        batch=4,
        repeats=1,
        steps=1,
        warmup=1,
        jit=False,
        adams=adams,
    )


class RunTest(absltest.TestCase):
    def test_tiny_run(self):
        rows, text = tiny_run(self, ["concat"], ["float32"])
        (row,) = rows
        self.assertEqual(row["speed_vs_concat"], 1.0)
        self.assertEqual(row["speed_vs_float32"], 1.0)
        self.assertGreater(row["examples_per_second"], 0)
        self.assertIn("| `concat` |", text)

    @pytest.mark.slow
    def test_tiny_run_two_models_two_precisions(self):
        rows, text = tiny_run(
            self, ["concat", "mlb"], ["float32", "mixed_bfloat16"]
        )
        self.assertEqual(keras.mixed_precision.global_policy().name, "float32")
        self.assertLen(rows, 4)
        for row in rows:
            for key in (
                "examples_per_second",
                "speed_vs_concat",
                "speed_vs_float32",
            ):
                self.assertTrue(
                    math.isfinite(row[key]) and row[key] > 0,
                    f"{row['model']} {key}",
                )
            self.assertGreater(row["parameters"], 0)
        self.assertIn("| `mlb` |", text)

    def test_fused_and_keras_adam(self):
        rows, text = tiny_run(
            self, ["concat"], ["float32"], ("fused", "keras")
        )
        self.assertEqual([r["adam"] for r in rows], ["fused", "keras"])
        self.assertEqual(rows[1]["speed_vs_keras_adam"], 1.0)
        self.assertTrue(math.isfinite(rows[0]["speed_vs_keras_adam"]))
        self.assertIn("float32 fused speed-up", text)
        self.assertIn("float32 keras Adam ms", text)

    def test_unknown_adam(self):
        inputs, targets = vqa_shapes.random_batch(TINY, 2)
        with self.assertRaisesRegex(ValueError, "adam='sgd'"):
            vqa_shapes.keras_train_step(
                None, TINY, inputs, targets, adam="sgd"
            )

    def test_models_that_do_not_accept_an_input_are_left_out(self):
        regions = vqa_shapes.vqa2_spec(30, 5, 4, 8, 4)
        self.assertFalse(vqa_throughput.accepts("film", regions, "small"))
        self.assertTrue(vqa_throughput.accepts("film", TINY, "paper"))


if __name__ == "__main__":
    absltest.main()
