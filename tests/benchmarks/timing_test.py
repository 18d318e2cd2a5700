"""The shared benchmark helpers: interleaved timer, ratio, table, JSON."""

import json
import math
import os
import tempfile
import time

from absl.testing import absltest

from benchmarks import timing


class TimingTest(absltest.TestCase):
    def test_interleaved_seconds_orders_and_measures(self):
        calls = []

        def fast():
            calls.append("fast")

        def slow():
            calls.append("slow")
            time.sleep(0.002)

        seconds = timing.interleaved_seconds(
            {"fast": fast, "slow": slow},
            repeats=3,
            iters={"fast": 2, "slow": 2},
        )
        self.assertEqual(calls, ["fast", "fast", "slow", "slow"] * 3)
        self.assertGreater(seconds["slow"], 0.0015)
        self.assertLess(seconds["fast"], seconds["slow"])

    def test_calibrated_rounds(self):
        seconds = timing.seconds_per_call(
            lambda: time.sleep(0.001), repeats=2, min_seconds=0.01
        )
        self.assertGreater(seconds, 0.0009)
        self.assertTrue(math.isfinite(seconds))

    def test_ratio(self):
        self.assertEqual(timing.ratio(3.0, 2.0), 1.5)
        self.assertTrue(math.isnan(timing.ratio(1.0, 0.0)))
        self.assertTrue(math.isnan(timing.ratio(1.0, float("nan"))))

    def test_markdown_table(self):
        text = timing.markdown_table(["a", "b"], [["x", 1], ["y", 2]])
        self.assertEqual(
            text.splitlines(),
            ["| a | b |", "|---|---:|", "| x | 1 |", "| y | 2 |"],
        )

    def test_write_json(self):
        timing.write_json(None, {"ignored": 1})  # no path: nothing written
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "rows.json")
            timing.write_json(path, [{"a": 1.5}])
            with open(path) as f:
                self.assertEqual(json.load(f), [{"a": 1.5}])


if __name__ == "__main__":
    absltest.main()
