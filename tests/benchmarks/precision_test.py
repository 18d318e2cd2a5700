"""benchmarks.precision: the precisions' names, Keras's policy set and
restored, PyTorch's autocast."""

import importlib.util
import unittest

from absl.testing import absltest
import keras

from benchmarks import precision
from benchmarks import torch_cpu


class PrecisionTest(absltest.TestCase):
    def test_compute_dtypes(self):
        self.assertEqual(precision.compute_dtype("float32"), "float32")
        self.assertEqual(precision.compute_dtype("mixed_bfloat16"), "bfloat16")

    def test_unknown_precision(self):
        with self.assertRaisesRegex(
            ValueError,
            r"precision must be one of \('float32', 'mixed_bfloat16'\), "
            r"got precision='bfloat16'",
        ):
            precision.compute_dtype("bfloat16")

    def test_dtype_policy_is_restored_even_after_an_error(self):
        before = keras.config.dtype_policy().name
        with precision.dtype_policy("mixed_bfloat16"):
            layer = keras.layers.Dense(2)
        self.assertEqual(layer.compute_dtype, "bfloat16")
        self.assertEqual(layer.variable_dtype, "float32")
        self.assertEqual(keras.config.dtype_policy().name, before)
        with self.assertRaises(RuntimeError):
            with precision.dtype_policy("mixed_bfloat16"):
                raise RuntimeError("inside")
        self.assertEqual(keras.config.dtype_policy().name, before)

    @unittest.skipIf(
        importlib.util.find_spec("torch") is None,
        'needs PyTorch: pip install -e ".[bench]"',
    )
    def test_torch_autocast(self):
        torch = torch_cpu.import_torch()
        a = torch.ones(2, 2)
        with precision.torch_autocast(torch, "mixed_bfloat16"):
            self.assertEqual((a @ a).dtype, torch.bfloat16)
        with precision.torch_autocast(torch, "float32"):
            self.assertEqual((a @ a).dtype, torch.float32)


if __name__ == "__main__":
    absltest.main()
