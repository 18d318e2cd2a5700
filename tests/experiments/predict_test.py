"""From a trained run to answers about a user's own image: a tiny vqa run
trained through the real binary (a subprocess, as users run it), then
`Predictor.from_run`, the predict binary and its errors."""

import os
import shutil
import tempfile

from absl.testing import absltest
import keras
import numpy as np
from PIL import Image
import pytest

from mi_zoo.data import sort_of_clevr as soc
from mi_zoo.data import vqa_codec
from mi_zoo.predict import Predictor
from mi_zoo.tasks import vqa as vqa_task
from mi_zoo.training import run_directory
from tests import cli
from tests.experiments import scenes

# The explain binary's tiny run (tests/experiments/explain_test.py): MLB
# (attention and a Hadamard fusion) on 200 Sort-of-CLEVR questions, 2 steps.
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
QUESTION = "what is the shape of the red object ?"


_run = cli.run_module


class PredictTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = tempfile.mkdtemp()
        cls.run_dir = os.path.join(cls.dir, "run")
        done = _run(
            "mi_zoo.experiments.vqa", f"--model_dir={cls.run_dir}", *TINY_MLB
        )
        assert done.returncode == 0, done.stderr[-3000:]
        cls.image = scenes.draw_scene(os.path.join(cls.dir, "scene.png"))
        cls.predictor = Predictor.from_run(cls.run_dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    def assertAnswers(self, answers, top_k):
        self.assertLen(answers, top_k)
        for answer, probability in answers:
            self.assertIn(answer, soc.ANSWERS)
            self.assertBetween(probability, 0.0, 1.0)
        probabilities = [p for _, p in answers]
        self.assertEqual(probabilities, sorted(probabilities, reverse=True))
        self.assertLessEqual(sum(probabilities), 1.0 + 1e-6)
        self.assertLen({a for a, _ in answers}, top_k)

    def test_predictor_file_is_the_runs_own(self):
        names = os.listdir(self.run_dir)
        self.assertIn(vqa_codec.FILENAME, names)
        run_dir = run_directory.RunDirectory(
            self.run_dir, {}, outputs=vqa_task.VqaTask.outputs
        )
        self.assertEqual(run_dir.foreign_entries(), [])  # --overwrite ok.

    def test_answers_are_the_models_on_the_training_pipelines_inputs(self):
        # Generated Sort-of-CLEVR images and questions: the predictor's
        # inputs are those the training pipeline feeds (uint8 / 255, the
        # generator's token ids), and its answers the saved model's.
        examples = list(
            soc.generate(num_images=3, seed=7, questions_per_image=2)
        )
        images = [e["image"] for e in examples]
        questions = [soc.detokenize(e["question_tokens"]) for e in examples]
        inputs = self.predictor.inputs(images, questions)
        np.testing.assert_array_equal(
            inputs["question"], [e["question_tokens"] for e in examples]
        )
        np.testing.assert_allclose(
            inputs["image"], np.stack(images) / 255.0, atol=1e-7
        )
        model = keras.models.load_model(
            os.path.join(self.run_dir, run_directory.MODEL_FILE)
        )
        logits = np.asarray(model.predict(inputs, verbose=0), np.float64)
        softmax = np.exp(logits - logits.max(axis=-1, keepdims=True))
        softmax /= softmax.sum(axis=-1, keepdims=True)
        answers = self.predictor.predict_batch(
            images, questions, top_k=len(soc.ANSWERS)
        )
        for row, got in zip(softmax, answers):
            order = np.argsort(-row, kind="stable")
            self.assertEqual(
                [a for a, _ in got], [soc.ANSWERS[i] for i in order]
            )
            np.testing.assert_allclose(
                [p for _, p in got], row[order], atol=1e-5
            )
        self.assertEqual(
            self.predictor(images[0], questions[0], top_k=2), answers[0][:2]
        )

    def test_a_drawn_png_of_another_size(self):
        for question in (QUESTION, "Is the red object on the left?"):
            self.assertAnswers(
                self.predictor(self.image, question, top_k=4), 4
            )
        with Image.open(self.image) as image:
            self.assertEqual(image.size, (200, 150))
            self.assertEqual(
                self.predictor(image, QUESTION),
                self.predictor(self.image, QUESTION),
            )

    def test_run_errors(self):
        with self.assertRaisesRegex(FileNotFoundError, "does not exist"):
            Predictor.from_run(os.path.join(self.dir, "none"))
        empty = os.path.join(self.dir, "empty")
        os.makedirs(empty, exist_ok=True)
        with self.assertRaisesRegex(
            FileNotFoundError,
            "holds no run of the "
            r"vqa binary \(no flags.json\): train "
            "one with python -m "
            "mi_zoo.experiments.vqa",
        ):
            Predictor.from_run(empty)
        unfinished = os.path.join(self.dir, "unfinished")
        shutil.copytree(self.run_dir, unfinished)
        os.remove(os.path.join(unfinished, run_directory.MODEL_FILE))
        with self.assertRaisesRegex(
            FileNotFoundError,
            "has no model.keras: "
            "the run has not finished, or ran with "
            "--noexport",
        ):
            Predictor.from_run(unfinished)

    def test_binary(self):
        explained = os.path.join(self.dir, "explained.png")
        done = _run(
            "mi_zoo.experiments.predict",
            f"--model_dir={self.run_dir}",
            f"--image={self.image}",
            f"--question={QUESTION}",
            "--top_k=3",
            f"--explain={explained}",
        )
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        lines = done.stdout.strip().splitlines()
        self.assertLen(lines, 4)
        printed = [
            (line.split()[1], float(line.split()[0])) for line in lines[:3]
        ]
        self.assertEqual(
            [a for a, _ in printed],
            [a for a, _ in self.predictor(self.image, QUESTION, top_k=3)],
        )
        self.assertAnswers(printed, 3)
        self.assertEqual(lines[3], f"Explanation in {explained}")
        with Image.open(explained) as figure:
            self.assertEqual(figure.format, "PNG")
            width, height = figure.size
        self.assertGreater(width, 192 * 3)  # Hadamard + 2 glimpses.
        self.assertGreater(height, 192)

    @pytest.mark.slow  # 40-90 s here: run with -m slow (and by bazel test)
    def test_binary_errors_are_one_line(self):
        old = os.path.join(self.dir, "old_run")  # Trained before the file.
        shutil.copytree(self.run_dir, old)
        os.remove(os.path.join(old, vqa_codec.FILENAME))
        unreadable = os.path.join(self.dir, "notes.png")
        with open(unreadable, "w") as f:
            f.write("not an image")
        missing = os.path.join(self.dir, "missing")
        for flags, message in (
            (
                [f"--model_dir={missing}"],
                f"error: model_dir='{missing}' does not exist",
            ),
            (
                [f"--model_dir={old}"],
                f"error: model_dir='{old}' holds a run without "
                f"predictor.json .* run the vqa binary on it again with "
                f"its flags and a larger --train_steps",
            ),
            (
                [f"--image={unreadable}"],
                f"error: Image file '{unreadable}' cannot be read",
            ),
            (
                ["--question=what colour is the cat?"],
                "error: The question has words the model does not know: "
                "'colour', 'cat'",
            ),
        ):
            argv = [
                f"--model_dir={self.run_dir}",
                f"--image={self.image}",
                f"--question={QUESTION}",
                *flags,
            ]
            done = _run("mi_zoo.experiments.predict", *argv)
            self.assertEqual(done.returncode, 1, done.stderr)
            self.assertNotIn("Traceback", done.stderr)
            errors = [
                line
                for line in done.stderr.splitlines()
                if line.startswith("error:")
            ]
            self.assertLen(errors, 1, done.stderr)
            self.assertRegex(errors[0], message)
        done = _run(
            "mi_zoo.experiments.predict",
            f"--model_dir={self.run_dir}",
            f"--image={self.image}",
        )
        self.assertEqual(done.returncode, 2)
        self.assertIn("error: --question is required.", done.stderr)
        # The fix the message gives: extending the run writes the file.
        done = _run(
            "mi_zoo.experiments.vqa",
            f"--model_dir={old}",
            *TINY_MLB,
            "--train_steps=3",
        )
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        self.assertEqual(Predictor.from_run(old).codec, self.predictor.codec)


if __name__ == "__main__":
    absltest.main()
