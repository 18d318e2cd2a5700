"""The PyTorch fusions of benchmarks/torch_fusions.py compute the same
functions as the mi_zoo fusions (same weights, same outputs, same parameter
counts, with the question repeated or broadcast over the regions), and
`python -m benchmarks.fusion_comparison --quick` runs as documented.
Skipped without PyTorch (an optional benchmark dependency)."""

from absl.testing import absltest
from absl.testing import parameterized
import pytest

pytest.importorskip("torch")

# pylint: disable=wrong-import-position
from benchmarks import fusion_comparison  # noqa: E402
from tests import cli


class DefaultsTest(absltest.TestCase):
    def test_default_run_leaves_out_the_nn_bilinear_peers(self):
        self.assertEqual(
            set(fusion_comparison.DEFAULT_FUSIONS),
            set(fusion_comparison.FUSIONS) - {"tucker", "block_tucker"},
        )
        self.assertIn("ban", fusion_comparison.DEFAULT_FUSIONS)


class AgreementTest(parameterized.TestCase):
    @parameterized.product(
        name=fusion_comparison.FUSIONS, expand=(True, False)
    )
    def test_same_weights_same_outputs(self, name, expand):
        layer, module, inputs = fusion_comparison.make_pair(
            name, quick=True, expand=expand
        )
        self.assertLess(
            fusion_comparison.outputs_diff(layer, module, inputs), 1e-5
        )
        self.assertEqual(
            fusion_comparison.trainable_parameters(layer),
            fusion_comparison.trainable_parameters(module),
        )

    @parameterized.parameters(*fusion_comparison.FUSIONS)
    def test_bfloat16_twins_compute_the_same_function(self, name):
        layer, module, inputs = fusion_comparison.make_pair(name, quick=True)
        twin = fusion_comparison.bfloat16_twin(layer, inputs)
        # Every sublayer computes in bfloat16, its variables in float32.
        self.assertEqual(twin.compute_dtype, "bfloat16")
        for sublayer in twin._flatten_layers():
            self.assertEqual(sublayer.compute_dtype, "bfloat16", sublayer)
        for variable in twin.weights:
            self.assertEqual(variable.dtype, layer.weights[0].dtype)
        errors = fusion_comparison.bfloat16_errors(layer, twin, module, inputs)
        for error in errors:
            # Rounded (not 0), but within bfloat16's reach of float32.
            self.assertGreater(error, 0.0)
            self.assertLessEqual(error, fusion_comparison.BFLOAT16_TOLERANCE)

    def test_one_training_step_of_each(self):
        layer, module, inputs = fusion_comparison.make_pair("block", True)
        target = fusion_comparison.target_like((4, 5, 7))
        before = [v.numpy().copy() for v in layer.trainable_variables]
        fusion_comparison.keras_step(layer, inputs, target, jit=False)()
        moved = [
            (b != v.numpy()).any()
            for b, v in zip(before, layer.trainable_variables)
        ]
        self.assertTrue(all(moved))
        loss = fusion_comparison.torch_step(module, inputs, target)()
        self.assertGreater(float(loss.detach()), 0.0)

    def test_one_bfloat16_training_step_of_each(self):
        layer, module, inputs = fusion_comparison.make_pair("mlb", True)
        twin = fusion_comparison.bfloat16_twin(layer, inputs)
        target = fusion_comparison.target_like((4, 5, 12))
        before = [v.numpy().copy() for v in twin.trainable_variables]
        loss, _ = fusion_comparison.keras_step(
            twin, inputs, target, jit=False
        )()
        self.assertEqual(loss.dtype, "float32")
        moved = [
            (b != v.numpy()).any()
            for b, v in zip(before, twin.trainable_variables)
        ]
        self.assertTrue(all(moved))
        loss = fusion_comparison.torch_step(
            module, inputs, target, "mixed_bfloat16"
        )()
        self.assertEqual(str(loss.dtype), "torch.float32")
        self.assertGreater(float(loss.detach()), 0.0)


class SmokeTest(absltest.TestCase):
    @pytest.mark.slow  # about a minute: TensorFlow, PyTorch, three fusions
    def test_quick_run_as_documented(self):
        # A subprocess, as a user runs it (TensorFlow and PyTorch's Adam in
        # one process: benchmarks.torch_cpu keeps triton out).
        result = cli.run_module(
            "benchmarks.fusion_comparison",
            "--quick",
            "--fusions=mlb,block,ban",
            "--precisions=float32,mixed_bfloat16",
        )
        self.assertEqual(
            result.returncode, 0, result.stdout[-3000:] + result.stderr[-3000:]
        )
        timed = (
            r" \| [\d×· ]+ \| [\d,]+ \| [\d.e+-]+ \| {} \| "
            r"\d+ \| \d+ \| \d+ \| [\d.]+× \| [\d.]+× \| [\d.]+ \| "
            r"\d+ \(\d+\) \| [\d.]+× \|"
        )
        for name in ("mlb", "block", "ban"):
            self.assertRegex(
                result.stdout, rf"\| {name} \| float32" + timed.format("—")
            )
            self.assertRegex(
                result.stdout,
                rf"\| {name} \| mixed_bfloat16"
                + timed.format(r"[\d.e+-]+ / [\d.e+-]+"),
            )
        for dtype in ("float32", "bfloat16"):
            self.assertRegex(
                result.stdout,
                rf"512² {dtype} matmul, same run: TensorFlow [\d.]+ ms, "
                r"PyTorch [\d.]+ ms \([\d.]+×",
            )

    def test_unknown_fusion_is_a_usage_error(self):
        result = cli.run_module(
            "benchmarks.fusion_comparison", "--fusions=mlb,nope"
        )
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(
            "--fusions: unknown ['nope']; choose from", result.stderr
        )

    def test_unknown_precision_is_a_usage_error(self):
        result = cli.run_module(
            "benchmarks.fusion_comparison", "--precisions=float16"
        )
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(
            result.stderr.strip().splitlines()[-1],
            "--precisions: unknown ['float16']; choose from ['float32', "
            "'mixed_bfloat16'], got 'float16'.",
        )


if __name__ == "__main__":
    absltest.main()
