"""The evaluate and export_preset binaries and predict --preset, run as a
user runs them (subprocesses): the final JSON line, a run exported as a
preset that reproduces its metadata, and the one-line errors."""

import json
import os
import shutil
import tempfile

from absl.testing import absltest
import pytest

from mi_zoo.core import presets
from mi_zoo.training import run_directory
from tests import cli
from tests.experiments import scenes

QUESTION = "is the red object on the left ?"


_run = cli.run_module


class EvaluateTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = tempfile.mkdtemp()
        cls.name = presets.list_presets()[0]
        cls.preset = presets.preset_dir(cls.name)
        cls.metadata = presets.read_metadata(cls.preset)
        # A finished vqa run of the preset's model: its model and codec with
        # the run's flags.json and results.json.
        cls.run_dir = os.path.join(cls.dir, "run")
        os.makedirs(cls.run_dir)
        for file in (presets.MODEL_FILE, presets.CODEC_FILE):
            shutil.copyfile(
                os.path.join(cls.preset, file),
                os.path.join(cls.run_dir, file),
            )
        config = presets.read_config(cls.preset)
        presets.write_json(
            cls.run_dir,
            run_directory.FLAGS_FILE,
            {
                "model": config["model"],
                "model_size": config["model_size"],
                "model_hparams": config["model_hparams"],
                "dataset": config["dataset"],
                "dataset_config": None,
            },
        )
        presets.write_json(
            cls.run_dir,
            run_directory.RESULTS_FILE,
            {"step": 5, "parameters": 7, "eval": {"accuracy": 0.5}},
        )

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    def assertJsonLine(self, stdout, metadata):
        result = json.loads(stdout.strip().splitlines()[-1])
        self.assertEqual(set(result), {"overall", "by_type"})
        self.assertAlmostEqual(
            result["overall"], metadata["accuracy"]["overall"], delta=0.005
        )
        self.assertEqual(
            list(result["by_type"]), list(metadata["accuracy"]["by_type"])
        )
        return result

    def test_evaluate_a_preset_on_its_documented_split(self):
        done = _run("mi_zoo.experiments.evaluate", f"--preset={self.name}")
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        result = self.assertJsonLine(done.stdout, self.metadata)
        lines = done.stdout.strip().splitlines()
        split = self.metadata["split"]
        self.assertEqual(
            lines[0],
            f"{self.name} on a fresh {split['dataset']} split: seed "
            f"{split['seed']}, {split['num_images']} images, "
            f"{split['questions']} questions",
        )
        self.assertLen(lines, len(result["by_type"]) + 3)

    @pytest.mark.slow  # 15-60 s: run with -m slow (and by bazel test)
    def test_export_then_evaluate_and_predict(self):
        out = os.path.join(self.dir, "presets")
        argv = [
            f"--model_dir={self.run_dir}",
            "--name=mine",
            f"--out={out}",
            "--seed=9",
            "--num_images=3",
            "--report_num_images=2",
            "--train_command=python -m mi_zoo.experiments.vqa",
        ]
        done = _run("mi_zoo.experiments.export_preset", *argv)
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        mine = os.path.join(out, "mine")
        self.assertEqual(sorted(os.listdir(mine)), sorted(presets.FILES))
        metadata = presets.read_metadata(mine)
        self.assertEqual(
            metadata["split"],
            {
                "dataset": "sort_of_clevr",
                "options": {},
                "seed": 9,
                "num_images": 3,
                "questions": 60,
            },
        )
        self.assertEqual(metadata["report"]["seed"], 10)
        self.assertEqual(
            metadata["commands"]["export"],
            "python -m mi_zoo.experiments.export_preset " + " ".join(argv),
        )
        self.assertEqual(
            presets.read_config(mine), presets.read_config(self.preset)
        )
        # The preset reproduces the accuracy it documents ...
        done = _run("mi_zoo.experiments.evaluate", f"--preset={mine}")
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        self.assertJsonLine(done.stdout, metadata)
        # ... as the run does on the same split.
        done = _run(
            "mi_zoo.experiments.evaluate",
            f"--model_dir={self.run_dir}",
            "--seed=9",
            "--num_images=3",
        )
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        self.assertJsonLine(done.stdout, metadata)
        # Exporting again needs --overwrite.
        done = _run("mi_zoo.experiments.export_preset", *argv)
        self.assertEqual(done.returncode, 1)
        self.assertIn(
            f"error: The preset folder exists: pass --overwrite to replace "
            f"it, got --out={out} --name=mine.",
            done.stderr,
        )
        # predict --preset answers as predict --model_dir does.
        image = scenes.draw_scene(os.path.join(self.dir, "scene.png"))
        printed = []
        for flag in (f"--preset={mine}", f"--model_dir={self.run_dir}"):
            done = _run(
                "mi_zoo.experiments.predict",
                flag,
                f"--image={image}",
                f"--question={QUESTION}",
                "--top_k=2",
            )
            self.assertEqual(done.returncode, 0, done.stderr[-3000:])
            printed.append(done.stdout)
        self.assertLen(printed[0].strip().splitlines(), 2)
        self.assertEqual(printed[0], printed[1])

    @pytest.mark.slow  # 40-90 s here: run with -m slow (and by bazel test)
    def test_errors_are_one_line(self):
        missing = os.path.join(self.dir, "missing")
        names = ", ".join(presets.list_presets())
        for module, argv, code, message in (
            (
                "evaluate",
                ["--preset=nope"],
                1,
                f"error: Unknown preset: the shipped presets are {names} (or "
                f"give a preset directory, one holding config.json), got "
                f"preset='nope'.",
            ),
            (
                "evaluate",
                [f"--model_dir={missing}"],
                1,
                f"error: model_dir='{missing}' does not exist (no such "
                f"folder).",
            ),
            (
                "evaluate",
                [],
                2,
                "error: Give one of --preset and --model_dir, got "
                "--preset=None and --model_dir=None.",
            ),
            (
                "evaluate",
                [f"--preset={self.name}", "--model_dir=/tmp"],
                2,
                f"error: Give one of --preset and --model_dir, got "
                f"--preset={self.name} and --model_dir=/tmp.",
            ),
            (
                "predict",
                ["--preset=nope", "--image=x.png", "--question=q"],
                1,
                f"error: Unknown preset: the shipped presets are {names}",
            ),
            (
                "predict",
                ["--image=x.png", "--question=q"],
                2,
                "error: Give one of --model_dir and --preset, got "
                "--model_dir=None and --preset=None.",
            ),
            (
                "export_preset",
                ["--name=x"],
                2,
                "error: --model_dir is required.",
            ),
            (
                "export_preset",
                [f"--model_dir={missing}", "--name=x"],
                1,
                f"error: model_dir='{missing}' does not exist (no such "
                f"folder).",
            ),
            (
                "export_preset",
                [f"--model_dir={self.run_dir}", "--name=a/b"],
                1,
                "error: --name must be a folder name (no /, not hidden), "
                "got --name=a/b.",
            ),
        ):
            with self.subTest(module=module, argv=argv):
                done = _run(f"mi_zoo.experiments.{module}", *argv)
                self.assertEqual(done.returncode, code, done.stderr[-3000:])
                self.assertNotIn("Traceback", done.stderr)
                errors = [
                    line
                    for line in done.stderr.splitlines()
                    if line.startswith("error:")
                ]
                self.assertLen(errors, 1, done.stderr)
                self.assertStartsWith(errors[0], message)


if __name__ == "__main__":
    absltest.main()
