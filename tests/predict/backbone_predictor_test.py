"""`Predictor` on a run whose model holds its feature backbone (image kind
"backbone"): everything it needs is in the run's two files, and a JPEG of
another size is resized as the CLEVR reader resized the training images.
(tests/experiments/vqa_backbone_test.py trains such a run through the
binaries.)"""

import os
import shutil
import tempfile

from absl.testing import absltest
import numpy as np
from PIL import Image

from mi_zoo import models
from mi_zoo.core import specs
from mi_zoo.data import images as images_lib
from mi_zoo.data import vqa_codec
from mi_zoo.predict import Predictor
from mi_zoo.training import run_directory

WORDS = ("<pad>", "<unk>", "what", "color", "is", "the", "square", "red")
ANSWERS = ("red", "green", "blue", "yes", "no")


class BackbonePredictorTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = tempfile.mkdtemp()
        spec = specs.VqaSpec(
            vocab_size=len(WORDS),
            question_length=6,
            image_kind="backbone",
            image_shape=(64, 64, 3),
            num_answers=len(ANSWERS),
            backbone=specs.BackboneSpec("mobilenet_v3_small", weights=None),
        )
        cls.model = models.VQA_MODELS.build(
            "mlb", spec, size="small", question_units=8, joint_size=8
        )
        cls.run_dir = os.path.join(cls.dir, "run")
        os.makedirs(cls.run_dir)
        cls.model.save(os.path.join(cls.run_dir, run_directory.MODEL_FILE))
        cls.codec = vqa_codec.VqaCodec(spec, WORDS, ANSWERS)
        cls.codec.save(os.path.join(cls.run_dir, vqa_codec.FILENAME))
        cls.image = os.path.join(cls.dir, "photo.jpg")
        pixels = np.random.default_rng(0).integers(0, 256, (90, 120, 3))
        Image.fromarray(pixels.astype(np.uint8)).save(cls.image, quality=90)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    def test_answers_are_the_models_on_the_readers_pixels(self):
        predictor = Predictor.from_run(self.run_dir)
        self.assertEqual(predictor.codec, self.codec)
        question = "What color is the square?"
        # The CLEVR reader's decoding and resize of a training image.
        pixels = np.asarray(images_lib.load_image(self.image, (64, 64)))
        inputs = predictor.inputs([self.image], [question])
        np.testing.assert_allclose(inputs["image"][0], pixels, atol=1e-6)
        logits = np.asarray(self.model(inputs), np.float64)[0]
        softmax = np.exp(logits - logits.max())
        softmax /= softmax.sum()
        order = np.argsort(-softmax, kind="stable")
        got = predictor(self.image, question, top_k=len(ANSWERS))
        self.assertEqual([a for a, _ in got], [ANSWERS[i] for i in order])
        np.testing.assert_allclose(
            [p for _, p in got], softmax[order], atol=1e-5
        )

    def test_explanation_figure_over_the_image(self):
        figure = Predictor.from_run(self.run_dir).explain(
            self.image, "is the square red?"
        )
        self.assertEqual(figure.dtype, np.uint8)
        self.assertEqual(figure.ndim, 3)
        self.assertGreater(figure.shape[1], 192 * 2)  # Hadamard + glimpse.


if __name__ == "__main__":
    absltest.main()
