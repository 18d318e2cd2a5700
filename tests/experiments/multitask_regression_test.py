"""The multitask_regression binary: main end to end on tiny settings, and
bad flag values named by their flag."""

import json
import os
import shutil
import tempfile

from absl import app
from absl import flags
from absl.testing import absltest
from absl.testing import flagsaver

from mi_zoo.experiments import multitask_regression
from tests.training import event_files

FLAGS = flags.FLAGS


class MultitaskRegressionBinaryTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        if not FLAGS.is_parsed():
            FLAGS(["multitask_regression_test"])
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.model_dir = os.path.join(self.dir, "run")

    def _flags(self, *extra):
        return [
            "multitask_regression",
            f"--model_dir={self.model_dir}",
            "--num_tasks=4",
            "--conditioning=mi_low_rank",
            "--parameter_budget=1500",
            "--trunk_rank=4",
            "--function_family_examples=16",
            "--function_family_eval_examples=8",
            "--batch_size=16",
            "--train_steps=6",
            "--log_every=2",
            "--eval_every=2",
            "--checkpoint_every=6",
            "--noexport",
            *extra,
        ]

    def test_main_trains_and_reports(self):
        with flagsaver.flagsaver():
            FLAGS(self._flags())
            results = multitask_regression.train_and_report()
        self.assertEqual(results["step"], 6)
        self.assertAlmostEqual(results["parameters"] / 1500, 1, delta=0.02)
        with open(os.path.join(self.model_dir, "results.json")) as f:
            saved = json.load(f)
        self.assertEqual(saved["eval"], results["eval"])
        for key in ("mse", "task_mse/mean", "task_mse/max", "task_mse/min"):
            self.assertGreaterEqual(saved["eval"][key], 0)
        with open(os.path.join(self.model_dir, "flags.json")) as f:
            settings = json.load(f)
        self.assertEqual(settings["conditioning"], "mi_low_rank")
        self.assertEqual(settings["num_tasks"], 4)
        tags = event_files.read_tags(os.path.join(self.model_dir, "eval"))
        self.assertEqual([s for s, _ in tags["eval/mse"]], [2, 4, 6])
        self.assertIn("eval/task_mse/max", tags)
        self.assertIn(
            "train/loss",
            event_files.read_tags(os.path.join(self.model_dir, "train")),
        )

    def test_bad_flag_values(self):
        cases = [
            (
                ("--conditioning=hyper",),
                flags.IllegalFlagValueError,
                "conditioning",
            ),
            (("--num_tasks=0",), flags.IllegalFlagValueError, "num_tasks"),
            (
                ("--function_family=cubic",),
                flags.IllegalFlagValueError,
                "function_family",
            ),
        ]
        for extra, error, message in cases:
            with self.subTest(extra=extra), flagsaver.flagsaver():
                with self.assertRaisesRegex(error, message):
                    FLAGS(self._flags(*extra))
        with flagsaver.flagsaver():
            FLAGS(
                self._flags(
                    "--parameter_budget=20",
                    "--num_tasks=40",
                    "--conditioning=mi_full",
                )
            )
            with self.assertRaisesRegex(
                app.UsageError, "--parameter_budget=20"
            ):
                multitask_regression.train_and_report()
        with flagsaver.flagsaver():
            FLAGS(self._flags("--model_dir="))
            with self.assertRaisesRegex(app.UsageError, "--model_dir"):
                multitask_regression.train_and_report()


if __name__ == "__main__":
    absltest.main()
