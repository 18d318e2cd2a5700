"""The time-to-accuracy benchmark: threshold crossings, group accuracies and
wall time on hand-made curves, the curve read back from event files, the
table and plot, and a --quick run of the script in a subprocess."""

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from unittest import mock

from absl import app
from absl.testing import absltest
import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from benchmarks import time_to_accuracy as tta
from mi_zoo.viz import plots

_NAN = math.nan


class _TempDirs(absltest.TestCase):
    def _tempdir(self):
        path = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, path, ignore_errors=True)
        return path


def _curve(seconds, non_relational, relational, batch=64, rate=100.0):
    """A curve as `read_curve` returns it, one evaluation per 10 steps."""
    steps = [10 * (i + 1) for i in range(len(seconds))]
    return {
        "steps": steps,
        "examples": [s * batch for s in steps],
        "seconds": list(seconds),
        "accuracy": [(a + b) / 2 for a, b in zip(non_relational, relational)],
        "non_relational": list(non_relational),
        "relational": list(relational),
        "examples_per_second": rate,
        "wall_seconds": seconds[-1] if seconds else 0.0,
        "batch_size": batch,
    }


class CrossingTest(absltest.TestCase):
    def test_first_point_at_or_above_the_threshold(self):
        seconds, examples = [10, 20, 30, 40], [64, 128, 192, 256]
        # Rises above, dips, rises again: the first crossing counts.
        accuracy = [0.5, 0.72, 0.65, 0.91]
        self.assertEqual(
            tta.crossing(seconds, examples, accuracy, 0.7),
            {"seconds": 20.0, "examples": 128},
        )
        self.assertEqual(
            tta.crossing(seconds, examples, accuracy, 0.9),
            {"seconds": 40.0, "examples": 256},
        )

    def test_equal_reaches_and_never_is_none(self):
        self.assertEqual(
            tta.crossing([1, 2], [8, 16], [0.6, 0.7], 0.7),
            {"seconds": 2.0, "examples": 16},
        )
        self.assertIsNone(tta.crossing([1, 2], [8, 16], [0.6, 0.69], 0.7))
        self.assertIsNone(tta.crossing([], [], [], 0.7))

    def test_nan_never_reaches(self):
        self.assertEqual(
            tta.crossing([1, 2, 3], [8, 16, 24], [_NAN, 0.2, 0.99], 0.0),
            {"seconds": 2.0, "examples": 16},
        )

    def test_crossings_move_with_the_threshold(self):
        # Property: on any curve, a higher threshold is reached no earlier.
        rng = np.random.default_rng(0)
        for _ in range(20):
            accuracy = rng.uniform(0, 1, 12)
            seconds = np.cumsum(rng.uniform(1, 5, 12))
            examples = np.arange(1, 13) * 64
            times = [
                tta.crossing(seconds, examples, accuracy, t)
                for t in tta.THRESHOLDS
            ]
            reached = [p["seconds"] for p in times if p is not None]
            self.assertEqual(reached, sorted(reached))
            # And None only after the last reached threshold.
            self.assertEqual(
                [p is None for p in times],
                sorted(p is None for p in times),
            )
            for t, p in zip(tta.THRESHOLDS, times):
                reachable = accuracy.max() >= t
                self.assertEqual(p is not None, reachable)


class GroupAccuracyTest(absltest.TestCase):
    def test_mean_of_the_group_subtypes_only(self):
        values = {
            "eval/accuracy": 0.5,
            "eval/accuracy_by_type/non_relational/shape": 0.9,
            "eval/accuracy_by_type/non_relational/left": 0.6,
            "eval/accuracy_by_type/non_relational/top": 0.3,
            "eval/accuracy_by_type/relational/count": 0.2,
            "eval/accuracy_by_type/relational/closest_shape": 0.4,
        }
        self.assertAlmostEqual(
            tta.group_accuracy(values, "non_relational"), 0.6
        )
        self.assertAlmostEqual(tta.group_accuracy(values, "relational"), 0.3)

    def test_missing_group_is_nan(self):
        values = {"eval/accuracy_by_type/non_relational/shape": 1.0}
        self.assertTrue(math.isnan(tta.group_accuracy(values, "relational")))


class ActiveSecondsTest(absltest.TestCase):
    def test_gaps_between_processes_do_not_count(self):
        segments = [[100.0, 130.0], [200.0, 260.0], [300.0, 310.0]]
        for wall_time, expected in [
            (90.0, 0.0),  # before the first process
            (100.0, 0.0),
            (115.0, 15.0),
            (130.0, 30.0),
            (150.0, 30.0),  # between processes: the time spent so far
            (200.0, 30.0),
            (230.0, 60.0),
            (305.0, 95.0),
            (320.0, 110.0),  # after the last: counts from its start
        ]:
            with self.subTest(wall_time=wall_time):
                self.assertAlmostEqual(
                    tta.active_seconds(wall_time, segments), expected
                )

    def test_no_segments(self):
        self.assertEqual(tta.active_seconds(5.0, []), 0.0)


def _write_run(run_dir, batch, evaluations, rates):
    """A run directory as the vqa binary leaves it: flags.json, eval
    events (one scalar per event, as the engine writes them) and train
    events of the training rate; returns the wall times before and after
    writing."""
    os.makedirs(run_dir)
    with open(os.path.join(run_dir, "flags.json"), "w") as f:
        json.dump({"batch_size": batch}, f)
    start = time.time()
    writer = tf.summary.create_file_writer(os.path.join(run_dir, "eval"))
    with writer.as_default():
        for step, values in evaluations:
            for tag, value in values.items():
                tf.summary.scalar(tag, value, step=step)
    writer.flush()
    writer = tf.summary.create_file_writer(os.path.join(run_dir, "train"))
    with writer.as_default():
        for i, rate in enumerate(rates):
            tf.summary.scalar("train/examples_per_second", rate, step=i + 1)
    writer.flush()
    return start, time.time()


def _types(non_relational, relational):
    prefix = "eval/accuracy_by_type/"
    return {
        "eval/loss": 1.0,
        "eval/accuracy": 0.5,
        f"{prefix}non_relational/shape": non_relational[0],
        f"{prefix}non_relational/left": non_relational[1],
        f"{prefix}relational/count": relational[0],
        f"{prefix}relational/closest_shape": relational[1],
    }


class ReadCurveTest(_TempDirs):
    def setUp(self):
        super().setUp()
        self.dir = self._tempdir()

    def test_curve_from_event_files(self):
        run_dir = os.path.join(self.dir, "run")
        start, end = _write_run(
            run_dir,
            8,
            [
                (10, _types((0.5, 0.7), (0.2, 0.4))),
                (20, _types((0.9, 1.0), (0.6, 0.8))),
                (20, {"eval/loss": 0.5}),  # More of the same evaluation.
                (30, {"eval/loss": 0.4}),  # Not an evaluation by type.
            ],
            [100.0, 300.0, 200.0],
        )
        tta.write_segments(run_dir, [[start - 5.0, end + 1.0]])
        curve = tta.read_curve(run_dir)
        self.assertEqual(curve["steps"], [10, 20])
        self.assertEqual(curve["examples"], [80, 160])
        np.testing.assert_allclose(curve["non_relational"], [0.6, 0.95])
        np.testing.assert_allclose(curve["relational"], [0.3, 0.7])
        self.assertEqual(curve["examples_per_second"], 200.0)
        self.assertEqual(curve["batch_size"], 8)
        self.assertAlmostEqual(curve["wall_seconds"], end - start + 6.0)
        for seconds in curve["seconds"]:
            self.assertBetween(seconds, 5.0, end - start + 5.0)

    def test_unknown_end_is_the_last_summary(self):
        run_dir = os.path.join(self.dir, "killed")
        start, end = _write_run(
            run_dir, 4, [(5, _types((1, 1), (1, 1)))], [10.0]
        )
        closed = tta.closed_segments([[start - 2.0, None]], run_dir)
        self.assertEqual(closed[0][0], start - 2.0)
        self.assertBetween(closed[0][1], start, end)
        # A process that wrote nothing ends where it started.
        later = [[start - 2.0, None], [end + 10.0, None]]
        closed = tta.closed_segments(later, run_dir)
        self.assertEqual(closed[1], [end + 10.0, end + 10.0])


class TablePlotAndRunsTest(_TempDirs):
    def test_summary_and_table(self):
        curves = {
            "a": _curve([60, 120, 240], [0.5, 0.92, 0.99], [0.3, 0.6, 0.71]),
            "b": _curve([30], [0.4], [_NAN], rate=50.0),
        }
        rows = tta.summarise(curves)
        self.assertEqual(
            rows["a"]["thresholds"]["0.9"]["non_relational"],
            {"seconds": 120.0, "examples": 1280},
        )
        self.assertIsNone(rows["a"]["thresholds"]["0.9"]["relational"])
        self.assertEqual(rows["a"]["best"]["relational"], 0.71)
        self.assertTrue(math.isnan(rows["b"]["best"]["relational"]))
        table = tta.markdown(rows)
        self.assertIn(
            "| `a` | 100 | 4.0 | 1920 | 0.990 / 0.710 | 0.990 / 0.710 "
            "| 2.0 min, 1280; 4.0 min, 1920 | 2.0 min, 1280; — "
            "| 4.0 min, 1920; — | 4.0 min, 1920; — |",
            table,
        )
        self.assertIn("| `b` | 50 | 0.5 | 640 | 0.400 / nan", table)

    def test_plot_draws_every_model(self):
        curves = {
            "a": _curve([60, 120], [0.5, 0.9], [0.3, 0.6]),
            "b": _curve([30, 90], [0.4, 0.8], [0.2, 0.7]),
        }
        image = tta.plot(curves, "title")
        self.assertEqual(image.shape, (480, 760, 3))
        self.assertEqual(image.dtype, np.uint8)
        for color in plots.COLORS[:2]:
            self.assertTrue((image == color).all(axis=-1).any(), color)

    def test_spent_budget_trains_nothing(self):
        run_dir = self._tempdir()
        tta.write_segments(run_dir, [[0.0, 100.0]])
        with mock.patch.object(
            tta.subprocess, "run", side_effect=AssertionError("trained")
        ):
            seconds = tta.run_model("film", run_dir, 50.0, 1, {})
        self.assertEqual(seconds, 0.0)

    def test_binary_flags(self):
        settings = {
            "model_size": "small",
            "batch_size": 32,
            "eval_every": 100,
            "train_limit": 256,
            "eval_limit": None,
            "eval_split": "test",
        }
        command = tta.binary_flags("rn", settings)
        for flag in (
            "--model=rn",
            "--batch_size=32",
            "--eval_every=100",
            f"--checkpoint_every={tta.MAX_STEPS}",
            "--train_limit=256",
            "--eval_split=test",
            f"--train_steps={tta.MAX_STEPS}",
        ):
            self.assertIn(flag, command)
        self.assertFalse(any(f.startswith("--eval_limit") for f in command))

    def test_errors(self):
        with self.assertRaisesRegex(
            app.UsageError,
            r"--models: choose from .*'film'.*, got \['film', 'nope'\]\.$",
        ):
            tta.check_models(["film", "nope"])
        missing = os.path.join(self._tempdir(), "x")
        with self.assertRaisesRegex(
            app.UsageError,
            rf"run without --tta_reuse first.*got no flags.json in "
            rf"\['{missing}'\]\.$",
        ):
            tta.check_runs({"film": missing})


class QuickRunTest(_TempDirs):
    @pytest.mark.slow  # 15-60 s: run with -m slow (and by bazel test)
    def test_quick_writes_table_json_and_png(self):
        out = self._tempdir()
        root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
        command = [
            sys.executable,
            "-m",
            "benchmarks.time_to_accuracy",
            "--quick",
            f"--tta_out_dir={out}",
            f"--output_json={out}/copy.json",
        ]
        done = subprocess.run(
            command,
            cwd=root,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
            capture_output=True,
            text=True,
            timeout=600,
        )
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        self.assertIn("| `cnn_mlp` |", done.stdout)
        with open(os.path.join(out, "results.md")) as f:
            self.assertIn("| `cnn_mlp` |", f.read())
        with open(os.path.join(out, "results.json")) as f:
            results = json.load(f)
        with open(os.path.join(out, "copy.json")) as f:
            self.assertEqual(json.load(f), results)
        curve = results["curves"]["cnn_mlp"]
        self.assertNotEmpty(curve["steps"])
        self.assertGreater(curve["examples_per_second"], 0)
        self.assertSetEqual(
            set(results["rows"]["cnn_mlp"]["thresholds"]),
            {"0.7", "0.9", "0.95", "0.98"},
        )
        with Image.open(os.path.join(out, "time_to_accuracy.png")) as png:
            self.assertEqual(png.size, (760, 480))
        self.assertNotEmpty(os.listdir(os.path.join(out, "summary")))


if __name__ == "__main__":
    absltest.main()
