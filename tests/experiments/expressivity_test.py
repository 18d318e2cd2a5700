"""The expressivity binary: one width end to end, the width search, and bad
flags named in the error."""

import json
import os
import shutil
import tempfile

from absl import app
from absl import flags
from absl.testing import absltest
from absl.testing import flagsaver

from mi_zoo.experiments import expressivity
from tests.training import event_files

FLAGS = flags.FLAGS


class ExpressivityBinaryTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        if not FLAGS.is_parsed():
            FLAGS(["expressivity_test"])
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.model_dir = os.path.join(self.dir, "run")

    def _flags(self, *extra):
        return [
            "expressivity",
            f"--model_dir={self.model_dir}",
            "--target_function=dot",
            "--input_dim=3",
            "--expressivity_model=mlp",
            "--widths=8",
            "--train_steps=20",
            "--batch_size=16",
            "--log_every=10",
            "--eval_every=10",
            "--eval_batch_size=64",
            "--image_every=0",
            "--histogram_every=0",
            "--noexport",
            "--expressivity_train_examples=256",
            "--expressivity_eval_examples=128",
            *extra,
        ]

    def test_one_width_trains_and_logs(self):
        with flagsaver.flagsaver():
            FLAGS(self._flags())
            results = expressivity.train_and_report()
        self.assertEqual(results["step"], 20)
        self.assertEqual(results["parameters"], 6 * 8 + 8 + 8 + 1)
        self.assertGreater(results["eval"]["mse"], 0)
        self.assertGreater(results["target_variance"], 0)
        self.assertTrue(
            os.path.exists(os.path.join(self.model_dir, "results.json"))
        )
        tags = event_files.read_tags(os.path.join(self.model_dir, "eval"))
        for tag in ("eval/mse", "eval/target_variance", "eval/normalized_mse"):
            self.assertIn(tag, tags)
        self.assertEqual([s for s, _ in tags["eval/mse"]], [10, 20])
        with open(os.path.join(self.model_dir, "flags.json")) as f:
            settings = json.load(f)
        self.assertEqual(settings["target_function"], "dot")

    def test_search_reports_smallest_width(self):
        # mi_low_rank, ranks 1..2 with a huge threshold: rank 1 passes.
        with flagsaver.flagsaver():
            FLAGS(
                self._flags(
                    "--expressivity_model=mi_low_rank",
                    "--expressivity_search",
                    "--train_steps=5",
                    "--eval_every=0",
                    "--mse_threshold=1e6",
                )
            )
            summary = expressivity.train_and_report()
        self.assertTrue(summary["reached"])
        self.assertEqual(summary["width"], 1)
        self.assertTrue(
            os.path.exists(
                os.path.join(self.model_dir, "width_1", "results.json")
            )
        )
        self.assertTrue(
            os.path.exists(os.path.join(self.model_dir, "search.json"))
        )
        # A tiny threshold is not reached up to --expressivity_max_width.
        with flagsaver.flagsaver():
            FLAGS(
                self._flags(
                    "--expressivity_search",
                    "--train_steps=5",
                    "--eval_every=0",
                    "--mse_threshold=1e-9",
                    "--expressivity_min_width=2",
                    "--expressivity_max_width=4",
                    f"--model_dir={self.dir}/b",
                )
            )
            summary = expressivity.train_and_report()
        self.assertFalse(summary["reached"])
        self.assertEqual([r["width"] for r in summary["tried"]], [2, 4])

    def test_bad_flags(self):
        cases = [
            ("--target_function=cube", "--target_function='cube'"),
            ("--expressivity_model=cnn", "--expressivity_model='cnn'"),
            ("--input_dim=0", "--input_dim=0"),
            ("--widths=4,x", "--widths=4,x"),
            ("--widths=0", "--widths=0"),
            ("--mse_threshold=0", "--mse_threshold"),
            ("--model_dir=", "--model_dir is required"),
        ]
        for extra, message in cases:
            with self.subTest(extra=extra), flagsaver.flagsaver():
                FLAGS(self._flags(extra))
                with self.assertRaisesRegex(app.UsageError, message):
                    expressivity.train_and_report()
        with flagsaver.flagsaver():
            FLAGS(
                self._flags(
                    "--expressivity_search",
                    "--expressivity_min_width=8",
                    "--expressivity_max_width=4",
                )
            )
            with self.assertRaisesRegex(
                app.UsageError, "--expressivity_max_width=4"
            ):
                expressivity.train_and_report()


if __name__ == "__main__":
    absltest.main()
