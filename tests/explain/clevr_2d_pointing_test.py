"""The pointing game on a tiny CLEVR-2D build, through the same code as the
explain binary."""

import shutil
import tempfile

from absl.testing import absltest
import keras

from mi_zoo.core import specs
from mi_zoo.data import vqa_sources
from mi_zoo.data.clevr_2d import builder as clevr_2d_builder
from mi_zoo.explain import clevr_2d_pointing
from mi_zoo.explain import pointing
from mi_zoo.models import vqa as vqa_models
from tests.data import pipeline_checks


class Clevr2dPointingTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data_dir = tempfile.mkdtemp()
        cls.builder = vqa_sources.clevr_2d_builder_for(
            cls.data_dir,
            pipeline_checks.tiny_clevr2d_config(
                "tiny_pointing", train_size=4, validation_size=24, test_size=2
            ),
        )

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.data_dir, ignore_errors=True)
        super().tearDownClass()

    def test_examples_carry_their_scenes_in_order(self):
        count = 0
        for (
            inputs,
            answers,
            types,
            scenes,
        ) in clevr_2d_pointing.clevr_2d_examples(
            self.builder, "validation", "pixels", 10, 24
        ):
            self.assertEqual(inputs["image"].shape[1:], (32, 32, 3))
            self.assertLen(types, len(answers))
            for (scene, program), qtype in zip(scenes, types):
                self.assertTrue(
                    program[-1].startswith(qtype.split("_")[0])
                    or qtype in ("less_than", "greater_than", "equal_integer"),
                    program,
                )
                self.assertTrue(all(len(o["box"]) == 4 for o in scene))
            count += len(answers)
        self.assertEqual(count, 24)

    def test_game_over_pixels_and_regions(self):
        for kind, shape in (
            ("pixels", (32, 32, 3)),
            (
                "regions",
                (
                    clevr_2d_builder.MAX_REGIONS,
                    clevr_2d_builder.REGION_FEATURES,
                ),
            ),
        ):
            keras.utils.set_random_seed(0)
            spec = specs.VqaSpec(60, 40, kind, shape, 40)
            model = vqa_models.VQA_MODELS.build("mlb", spec, size="small")
            game = clevr_2d_pointing.clevr_2d_pointing_game(
                model,
                self.builder,
                image_kind=kind,
                num_examples=24,
                batch_size=8,
            )
            table = game.table()
            self.assertEqual(
                set(table), {"hadamard", "attention:mlb_attention", "random"}
            )
            n = table["random"]["all"]["n"]
            self.assertBetween(n, 1, 24)  # Empty-set questions skipped.
            for method in table:
                self.assertEqual(table[method]["all"]["n"], n)
                for row in table[method].values():
                    self.assertBetween(row["mass"], 0.0, 1.0)
                    self.assertBetween(row["area"], 0.0, 1.0)
            self.assertIn("| all |", pointing.markdown_table(table))


if __name__ == "__main__":
    absltest.main()
