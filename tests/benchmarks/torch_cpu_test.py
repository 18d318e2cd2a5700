"""benchmarks.torch_cpu.gemm_floor: both frameworks' matmul timed side by
side, and the line the comparison scripts print. Skipped without PyTorch
(an optional benchmark dependency)."""

import importlib.util
import math
import unittest

from absl.testing import absltest

from benchmarks import torch_cpu


@unittest.skipIf(
    importlib.util.find_spec("torch") is None,
    'needs PyTorch: pip install -e ".[bench]"',
)
class GemmFloorTest(absltest.TestCase):
    def test_times_both_frameworks(self):
        floor = torch_cpu.gemm_floor(size=64, repeats=1)
        self.assertEqual((floor["size"], floor["dtype"]), (64, "float32"))
        for key in ("tensorflow_ms", "torch_ms", "ratio"):
            self.assertTrue(
                math.isfinite(floor[key]) and floor[key] > 0, (key, floor)
            )
        self.assertAlmostEqual(
            floor["ratio"], floor["tensorflow_ms"] / floor["torch_ms"]
        )

    def test_bfloat16(self):
        floor = torch_cpu.gemm_floor(size=64, repeats=1, dtype="bfloat16")
        self.assertEqual(floor["dtype"], "bfloat16")
        self.assertTrue(math.isfinite(floor["ratio"]), floor)

    def test_other_dtypes_are_refused(self):
        with self.assertRaisesRegex(
            ValueError,
            r"dtype must be 'float32' or 'bfloat16', got dtype='float16'",
        ):
            torch_cpu.gemm_floor(size=8, repeats=1, dtype="float16")

    def test_over_gemm(self):
        floor = {
            "size": 8,
            "tensorflow_ms": 1.0,
            "torch_ms": 2.0,
            "ratio": 0.5,
        }
        row = torch_cpu.over_gemm({"r": 0.4}, floor, "r")
        self.assertEqual(
            row, {"r": 0.4, "gemm": floor, "ratio_over_gemm": 0.8}
        )

    def test_line(self):
        line = torch_cpu.gemm_floor_line(
            {
                "size": 2048,
                "dtype": "float32",
                "tensorflow_ms": 41.44,
                "torch_ms": 83.8,
                "ratio": 0.4945,
            }
        )
        self.assertEqual(
            line,
            "2048² float32 matmul, same run: TensorFlow 41.4 ms, PyTorch "
            "83.8 ms (0.49×, the GEMM ratio; '÷ GEMM' = a ratio over it)",
        )


if __name__ == "__main__":
    absltest.main()
