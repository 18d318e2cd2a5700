"""The scaling benchmark: the binary's flags, the table from run results,
and (slow) a real two-process run."""

import math
from unittest import mock

from absl.testing import absltest
import pytest

from benchmarks import scaling


class ScalingTest(absltest.TestCase):
    def test_binary_flags(self):
        common = scaling.binary_flags("mlb", "small", "sort_of_clevr", 64, 60)
        self.assertIn("--log_every=30", common)  # rate of the last half
        self.assertIn("--train_steps=60", common)
        self.assertIn("--noexport", common)

    def test_rows_and_ratios(self):
        rates = {"one_device": [100.0, 110.0], "mirrored x2": [80.0, 90.0]}
        calls = {c: iter(r) for c, r in rates.items()}

        def fake(config, common, timeout):
            del common, timeout
            return {"train": {"examples_per_second": next(calls[config])}}

        with mock.patch.object(scaling, "run_config", fake):
            rows, text = scaling.run(["one_device", "mirrored x2"], [], 2, 1)
        self.assertEqual(rows[0]["examples_per_second"], 105.0)
        ratio = rows[1]["ratio_to_one_device"]
        self.assertTrue(math.isfinite(ratio))
        self.assertAlmostEqual(ratio, 85.0 / 105.0)
        self.assertIn("| mirrored x2 | 2 | 85.0 | 0.81× |", text)

    @pytest.mark.slow
    def test_real_runs(self):
        common = scaling.binary_flags(
            "concat",
            "small",
            "sort_of_clevr",
            8,
            4,
            "question_units=8,hidden=8",
        )
        rows, _ = scaling.run(["one_device", "multi_worker"], common, 1, 600)
        for row in rows:
            self.assertGreater(row["examples_per_second"], 0)


if __name__ == "__main__":
    absltest.main()
