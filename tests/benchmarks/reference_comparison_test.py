"""The PyTorch references compute the same functions as the mi_zoo models
(same weights, same outputs), the parameter counts agree, and (slow) a
tiny comparison run's rows. Skipped without PyTorch (an optional benchmark
dependency)."""

import importlib.util
import math
import unittest

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np
import pytest

from benchmarks import reference_comparison
from benchmarks import torch_cpu
from benchmarks import vqa_shapes
from mi_zoo import layers
from mi_zoo import models
from tests import cli

try:  # The optional `bench` extra (pytest or Bazel: skipped, not failed).
    torch = torch_cpu.import_torch()
    from benchmarks import torch_references
except ImportError:
    torch = torch_references = None

needs_torch = unittest.skipIf(
    torch is None, 'needs PyTorch: pip install -e ".[bench]"'
)

# vocab, T, regions, region features, answers
SHAPES = (40, 7, 5, 24, 6)
TINY = {
    "ban": dict(question_units=16, glimpses=2, rank=12, hidden=16),
    "mlb": dict(question_units=16, joint_size=10),
    "mcb": dict(question_units=16, sketch_dim=64, attention_hidden=8),
}


def tiny_inputs(spec, batch=3):
    inputs, _ = vqa_shapes.random_batch(spec, batch, seed=1)
    inputs["image"][0, 3:] = 0.0  # zero-padded regions: masked out
    return inputs


@needs_torch
class AgreementTest(parameterized.TestCase):
    @parameterized.parameters("ban", "mlb", "mcb")
    def test_same_weights_same_logits(self, name):
        spec = vqa_shapes.vqa2_spec(*SHAPES)
        keras.utils.set_random_seed(0)
        model = models.build_vqa_model(name, spec, **TINY[name])
        reference = torch_references.REFERENCES[name](
            spec.vocab_size, SHAPES[3], spec.num_answers, **TINY[name]
        )
        self.assertEqual(
            vqa_shapes.trainable_parameters(model),
            torch_references.trainable_parameters(reference),
        )
        reference.load_keras(model)
        inputs = tiny_inputs(spec)
        expected = np.asarray(model(inputs))
        got = (
            reference(
                torch.from_numpy(inputs["question"]).long(),
                torch.from_numpy(inputs["image"]),
                torch.from_numpy(inputs["boxes"]),
            )
            .detach()
            .numpy()
        )
        np.testing.assert_allclose(got, expected, atol=2e-5, rtol=1e-4)

    def test_reference_hyperparameters_follow_the_builder(self):
        values = reference_comparison.reference_hyperparameters(
            "ban", "paper", torch_references.BanVqa
        )
        self.assertEqual(
            values,
            {
                "question_units": 1024,
                "glimpses": 8,
                "rank": 3072,
                "pool_size": 3,
                "hidden": 2048,
            },
        )
        small = reference_comparison.reference_hyperparameters(
            "mcb", "small", torch_references.McbVqa
        )
        self.assertEqual(
            small["sketch_dim"],
            models.VQA_MODELS.arguments("mcb", "small")["sketch_dim"],
        )


class KerasRnnTest(absltest.TestCase):
    def test_same_model_with_keras_loop(self):
        spec = vqa_shapes.vqa2_spec(*SHAPES)
        keras.utils.set_random_seed(0)
        model = models.build_vqa_model("mlb", spec, **TINY["mlb"])
        copy = reference_comparison.with_keras_rnn(model)
        kinds = {type(layer) for layer in copy.layers}
        self.assertIn(keras.layers.GRU, kinds)
        self.assertNotIn(layers.PackedGRU, kinds)
        self.assertIn(
            layers.PackedGRU, {type(layer) for layer in model.layers}
        )
        inputs = tiny_inputs(spec)
        np.testing.assert_allclose(
            np.asarray(copy(inputs)),
            np.asarray(model(inputs)),
            rtol=1e-5,
            atol=1e-6,
        )


@needs_torch
class RunTest(absltest.TestCase):
    @pytest.mark.slow
    def test_tiny_run(self):
        rows, text = reference_comparison.run(
            ["mlb"],
            size="small",
            batch_size=4,
            threads=2,
            shapes=SHAPES,
            repeats=1,
            steps=1,
            warmup=1,
            jit=False,
            tolerance=0.001,
            question_rnns=("packed", "keras"),
            gemm_size=128,
            precisions=("float32", "mixed_bfloat16"),
        )
        self.assertEqual(
            [(r["precision"], r["question_rnn"]) for r in rows],
            [
                ("float32", "packed"),
                ("float32", "keras"),
                ("mixed_bfloat16", "packed"),
                ("mixed_bfloat16", "keras"),
            ],
        )
        self.assertEqual(keras.config.dtype_policy().name, "float32")
        self.assertEqual(
            [r["gemm"]["dtype"] for r in rows],
            ["float32", "float32", "bfloat16", "bfloat16"],
        )
        for row in rows:
            self.assertEqual(row["parameters_mi_zoo"], row["parameters_torch"])
            for key in (
                "mi_zoo_ms_per_step",
                "torch_ms_per_step",
                "ratio_mi_zoo_over_torch",
                "ratio_over_gemm",
                "gemms_ms",
                "gemms_ratio",
            ):
                self.assertTrue(math.isfinite(row[key]) and row[key] > 0, key)
            # Every product is timed: the packed RNN's run-time-shaped
            # ones at the sizes one run of the step gives them.
            self.assertEqual(row["gemms_unknown"], 0)
        # Keras's loop keeps its products in a while-loop body (not
        # counted); the packed loop's products per step are in the graph.
        for packed, plain in (rows[:2], rows[2:]):
            self.assertGreater(packed["gemms_count"], plain["gemms_count"])
            self.assertEqual(
                packed["torch_ms_per_step"], plain["torch_ms_per_step"]
            )
        for precision in ("float32", "mixed_bfloat16"):
            self.assertIn(f"| mlb | {precision} | packed | small | 4 |", text)
            self.assertIn(f"| mlb | {precision} | keras | small | 4 |", text)


@unittest.skipIf(
    importlib.util.find_spec("torch") is None,
    'needs PyTorch: pip install -e ".[bench]"',
)
class SmokeTest(absltest.TestCase):
    @pytest.mark.slow  # 15-60 s: run with -m slow (and by bazel test)
    def test_quick_run_as_documented(self):
        # A subprocess, as a user runs it: TensorFlow is imported first and
        # PyTorch's Adam created after it, which loaded triton and died of a
        # segmentation fault before benchmarks.torch_cpu kept triton out.
        shapes = dict(
            zip(
                (
                    "vocab_size",
                    "question_length",
                    "regions",
                    "region_features",
                    "num_answers",
                ),
                SHAPES,
            )
        )
        result = cli.run_module(
            "benchmarks.reference_comparison",
            "--quick",
            "--models=mlb",
            "--precisions=float32,mixed_bfloat16",
            *[f"--{k}={v}" for k, v in shapes.items()],
        )
        self.assertEqual(
            result.returncode, 0, result.stdout[-3000:] + result.stderr[-3000:]
        )
        for precision, dtype in (
            ("float32", "float32"),
            ("mixed_bfloat16", "bfloat16"),
        ):
            self.assertRegex(
                result.stdout,
                rf"\| mlb \| {precision} \| packed \| small \| 8 \| "
                r"[\d,]+ \| [\d,]+ \| \d+ \| \d+ \| [\d.]+× \| [\d.]+ \| "
                r"\d+ \(\d+\) \| [\d.]+× \|",
            )
            self.assertRegex(
                result.stdout,
                rf"512² {dtype} matmul, same run: TensorFlow [\d.]+ ms, "
                r"PyTorch [\d.]+ ms \([\d.]+×",
            )
        # One tf.function per model and precision: no retracing warnings.
        self.assertNotIn("retracing", result.stderr)

    def test_unknown_question_rnn_is_a_usage_error(self):
        result = cli.run_module(
            "benchmarks.reference_comparison", "--question_rnns=packed,cudnn"
        )
        self.assertEqual(result.returncode, 1, result.stderr[-2000:])
        # One line: not absl's usage text (the module docstring).
        self.assertNotIn("PyTorch references", result.stderr)
        self.assertIn(
            "--question_rnns: unknown ['cudnn']; choose from "
            "['packed', 'keras'], got 'packed,cudnn'.\n",
            result.stderr,
        )


if __name__ == "__main__":
    absltest.main()
