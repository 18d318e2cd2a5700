"""The explain binary on a tiny trained run, and its bad flags."""

import os
import shutil
import tempfile

from absl import app
from absl import flags
from absl.testing import absltest
from absl.testing import flagsaver
from PIL import Image
import pytest

from mi_zoo.experiments import explain
from mi_zoo.experiments import vqa

FLAGS = flags.FLAGS
# A tiny vqa run: MLB (attention and a Hadamard fusion) on 200 Sort-of-CLEVR
# questions.
TINY_MLB = [
    "--dataset=sort_of_clevr",
    "--model=mlb",
    "--model_hparams=question_units=8,joint_size=8",
    "--train_limit=200",
    "--eval_limit=40",
    "--batch_size=8",
    "--eval_batch_size=20",
    "--eval_every=0",
    "--image_every=0",
    "--histogram_every=0",
    "--num_images=2",
    "--train_steps=2",
]


class ExplainBinaryTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        if not FLAGS.is_parsed():
            FLAGS(["explain_test"])
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def _train(self, model_dir, *extra):
        with flagsaver.flagsaver():
            FLAGS(["vqa", f"--model_dir={model_dir}", *TINY_MLB, *extra])
            vqa.train_and_report()

    def _explain(self, *argv):
        with flagsaver.flagsaver():
            FLAGS(["explain", *argv])
            return explain.explain()

    @pytest.mark.slow  # 40-90 s here: run with -m slow (and by bazel test)
    def test_figures_from_the_exported_model_and_from_a_checkpoint(self):
        run = os.path.join(self.dir, "run")
        self._train(run)
        for source in ("model.keras", "checkpoint"):
            if source == "checkpoint":  # As if the run had not finished.
                os.remove(os.path.join(run, "model.keras"))
            out = os.path.join(self.dir, source)
            table = self._explain(
                f"--model_dir={run}",
                f"--explain_dir={out}",
                "--explain_figures=3",
                "--explain_batch_size=2",
            )
            self.assertIsNone(table)  # Sort-of-CLEVR: no pointing game.
            names = sorted(os.listdir(out))
            self.assertEqual(
                names,
                ["example_000.png", "example_001.png", "example_002.png"],
            )
            with Image.open(os.path.join(out, names[0])) as image:
                width, height = image.size
            self.assertGreater(width, 192 * 3)  # Hadamard + 2 glimpses.
            self.assertGreater(height, 192)

    def test_bad_model_dir(self):
        with self.assertRaisesRegex(
            app.UsageError, "--model_dir .* is required"
        ):
            self._explain()
        with self.assertRaisesRegex(
            app.UsageError, f"--model_dir={self.dir} holds no run"
        ):
            self._explain(f"--model_dir={self.dir}")


if __name__ == "__main__":
    absltest.main()
