"""Issue 18's proof of `--image_kind=backbone`: a tiny model trained end to
end from JPEG files through a feature backbone inside it (MobileNetV3
Small, random weights: nothing is downloaded), by the vqa binary as users
run it (a subprocess); then the predict binary on one of those files
answers as `model.predict` does on the training pipeline's own input, and
writes the explanation figure. Also the backbone flags' one-line errors.
"""

import json
import os
import shutil
import tempfile

from absl import app
from absl import flags
from absl.testing import absltest
from absl.testing import flagsaver
import keras
import numpy as np
from PIL import Image
from PIL import ImageDraw
import pytest

from mi_zoo.core import specs
from mi_zoo.data import vqa_codec
from mi_zoo.data import vqa_sources
from mi_zoo.experiments import vqa
from mi_zoo.predict import Predictor
from mi_zoo.training import run_directory
from tests import cli

FLAGS = flags.FLAGS

COLORS = {"red": (220, 30, 30), "green": (30, 180, 40), "blue": (40, 60, 220)}
SHAPES = ("square", "circle")
# Image sizes of the JPEG files (none is the 128 x 128 the model reads).
SIZES = ((96, 72), (140, 100), (80, 120))

# Two steps of a small MLB (attention and a Hadamard fusion, so that
# --explain draws both) on the generated CLEVR-layout folder.
TINY = [
    "--dataset=clevr",
    "--image_kind=backbone",
    "--backbone=mobilenet_v3_small",
    "--backbone_weights=none",
    "--model=mlb",
    "--model_hparams=question_units=8,joint_size=8",
    "--batch_size=4",
    "--eval_batch_size=4",
    "--train_steps=2",
    "--precise_bn_batches=0",
    "--eval_every=0",
    "--image_every=0",
    "--histogram_every=0",
    "--num_images=2",
]


_run = cli.run_module


def _program(function):
    return [
        {"inputs": [], "function": "scene", "value_inputs": []},
        {"inputs": [0], "function": function, "value_inputs": []},
    ]


def write_jpeg_clevr(manual_dir, split, num_images, seed):
    """A CLEVR v1.0 folder whose images are JPEG files of several sizes,
    each a coloured square or circle on grey, with two questions each.

    Returns:
      The split's question dicts, as written.
    """
    rng = np.random.default_rng(seed)
    root = os.path.join(manual_dir, "CLEVR_v1.0")
    os.makedirs(os.path.join(root, "images", split), exist_ok=True)
    os.makedirs(os.path.join(root, "questions"), exist_ok=True)
    questions = []
    for index in range(num_images):
        color = list(COLORS)[rng.integers(len(COLORS))]
        shape = SHAPES[rng.integers(len(SHAPES))]
        width, height = SIZES[index % len(SIZES)]
        image = Image.new("RGB", (width, height), (128, 128, 128))
        box = (width // 4, height // 4, 3 * width // 4, 3 * height // 4)
        draw = ImageDraw.Draw(image)
        if shape == "square":
            draw.rectangle(box, fill=COLORS[color])
        else:
            draw.ellipse(box, fill=COLORS[color])
        name = f"CLEVR_{split}_{index:06d}.jpg"
        image.save(os.path.join(root, "images", split, name), quality=90)
        for text, answer, function in (
            (f"What color is the {shape}?", color, "query_color"),
            (
                f"Is there a red {shape}?",
                "yes" if color == "red" else "no",
                "exist",
            ),
        ):
            questions.append(
                {
                    "image_index": index,
                    "image_filename": name,
                    "question": text,
                    "answer": answer,
                    "split": split,
                    "question_family_index": 0,
                    "question_index": len(questions),
                    "program": _program(function),
                }
            )
    path = os.path.join(root, "questions", f"CLEVR_{split}_questions.json")
    with open(path, "w") as f:
        json.dump({"info": {"split": split}, "questions": questions}, f)
    return questions


# About a minute on two shared CPU cores (two binaries, each importing
# TensorFlow; training, evaluation and export): slow. The same chain runs
# in process, by default, in tests/predict/backbone_predictor_test.py and
# tests/tasks/vqa_test.py (test_backbone_inside_the_model).
@pytest.mark.slow
class BackboneRunTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = tempfile.mkdtemp()
        cls.data_dir = os.path.join(cls.dir, "clevr")
        write_jpeg_clevr(cls.data_dir, "train", 8, seed=1)
        cls.val = write_jpeg_clevr(cls.data_dir, "val", 2, seed=2)
        cls.run_dir = os.path.join(cls.dir, "run")
        done = _run(
            "mi_zoo.experiments.vqa",
            f"--model_dir={cls.run_dir}",
            f"--data_dir={cls.data_dir}",
            *TINY,
        )
        assert done.returncode == 0, done.stderr[-3000:]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    def test_run_records_the_backbone(self):
        codec = vqa_codec.VqaCodec.load(
            os.path.join(self.run_dir, vqa_codec.FILENAME)
        )
        self.assertEqual(codec.spec.image_kind, "backbone")
        self.assertEqual(codec.spec.image_shape, (128, 128, 3))
        self.assertEqual(
            codec.spec.backbone,
            specs.BackboneSpec("mobilenet_v3_small", weights=None),
        )
        model = keras.models.load_model(
            os.path.join(self.run_dir, run_directory.MODEL_FILE)
        )
        backbone = model.get_layer("mobilenet_v3_small_features")
        self.assertFalse(backbone.trainable)  # Frozen by default.
        self.assertEqual(backbone.input_shape, (None, 128, 128, 3))

    def test_predict_binary_answers_as_model_predict(self):
        # The training pipeline's own first eval example (the JPEG file
        # decoded and resized by the CLEVR reader), through model.predict.
        data = vqa_sources.load_vqa_data(
            "clevr",
            batch_size=1,
            eval_batch_size=1,
            seed=0,
            data_dir=self.data_dir,
        )
        inputs, _, _ = next(iter(data.eval))
        model = keras.models.load_model(
            os.path.join(self.run_dir, run_directory.MODEL_FILE)
        )
        logits = np.asarray(
            model.predict(
                {k: np.asarray(v) for k, v in inputs.items()}, verbose=0
            )[0],
            np.float64,
        )
        softmax = np.exp(logits - logits.max())
        softmax /= softmax.sum()
        best = np.argsort(-softmax, kind="stable")[:3]

        question = self.val[0]["question"]
        image = os.path.join(
            self.data_dir,
            "CLEVR_v1.0",
            "images",
            "val",
            self.val[0]["image_filename"],
        )
        with Image.open(image) as opened:
            self.assertEqual((opened.format, opened.size), ("JPEG", (96, 72)))
        explained = os.path.join(self.dir, "explained.png")
        done = _run(
            "mi_zoo.experiments.predict",
            f"--model_dir={self.run_dir}",
            f"--image={image}",
            f"--question={question}",
            "--top_k=3",
            f"--explain={explained}",
        )
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        lines = done.stdout.strip().splitlines()
        self.assertLen(lines, 4)
        printed = [line.split() for line in lines[:3]]
        self.assertEqual(
            [answer for _, answer in printed],
            [data.answers[i] for i in best],
        )
        np.testing.assert_allclose(
            [float(p) for p, _ in printed], softmax[best], atol=6e-5
        )
        self.assertEqual(lines[3], f"Explanation in {explained}")
        with Image.open(explained) as figure:
            self.assertEqual(figure.format, "PNG")
            width, height = figure.size
        self.assertGreater(width, 192 * 2)  # Hadamard + a glimpse at least.
        self.assertGreater(height, 192)

        # The Python API gives the same answers.
        got = Predictor.from_run(self.run_dir)(image, question, top_k=3)
        self.assertEqual([a for a, _ in got], [data.answers[i] for i in best])
        np.testing.assert_allclose(
            [p for _, p in got], softmax[best], atol=1e-5
        )

    def test_explain_binary_rebuilds_the_runs_backbone(self):
        # Without model.keras the explain binary builds the model from the
        # run's predictor.json (its backbone: MobileNetV3, no weights to
        # download) and restores the checkpoint.
        run = os.path.join(self.dir, "no_export")
        shutil.copytree(self.run_dir, run)
        os.remove(os.path.join(run, run_directory.MODEL_FILE))
        figures = os.path.join(self.dir, "figures")
        done = _run(
            "mi_zoo.experiments.explain",
            f"--model_dir={run}",
            f"--explain_dir={figures}",
            "--explain_figures=2",
            "--explain_batch_size=2",
        )
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        self.assertEqual(
            sorted(os.listdir(figures)), ["example_000.png", "example_001.png"]
        )


class BackboneFlagsTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        if not FLAGS.is_parsed():
            FLAGS(["vqa_backbone_test"])  # pytest does not parse flags
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def assertUsageError(self, argv, message):
        with flagsaver.flagsaver():
            FLAGS(["vqa", f"--model_dir={self.dir}/run", *argv])
            with self.assertRaises(app.UsageError) as raised:
                vqa.main(["vqa"])
        self.assertEqual(str(raised.exception), message)

    def test_backbone_flags_need_image_kind_backbone(self):
        for argv, name in (
            (["--finetune_backbone"], "finetune_backbone"),
            (["--image_kind=pixels", "--backbone=resnet50"], "backbone"),
            (["--backbone_weights=none"], "backbone_weights"),
            (["--backbone_grid=2,2"], "backbone_grid"),
        ):
            got = (
                "--image_kind=pixels"
                if "--image_kind=pixels" in argv
                else "no --image_kind"
            )
            with self.subTest(argv=argv):
                self.assertUsageError(
                    argv,
                    f"--{name} applies to --image_kind=backbone only, got "
                    f"{got}.",
                )

    def test_unknown_backbone_lists_the_known_ones(self):
        names = sorted(vqa.backbone_registry.BACKBONES.names())
        self.assertIn("mobilenet_v3_small", names)
        self.assertUsageError(
            ["--image_kind=backbone", "--backbone=vgg16"],
            f"--backbone='vgg16' is not one of {names}.",
        )

    def test_bad_weights_and_grid(self):
        self.assertUsageError(
            ["--image_kind=backbone", "--backbone_weights=/no/such.h5"],
            "--backbone_weights must be 'imagenet', 'none' or an existing "
            ".weights.h5 file, got --backbone_weights=/no/such.h5.",
        )
        self.assertUsageError(
            ["--image_kind=backbone", "--backbone_grid=2,0"],
            "--backbone_grid must be 'rows,columns', two positive integers, "
            "got --backbone_grid=2,0.",
        )

    def test_flags_make_the_backbone_spec(self):
        with flagsaver.flagsaver():
            FLAGS(
                [
                    "vqa",
                    "--image_kind=backbone",
                    "--backbone=mobilenet_v3_small",
                    "--backbone_weights=none",
                    "--backbone_grid=2,2",
                    "--finetune_backbone",
                ]
            )
            self.assertEqual(
                vqa.backbone_spec(),
                specs.BackboneSpec(
                    "mobilenet_v3_small",
                    grid=(2, 2),
                    weights=None,
                    trainable=True,
                ),
            )
        with flagsaver.flagsaver():
            FLAGS(["vqa", "--image_kind=backbone"])
            self.assertEqual(
                vqa.backbone_spec(), specs.BackboneSpec("resnet50")
            )


if __name__ == "__main__":
    absltest.main()
