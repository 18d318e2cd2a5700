"""`VqaCodec`: questions and images of any size to a VQA model's inputs
as the training pipelines make them, answers back, its file, its errors."""

import json
import os
import shutil
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
from PIL import Image

from mi_zoo.core import specs
from mi_zoo.data import clevr_2d
from mi_zoo.data import images as images_lib
from mi_zoo.data import sort_of_clevr as soc
from mi_zoo.data import vqa_codec
from mi_zoo.data import vqa_sources


def sort_of_clevr_codec(image_size=75):
    spec = specs.VqaSpec(
        vocab_size=len(soc.VOCAB),
        question_length=soc.QUESTION_LENGTH,
        image_kind="pixels",
        image_shape=(image_size, image_size, 3),
        num_answers=len(soc.ANSWERS),
    )
    return vqa_codec.VqaCodec(
        spec, words=soc.VOCAB, answers=soc.ANSWERS, tokenizer="words_and_marks"
    )


def regions_codec():
    spec = specs.VqaSpec(
        vocab_size=3,
        question_length=4,
        image_kind="regions",
        image_shape=(5, 6),
        num_answers=2,
        answer_convention="sigmoid",
    )
    return vqa_codec.VqaCodec(
        spec, words=("<pad>", "<unk>", "red"), answers=("yes", "no")
    )


def backbone_codec():
    """A run whose model holds a feature backbone: Sort-of-CLEVR's words,
    64 x 64 pixels into a random-weight MobileNetV3 pooled to 1 x 1."""
    spec = specs.VqaSpec(
        vocab_size=len(soc.VOCAB),
        question_length=soc.QUESTION_LENGTH,
        image_kind="backbone",
        image_shape=(64, 64, 3),
        num_answers=len(soc.ANSWERS),
        backbone=specs.BackboneSpec(
            "mobilenet_v3_small", grid=(1, 1), weights=None
        ),
    )
    return vqa_codec.VqaCodec(
        spec, words=soc.VOCAB, answers=soc.ANSWERS, tokenizer="words_and_marks"
    )


class QuestionTest(parameterized.TestCase):
    def test_every_sort_of_clevr_question_as_the_generator_tokenizes(self):
        codec = sort_of_clevr_codec()
        for colour in range(len(soc.COLOURS)):
            for family in range(len(soc.QUESTION_FAMILIES)):
                text = soc.question_text(colour, family)
                np.testing.assert_array_equal(
                    codec.encode_question(text), soc.tokenize(text)
                )
                # As a user writes it: capitals, "?" without a space.
                typed = text.replace(" ?", "?").capitalize()
                np.testing.assert_array_equal(
                    codec.encode_question(typed), soc.tokenize(text)
                )

    def test_clevr_2d_question_as_the_generator_encodes(self):
        data_words = clevr_2d.VOCAB
        spec = specs.VqaSpec(
            vocab_size=len(data_words),
            question_length=clevr_2d.QUESTION_LENGTH,
            image_kind="pixels",
            image_shape=(8, 8, 3),
            num_answers=len(clevr_2d.ANSWERS),
        )
        codec = vqa_codec.VqaCodec(
            spec,
            words=data_words,
            answers=clevr_2d.ANSWERS,
            tokenizer="words_and_marks",
        )
        text = "How many red things are there?"
        ids = clevr_2d.encode(text)
        self.assertNotIn(clevr_2d.UNK_ID, ids)
        expected = np.zeros(clevr_2d.QUESTION_LENGTH, np.int32)
        expected[: len(ids)] = ids
        np.testing.assert_array_equal(codec.encode_question(text), expected)
        self.assertEqual(
            codec.decode_question(expected)[: len(ids)],
            clevr_2d.tokenize(text),
        )

    def test_words_tokenizer_drops_punctuation(self):
        spec = specs.VqaSpec(
            vocab_size=4,
            question_length=3,
            image_kind="pixels",
            image_shape=(4, 4, 3),
            num_answers=2,
        )
        codec = vqa_codec.VqaCodec(
            spec, ("<pad>", "<unk>", "whats", "red"), ("yes", "no")
        )
        np.testing.assert_array_equal(
            codec.encode_question("What's red?"), [2, 3, 0]
        )
        # Training's <unk> is no word a user can type.
        with self.assertRaisesRegex(
            ValueError,
            r"does not know: 'unk' \(it "
            r"knows: red whats\)",
        ):
            codec.encode_question("<unk> red")

    @parameterized.named_parameters(
        (
            "unknown",
            "what colour is the cat ?",
            r"words the model does not know: 'colour', 'cat' \(it knows: \? "
            r"as blue .*\), got question='what colour is the cat \?'\.",
        ),
        (
            "too_long",
            "is the red " * 5,
            r"has 15 words; the model reads at most 13, got question=",
        ),
        ("empty", " ? ".replace("?", ""), r"has no words, got question="),
        ("not_text", 3, r"must be a string, got question=3\."),
    )
    def test_question_errors(self, question, message):
        with self.assertRaisesRegex(ValueError, message):
            sort_of_clevr_codec().encode_question(question)


class ImageTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.pixels = (
            np.random.default_rng(0)
            .integers(0, 256, (40, 60, 3))
            .astype(np.uint8)
        )

    def test_model_size_is_the_training_pipelines_pixels(self):
        # Sort-of-CLEVR and CLEVR-2D feed uint8 / 255, unresized.
        pixels = self.pixels[:, :40]
        codec = sort_of_clevr_codec(image_size=40)
        encoded = codec.encode_image(pixels)
        self.assertEqual(encoded.dtype, np.float32)
        np.testing.assert_allclose(encoded, pixels / 255.0, atol=1e-7)
        np.testing.assert_allclose(
            codec.encode_image(pixels / 255.0), pixels / 255.0, atol=1e-7
        )

    def test_other_sizes_resize_as_the_readers_do(self):
        codec = sort_of_clevr_codec(image_size=30)
        encoded = codec.encode_image(self.pixels)
        self.assertEqual(encoded.shape, (30, 30, 3))
        np.testing.assert_array_equal(
            encoded, np.asarray(images_lib.resize_image(self.pixels, (30, 30)))
        )
        # A flat image stays flat at any size.
        flat = np.full((17, 91, 3), (255, 51, 0), np.uint8)
        np.testing.assert_allclose(
            codec.encode_image(flat),
            np.broadcast_to([1.0, 0.2, 0.0], (30, 30, 3)),
            atol=1e-6,
        )

    def test_file_pil_and_array_agree(self):
        codec = sort_of_clevr_codec(image_size=30)
        expected = codec.encode_image(self.pixels)
        path = os.path.join(self.tmp, "x.png")
        Image.fromarray(self.pixels).save(path)
        np.testing.assert_array_equal(codec.encode_image(path), expected)
        with Image.open(path) as image:
            np.testing.assert_array_equal(codec.encode_image(image), expected)
        rgba = np.concatenate([self.pixels, self.pixels[..., :1]], axis=-1)
        np.testing.assert_array_equal(codec.encode_image(rgba), expected)
        grey = self.pixels[..., 0]
        np.testing.assert_array_equal(
            codec.encode_image(grey),
            codec.encode_image(np.stack([grey] * 3, axis=-1)),
        )

    def test_image_errors(self):
        codec = sort_of_clevr_codec()
        missing = os.path.join(self.tmp, "missing.png")
        with self.assertRaisesRegex(
            FileNotFoundError, f"Image file '{missing}' does not exist"
        ):
            codec.encode_image(missing)
        text = os.path.join(self.tmp, "notes.png")
        with open(text, "w") as f:
            f.write("not an image")
        with self.assertRaisesRegex(
            ValueError, f"Image file '{text}' cannot be read: not a PNG, JPEG"
        ):
            codec.encode_image(text)
        with self.assertRaisesRegex(
            ValueError,
            r"\[height, width, 3\].*"
            r"got shape \(4, 4, 2\)\.",
        ):
            codec.encode_image(np.zeros((4, 4, 2), np.uint8))
        with self.assertRaisesRegex(
            ValueError,
            r"float in \[0, 1\], got "
            r"\[0, 255\]\.",
        ):
            codec.encode_image(self.pixels.astype(np.float32))
        with self.assertRaisesRegex(ValueError, "got dtype int64"):
            codec.encode_image(self.pixels.astype(np.int64))

    def test_backbone_runs_read_pixels_as_pixel_runs(self):
        # The backbone's preprocessing is inside the model: the codec gives
        # it [0, 1] pixels resized to the run's size, as for a pixel run.
        image = np.random.default_rng(3).integers(
            0, 256, (50, 90, 3), np.uint8
        )
        got = backbone_codec().encode_image(image)
        self.assertEqual(got.shape, (64, 64, 3))
        np.testing.assert_allclose(
            got,
            np.asarray(images_lib.resize_image(image, (64, 64))),
            atol=1e-6,
        )
        np.testing.assert_allclose(
            got, sort_of_clevr_codec(64).encode_image(image), atol=1e-6
        )
        self.assertEqual(backbone_codec().input_names, ("question", "image"))

    def test_region_runs_need_images_through_a_backbone(self):
        with self.assertRaisesRegex(
            ValueError,
            r"This run reads precomputed regions features \(image_kind="
            r"'regions'\), not pixels: train with --image_kind=backbone "
            r"\(the feature backbone inside the model\) or "
            r"--image_kind=pixels to predict from images\.$",
        ):
            regions_codec().encode_image(self.pixels)
        self.assertEqual(
            regions_codec().input_names, ("question", "image", "boxes")
        )


class BatchAndAnswersTest(absltest.TestCase):
    def test_batch(self):
        codec = sort_of_clevr_codec(image_size=8)
        image = np.zeros((8, 8, 3), np.uint8)
        inputs = codec.encode_batch(
            [image, image],
            [
                "is the red object on the top ?",
                "how many objects have the same shape as the red object ?",
            ],
        )
        self.assertEqual(inputs["question"].shape, (2, soc.QUESTION_LENGTH))
        self.assertEqual(inputs["image"].shape, (2, 8, 8, 3))
        with self.assertRaisesRegex(
            ValueError, "as many .* got 1 images and 2 questions"
        ):
            codec.encode_batch([image], ["is the red object on the top ?"] * 2)
        with self.assertRaisesRegex(
            ValueError, "must be a list of strings, got questions='is'"
        ):
            codec.encode_batch([image], "is")

    def test_top_answers_best_first(self):
        codec = sort_of_clevr_codec()
        probabilities = np.array([[0.1, 0.3, 0.05, 0.3, 0.25] + [0.0] * 5])
        self.assertEqual(
            codec.top_answers(probabilities, 3),
            [[("no", 0.3), ("circle", 0.3), ("1", 0.25)]],
        )
        with self.assertRaisesRegex(ValueError, "got top_k=0"):
            codec.top_answers(probabilities, 0)


class FileTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def test_round_trip(self):
        for codec in (
            sort_of_clevr_codec(),
            regions_codec(),
            backbone_codec(),
        ):
            path = codec.save(os.path.join(self.tmp, vqa_codec.FILENAME))
            self.assertEqual(vqa_codec.VqaCodec.load(path), codec)

    def test_backbone_is_in_the_file(self):
        path = backbone_codec().save(
            os.path.join(self.tmp, vqa_codec.FILENAME)
        )
        with open(path) as f:
            spec = json.load(f)["spec"]
        self.assertEqual(spec["image_kind"], "backbone")
        self.assertEqual(spec["image_shape"], [64, 64, 3])
        self.assertEqual(
            spec["backbone"],
            {
                "name": "mobilenet_v3_small",
                "layer": None,
                "grid": [1, 1],
                "weights": None,
                "trainable": False,
            },
        )

    def test_files_written_before_the_backbone_field_load(self):
        path = os.path.join(self.tmp, vqa_codec.FILENAME)
        value = sort_of_clevr_codec().to_json()
        del value["spec"]["backbone"]
        with open(path, "w") as f:
            json.dump(value, f)
        self.assertEqual(vqa_codec.VqaCodec.load(path), sort_of_clevr_codec())

    def test_sort_of_clevr_data_gives_its_codec(self):
        data = vqa_sources.load_vqa_data(
            "sort_of_clevr",
            batch_size=2,
            eval_batch_size=2,
            seed=0,
            train_limit=4,
            eval_limit=4,
        )
        codec = data.codec()
        self.assertEqual(codec.words, soc.VOCAB)
        self.assertEqual(codec.answers, soc.ANSWERS)
        self.assertEqual(codec.spec, data.spec)
        inputs, _, _ = next(iter(data.eval))
        self.assertEqual(
            codec.encode_question(
                soc.detokenize(inputs["question"][0])
            ).tolist(),
            np.asarray(inputs["question"][0]).tolist(),
        )

    def test_bad_files(self):
        path = os.path.join(self.tmp, vqa_codec.FILENAME)
        value = sort_of_clevr_codec().to_json()
        for change, message in (
            ({"format": "x"}, "is not a mi_zoo.vqa_codec file"),
            ({"version": 9}, "has version 9; this mi_zoo reads version 1"),
            ({"answers": ["yes"]}, r"`answers` must hold 10 entries"),
            ({"tokenizer": "bpe"}, r"got tokenizer='bpe'"),
            ({"spec": None}, "lacks a field or has a wrong one"),
        ):
            with open(path, "w") as f:
                json.dump({**value, **change}, f)
            with self.assertRaisesRegex(ValueError, message):
                vqa_codec.VqaCodec.load(path)
        with open(path, "w") as f:
            f.write("{")
        with self.assertRaisesRegex(ValueError, "not valid JSON"):
            vqa_codec.VqaCodec.load(path)


if __name__ == "__main__":
    absltest.main()
