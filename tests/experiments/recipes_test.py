"""The papers' recipes (`mi_zoo.experiments.recipes`) and `vqa --recipe`:
every recipe's model builds and its training settings reach the engine,
flags given explicitly override the recipe, the errors, the generated
docs, and one training step of ban8_vqa2 on fixture VQA v2 files."""

import json
import os
import subprocess
import sys
import tempfile

from absl import app
from absl import flags
from absl.testing import absltest
from absl.testing import flagsaver
import pytest

# The package: its __init__ registers rn (mi_zoo.models.relation_network).
from mi_zoo import models as vqa_models
from mi_zoo.core import specs
from mi_zoo.data import vqa_sources
from mi_zoo.experiments import flags as training_flags
from mi_zoo.experiments import recipes
from mi_zoo.experiments import vqa
from mi_zoo.training import trainer
from tests.data import fixtures

FLAGS = flags.FLAGS
ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
)

#: The smallest inputs of each dataset's kind (the image's size does not
#: change a model's weights but its pixel stem's grid).
TINY_SPECS = {
    "vqa2": specs.VqaSpec(
        vocab_size=20,
        question_length=4,
        image_kind="regions",
        image_shape=(4, 8),
        num_answers=3,
        answer_convention="sigmoid",
    ),
    "clevr": specs.VqaSpec(
        vocab_size=20,
        question_length=4,
        image_kind="pixels",
        image_shape=(32, 32, 3),
        num_answers=3,
    ),
    "sort_of_clevr": specs.VqaSpec(
        vocab_size=20,
        question_length=4,
        image_kind="pixels",
        image_shape=(32, 32, 3),
        num_answers=3,
    ),
}
TRAIN_FIELDS = {f for f in trainer.TrainConfig.__dataclass_fields__}


def _parse(*argv):
    FLAGS(["vqa", *argv])


class RecipesTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        if not FLAGS.is_parsed():
            FLAGS(["recipes_test"])
        self.dir = tempfile.mkdtemp()

    def test_every_recipe_builds_its_model_and_config(self):
        """Each recipe names a registered dataset and model, its
        hyper-parameters are its builder's, the model builds at them (the
        question GRU, whose orthogonal initialisation takes 10-60 s on a
        CPU at 1280-4096 units, at 16 units: its width is asserted from
        the parsed value instead), and its training settings make a valid
        TrainConfig."""
        self.assertLen(recipes.RECIPES.names(), 9)
        for name in recipes.RECIPES.names():
            with self.subTest(recipe=name):
                recipe = recipes.RECIPES.get(name)
                values = recipe.values()
                self.assertIn(
                    values["dataset"], vqa_sources.VQA_DATASETS.names()
                )
                for setting in recipe.settings:
                    self.assertIn(setting.flag, FLAGS)
                    self.assertTrue(setting.source, setting.flag)
                hparams = vqa_models.VQA_MODELS.parse_hyperparameters(
                    values["model"], values.get("model_hparams", "")
                )
                units = hparams.pop("question_units", None)
                self.assertIn(units, (None, 1280, 2400, 4096))
                model = vqa_models.VQA_MODELS.build(
                    values["model"],
                    TINY_SPECS[values["dataset"]],
                    size=values["model_size"],
                    question_units=16,
                    **hparams,
                )
                self.assertEqual(model.name, values["model"])
                train = {k: v for k, v in values.items() if k in TRAIN_FIELDS}
                for flag, _ in recipe.unpublished:
                    train[flag] = 1
                config = trainer.TrainConfig(model_dir=self.dir, **train)
                self.assertEqual(config.optimizer, values["optimizer"])

    def test_ban8_values_and_schedule(self):
        """ban8_vqa2's settings as ban-vqa's code has them: 13 epochs of
        ceil(443,757 / 256) = 1,734 steps, x0.25 at epochs 10 and 12."""
        values = recipes.RECIPES.get("ban8_vqa2").values()
        epoch = 1734
        self.assertEqual(recipes.steps_per_epoch(443_757, 256), epoch)
        self.assertEqual(values["train_steps"], 13 * epoch)
        self.assertEqual(values["warmup_steps"], 4 * epoch)
        self.assertEqual(
            values["decay_boundaries"], f"{10 * epoch},{12 * epoch}"
        )
        self.assertEqual(
            (
                values["optimizer"],
                values["learning_rate"],
                values["batch_size"],
                values["clip_norm"],
                values["decay_rate"],
            ),
            ("adamax", 2e-3, 256, 0.25, 0.25),
        )
        hparams = vqa_models.VQA_MODELS.parse_hyperparameters(
            "ban", values["model_hparams"]
        )
        self.assertEqual(
            hparams,
            {
                "question_units": 1280,
                "glimpses": 8,
                "rank": 1280,
                "pool_size": 1,
                "attention_rank": 3840,
                "hidden": 2560,
                "dropout": 0.5,
            },
        )

    def test_explicit_flags_override_the_recipe(self):
        with flagsaver.flagsaver():
            _parse(
                f"--model_dir={self.dir}",
                "--recipe=ban8_vqa2",
                "--batch_size=8",
                "--model_hparams=glimpses=2",
            )
            recipes.apply(FLAGS.recipe)
            config = training_flags.train_config()
            # The recipe's value...
            self.assertEqual(config.learning_rate, 2e-3)
            self.assertEqual(config.optimizer, "adamax")
            self.assertEqual(config.decay_boundaries, "17340,20808")
            self.assertEqual(FLAGS.dataset, "vqa2")
            self.assertEqual(FLAGS.model_size, "paper")
            # ... and the one given on the command line.
            self.assertEqual(config.batch_size, 8)
            hparams = vqa_models.VQA_MODELS.parse_hyperparameters(
                "ban", FLAGS.model_hparams
            )
            self.assertEqual(hparams["glimpses"], 2)
            self.assertEqual(hparams["question_units"], 1280)
        # An explicit empty --model_hparams keeps the recipe's.
        with flagsaver.flagsaver():
            _parse(
                f"--model_dir={self.dir}",
                "--recipe=ban8_vqa2",
                "--model_hparams=",
            )
            recipes.apply(FLAGS.recipe)
            self.assertEqual(
                FLAGS.model_hparams,
                recipes.RECIPES.get("ban8_vqa2").values()["model_hparams"],
            )
        # Another --model: the recipe's hyper-parameters (BAN's) are left
        # out, its training settings stay.
        with flagsaver.flagsaver():
            _parse(
                f"--model_dir={self.dir}", "--recipe=ban8_vqa2", "--model=mlb"
            )
            recipes.apply(FLAGS.recipe)
            self.assertEqual(
                (FLAGS.model, FLAGS.model_hparams, FLAGS.optimizer),
                ("mlb", "", "adamax"),
            )
        # Without --recipe nothing changes.
        with flagsaver.flagsaver():
            _parse(f"--model_dir={self.dir}")
            self.assertEqual(training_flags.train_config().optimizer, "adam")

    def test_unknown_recipe_lists_the_known_ones(self):
        with flagsaver.flagsaver():
            _parse(f"--model_dir={self.dir}", "--recipe=ban8")
            with self.assertRaises(app.UsageError) as raised:
                vqa.train_and_report()
        self.assertEqual(
            str(raised.exception),
            f"--recipe='ban8' is not one of "
            f"{list(recipes.RECIPES.names())} (docs/recipes.md).",
        )

    def test_unpublished_setting_must_be_given(self):
        with flagsaver.flagsaver():
            _parse(f"--model_dir={self.dir}", "--recipe=rn_clevr")
            with self.assertRaisesRegex(
                app.UsageError,
                r"^--recipe=rn_clevr: the paper publishes "
                r"no training length for CLEVR; pass --train_steps "
                r"\(docs/recipes.md\).$",
            ):
                recipes.apply(FLAGS.recipe)
        with flagsaver.flagsaver():
            _parse(
                f"--model_dir={self.dir}",
                "--recipe=rn_clevr",
                "--train_steps=7",
            )
            recipes.apply(FLAGS.recipe)
            self.assertEqual(FLAGS.train_steps, 7)
            self.assertEqual(FLAGS.learning_rate, 2.5e-4)

    def test_help_lists_the_recipes(self):
        self.assertIn(FLAGS["recipe"], FLAGS.get_key_flags_for_module(vqa))
        for name in recipes.RECIPES.names():
            self.assertIn(name, FLAGS["recipe"].help)

    def test_docs_are_current(self):
        with open(os.path.join(ROOT, "docs", "recipes.md")) as f:
            text = f.read()
        self.assertIn(
            f"{recipes.DOCS_BEGIN}\n\n{recipes.markdown()}\n"
            f"{recipes.DOCS_END}",
            text,
            "docs/recipes.md is stale: run python -m "
            "mi_zoo.experiments.recipes docs/recipes.md",
        )
        with open(os.path.join(ROOT, "docs", "training.md")) as f:
            training = f.read()
        for name in recipes.RECIPES.names():
            self.assertIn(f"`{name}`", training)

    def test_update_docs_needs_the_markers(self):
        path = os.path.join(self.dir, "plain.md")
        with open(path, "w") as f:
            f.write("no markers\n")
        with self.assertRaisesRegex(ValueError, "plain.md lacks the markers"):
            recipes.update_docs(path)


def _vqa2_fixture(data_dir):
    """Ten questions answered "yes" (the reader keeps answers given at
    least 9 times) on the three fixture images, with BAN hdf5 features."""
    questions = [(1 + k % 3, 100 + k, "Is it red?") for k in range(10)]
    answers = {100 + k: ["yes"] * 10 for k in range(10)}
    for split in ("train2014", "val2014"):
        fixtures.write_vqa_json(data_dir, split, questions, answers)
    for split in ("train", "val"):
        fixtures.write_ban_hdf5(data_dir, split, num_boxes=4, dim=8)


class RecipeBinaryTest(absltest.TestCase):
    # 27 s on the shared 2-core machine (a process, TensorFlow's import,
    # the data pipeline, one step, the evaluation and a checkpoint); the
    # recipe's flags are checked in-process above.
    @pytest.mark.slow
    def test_ban8_recipe_trains_one_step(self):
        """`vqa --recipe=ban8_vqa2` end to end on fixture VQA v2 files,
        with the model's widths and the batch overridden to fit a test:
        the recipe's other settings reach flags.json, and the explicit
        flags win."""
        data_dir = tempfile.mkdtemp()
        model_dir = os.path.join(tempfile.mkdtemp(), "run")
        _vqa2_fixture(data_dir)
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        env.pop("TF_CONFIG", None)
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "mi_zoo.experiments.vqa",
                "--recipe=ban8_vqa2",
                f"--data_dir={data_dir}",
                f"--model_dir={model_dir}",
                "--train_steps=1",
                "--batch_size=4",
                "--eval_batch_size=4",
                "--noexport",
                "--image_every=0",
                "--histogram_every=0",
                "--num_images=1",
                "--model_hparams=question_units=16,rank=16,attention_rank=48,"
                "hidden=16",
            ],
            env=env,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        self.assertEqual(run.returncode, 0, run.stderr[-3000:])
        with open(os.path.join(model_dir, "flags.json")) as f:
            settings = json.load(f)
        self.assertEqual(
            {
                k: settings[k]
                for k in (
                    "recipe",
                    "model",
                    "dataset",
                    "model_size",
                    "optimizer",
                    "learning_rate",
                    "decay",
                    "decay_boundaries",
                    "clip_norm",
                    "train_steps",
                    "batch_size",
                )
            },
            {
                "recipe": "ban8_vqa2",
                "model": "ban",
                "dataset": "vqa2",
                "model_size": "paper",
                "optimizer": "adamax",
                "learning_rate": 2e-3,
                "decay": "step",
                "decay_boundaries": "17340,20808",
                "clip_norm": 0.25,
                "train_steps": 1,
                "batch_size": 4,
            },
        )
        self.assertTrue(
            settings["model_hparams"].endswith(
                ",question_units=16,rank=16,attention_rank=48,hidden=16"
            )
        )
        with open(os.path.join(model_dir, "results.json")) as f:
            self.assertEqual(json.load(f)["step"], 1)

    def test_unknown_recipe_is_one_line(self):
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "mi_zoo.experiments.vqa",
                "--recipe=nope",
                f"--model_dir={tempfile.mkdtemp()}",
            ],
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        self.assertEqual(run.returncode, 2)
        self.assertEqual(
            run.stderr.strip().splitlines()[-1],
            f"error: --recipe='nope' is not one of "
            f"{list(recipes.RECIPES.names())} (docs/recipes.md).",
        )


if __name__ == "__main__":
    absltest.main()
