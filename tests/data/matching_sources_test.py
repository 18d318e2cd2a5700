"""Tests of `matching_sources`: datasets by name and retrieval recall."""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from mi_zoo.data import clevr_2d
from mi_zoo.data import matching_sources
from mi_zoo.data.clevr_2d import builder as clevr_2d_builder
from tests.data import fixtures
from tests.data import pipeline_checks

B, EB = 2, 3


def tiny_clevr2d_config():
    return pipeline_checks.tiny_clevr2d_config(
        "tiny_matching_sources", train_size=6, validation_size=5, test_size=2
    )


class Checks:
    def check_data(self, data, *, num_train):
        spec = data.spec
        for inputs, dummy in data.train.take(num_train // B + 3):
            self.assertEqual(inputs["caption"].shape, (B, spec.caption_length))
            self.assertEqual(inputs["caption"].dtype, tf.int32)
            self.assertEqual(inputs["image"].shape, (B,) + spec.image_shape)
            self.assertEqual(inputs["image"].dtype, tf.float32)
            self.assertNotIn("image_index", inputs)
            self.assertEqual(("boxes" in inputs), spec.image_kind == "regions")
            np.testing.assert_array_equal(dummy.numpy(), np.zeros(B))
            self.assertEqual(dummy.dtype, tf.float32)
            self.assertTrue(
                np.all(inputs["caption"].numpy() < spec.vocab_size)
            )
        self.assertEqual(len(data.words), spec.vocab_size)
        sizes, index = [], []
        for batch in data.eval:
            n = batch["caption"].shape[0]
            self.assertEqual(batch["image"].shape, (n,) + spec.image_shape)
            self.assertEqual(batch["image_index"].dtype, tf.int32)
            sizes.append(n)
            index.extend(batch["image_index"].numpy().tolist())
        self.assertEqual(sum(sizes), data.num_eval_captions)
        self.assertTrue(all(s == EB for s in sizes[:-1]), sizes)
        self.assertEqual(sorted(set(index)), list(range(data.num_eval_images)))
        return index

    def check_checkpoint(self, data):
        self.assertTrue(data.train_checkpointable)
        pipeline_checks.assert_iterator_checkpoint_round_trip(data.train)


class Clevr2dTest(Checks, parameterized.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data_dir = tempfile.mkdtemp()

    def load(self, seed=0, **kwargs):
        args = dict(
            batch_size=B,
            eval_batch_size=EB,
            seed=seed,
            data_dir=self.data_dir,
            options={"config": tiny_clevr2d_config()},
        )
        args.update(kwargs)
        return matching_sources.load_matching_data("clevr2d", **args)

    def test_pixels(self):
        data = self.load()
        self.assertEqual(data.spec.image_shape, (32, 32, 3))
        self.assertEqual(data.spec.caption_length, clevr_2d.CAPTION_LENGTH)
        self.assertEqual(data.words, clevr_2d.VOCAB)
        self.assertEqual(
            (data.num_eval_images, data.num_eval_captions), (5, 5)
        )
        index = self.check_data(data, num_train=6)
        self.assertEqual(index, list(range(5)))  # One caption per image.
        builder = clevr_2d_builder.Clevr2d(
            config=tiny_clevr2d_config(), data_dir=self.data_dir
        )
        ex = next(
            iter(builder.as_dataset(split="validation", shuffle_files=False))
        )
        batch = next(iter(data.eval))
        caption = " ".join(
            data.words[i] for i in batch["caption"][0].numpy() if i
        )
        self.assertEqual(
            caption.split(), clevr_2d.tokenize(ex["caption"].numpy().decode())
        )
        np.testing.assert_allclose(
            batch["image"][0].numpy() * 255.0, ex["image"].numpy(), atol=1e-3
        )

    def test_regions_and_limits(self):
        data = self.load(
            image_kind="regions",
            eval_split="test",
            train_limit=3,
            eval_limit=1,
        )
        self.assertEqual(
            data.spec.image_shape,
            (clevr_2d_builder.MAX_REGIONS, clevr_2d_builder.REGION_FEATURES),
        )
        self.assertEqual(
            (data.num_eval_images, data.num_eval_captions), (1, 1)
        )
        self.check_data(data, num_train=3)

    def test_checkpoint_and_seed(self):
        self.check_checkpoint(self.load())

        def captions(seed):
            return np.concatenate(
                [
                    x["caption"].numpy()
                    for x, _ in self.load(seed=seed).train.take(3)
                ]
            )

        np.testing.assert_array_equal(captions(5), captions(5))

    @parameterized.named_parameters(
        (
            "image_kind",
            dict(image_kind="grid"),
            r"--image_kind.*'clevr2d'.*image_kind='grid'",
        ),
        ("eval_split", dict(eval_split="train"), r"eval_split='train'"),
        ("option", dict(options={"size": 3}), r"unknown `options`.*size"),
        ("batch_size", dict(batch_size=0), r"batch_size=0"),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            self.load(**kwargs)

    def test_unknown_name(self):
        with self.assertRaisesRegex(
            ValueError,
            r"Unknown matching dataset 'coco'; registered: "
            r"\('clevr2d', 'flickr30k'\)",
        ):
            matching_sources.load_matching_data(
                "coco", batch_size=1, eval_batch_size=1, seed=0
            )


class Flickr30kTest(Checks, parameterized.TestCase):
    def setUp(self):
        super().setUp()
        self.data_dir = fixtures.write_flickr30k(fixtures.tempdir(self))

    def load(self, seed=0, **kwargs):
        args = dict(
            batch_size=B,
            eval_batch_size=EB,
            seed=seed,
            data_dir=self.data_dir,
            options={"image_size": (8, 8), "max_caption_length": 6},
        )
        args.update(kwargs)
        return matching_sources.load_matching_data("flickr30k", **args)

    def test_data(self):
        data = self.load(eval_split="test")
        self.assertEqual(data.spec.image_shape, (8, 8, 3))
        self.assertEqual(data.spec.caption_length, 6)
        self.assertEqual(
            (data.num_eval_images, data.num_eval_captions), (1, 1)
        )
        self.check_data(data, num_train=4)
        # Train vocabulary: "Several men ..." (test only) is unknown.
        self.assertNotIn("several", data.words)
        self.assertIn("playhouse", data.words)

    def test_bad_image_size(self):
        with self.assertRaisesRegex(
            ValueError,
            r"`options\['image_size'\]` must be \(height, "
            r"width\), two positive integers, got "
            r"options\['image_size'\]=\(8, 0\)\.",
        ):
            self.load(options={"image_size": (8, 0)})

    def test_several_captions_per_image(self):
        # Make the test split one image with 2 captions.
        import json  # pylint: disable=g-import-not-at-top

        path = os.path.join(self.data_dir, "dataset_flickr30k.json")
        with open(path) as f:
            split = json.load(f)
        names = [image["filename"] for image in split["images"]]
        self.assertEqual(
            names, ["1000092795.jpg", "10002456.jpg", "1000268201.jpg"]
        )
        split["images"][1]["split"] = "train"
        split["images"][2]["split"] = "test"
        with open(path, "w") as f:
            json.dump(split, f)
        data = self.load()
        self.assertEqual(
            (data.num_eval_images, data.num_eval_captions), (1, 2)
        )
        index = self.check_data(data, num_train=3)
        self.assertEqual(index, [0, 0])
        self.assertIn("several", data.words)
        with self.assertRaisesRegex(ValueError, r"no 'val' images"):
            self.load(eval_split="val")

    def test_limits_and_checkpoint(self):
        data = self.load(train_limit=3, eval_limit=1)
        self.check_data(data, num_train=3)
        self.check_checkpoint(data)
        self.check_checkpoint(self.load())

    def test_missing_data_dir(self):
        with self.assertRaisesRegex(
            ValueError,
            r"'flickr30k' dataset needs `data_dir` "
            r"\(--data_dir\), got data_dir=None.*flickr30k-images.*"
            r"dataset_flickr30k\.json",
        ):
            self.load(data_dir=None)
        os.remove(os.path.join(self.data_dir, "dataset_flickr30k.json"))
        with self.assertRaisesRegex(
            FileNotFoundError, r"--data_dir.*dataset_flickr30k\.json"
        ):
            self.load()

    @parameterized.named_parameters(
        (
            "image_kind",
            dict(image_kind="regions"),
            r"--image_kind.*'flickr30k'.*image_kind='regions'",
        ),
        ("eval_split", dict(eval_split="all"), r"eval_split='all'"),
        (
            "length",
            dict(options={"max_caption_length": 0}),
            r"max_caption_length=0",
        ),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            self.load(**kwargs)


def brute_force_recall(images, texts, index, ks):
    """Ranks by sorting with ties broken against the positive."""
    scores = images @ texts.T
    out = {}
    for k in ks:
        hits = 0
        for i in range(len(images)):
            # Sort negatives before positives on ties: key (-score, is_pos).
            order = sorted(
                range(len(texts)), key=lambda c: (-scores[i, c], index[c] == i)
            )
            hits += any(index[c] == i for c in order[:k])
        out[f"image_to_text/r@{k}"] = hits / len(images)
    for k in ks:
        hits = 0
        for c in range(len(texts)):
            order = sorted(
                range(len(images)),
                key=lambda i: (-scores[i, c], i == index[c]),
            )
            hits += index[c] in order[:k]
        out[f"text_to_image/r@{k}"] = hits / len(texts)
    return out


class RetrievalRecallTest(parameterized.TestCase):
    def test_hand_computed(self):
        # 2 images, 3 captions: captions 0, 1 of image 0, caption 2 of 1.
        images = np.array([[1.0, 0.0], [0.0, 1.0]])
        texts = np.array(
            [
                [0.2, 0.9],  # image 0's, closer to image 1
                [0.8, 0.1],  # image 0's
                [0.5, 0.5],
            ]
        )  # image 1's, tied on both images
        out = matching_sources.retrieval_recall(
            images, texts, [0, 0, 1], ks=(1, 2)
        )
        # Image 0: scores 0.2, 0.8 | 0.5: best positive 0.8 is first -> hit.
        # Image 1: scores 0.9 (neg), 0.1 (neg) | 0.5: 0.9 ranks above -> r@1
        # miss, r@2 hit.
        self.assertEqual(out["image_to_text/r@1"], 0.5)
        self.assertEqual(out["image_to_text/r@2"], 1.0)
        # Caption 0: own 0.2 < 0.9 -> miss@1. Caption 1: 0.8 > 0.1 -> hit.
        # Caption 2: tie 0.5 = 0.5 -> pessimistic miss@1, hit@2.
        self.assertAlmostEqual(out["text_to_image/r@1"], 1 / 3)
        self.assertEqual(out["text_to_image/r@2"], 1.0)
        self.assertAlmostEqual(out["rsum"], 100 * (0.5 + 1 + 1 / 3 + 1))

    def test_ties_are_pessimistic(self):
        images = np.ones((3, 4))
        texts = np.ones((3, 4))
        out = matching_sources.retrieval_recall(
            images, texts, [0, 1, 2], ks=(1, 2, 3)
        )
        for direction in ("image_to_text", "text_to_image"):
            self.assertEqual(out[f"{direction}/r@1"], 0.0)
            self.assertEqual(out[f"{direction}/r@2"], 0.0)
            self.assertEqual(out[f"{direction}/r@3"], 1.0)

    def test_other_positives_do_not_count(self):
        # Image 0 has 3 captions scoring above every negative.
        images = np.array([[1.0], [-1.0]])
        texts = np.array([[3.0], [2.0], [1.0], [-1.0]])
        out = matching_sources.retrieval_recall(
            images, texts, [0, 0, 0, 1], ks=(1,)
        )
        self.assertEqual(out["image_to_text/r@1"], 1.0)

    @parameterized.parameters(0, 1, 2)
    def test_matches_brute_force(self, seed):
        rng = np.random.default_rng(seed)
        num_images, num_texts = 7, 19
        index = np.concatenate(
            [
                np.arange(num_images),
                rng.integers(0, num_images, num_texts - num_images),
            ]
        )
        rng.shuffle(index)
        # Rounded values make ties frequent.
        images = rng.integers(-2, 3, (num_images, 3)).astype(np.float32)
        texts = rng.integers(-2, 3, (num_texts, 3)).astype(np.float32)
        ks = (1, 3, 5)
        got = matching_sources.retrieval_recall(images, texts, index, ks)
        want = brute_force_recall(images, texts, index, ks)
        for key, value in want.items():
            self.assertAlmostEqual(got[key], value, msg=key)

    def test_image_rows(self):
        per_caption = np.array([[0.0], [1.0], [2.0], [3.0]])
        np.testing.assert_array_equal(
            matching_sources.image_rows(per_caption, [1, 0, 1, 2], 3),
            [[1.0], [0.0], [3.0]],
        )
        with self.assertRaisesRegex(ValueError, r"images \[2\] have no"):
            matching_sources.image_rows(per_caption, [1, 0, 1, 0], 3)

    @parameterized.named_parameters(
        (
            "shapes",
            np.ones((2, 3)),
            np.ones((2, 4)),
            [0, 1],
            r"\(2, 3\) and \(2, 4\)",
        ),
        ("index_range", np.ones((2, 3)), np.ones((2, 3)), [0, 2], r"\[0, 2\)"),
        (
            "no_caption",
            np.ones((3, 3)),
            np.ones((2, 3)),
            [0, 1],
            r"images \[2\] have no caption",
        ),
        (
            "nan",
            np.full((2, 3), np.nan),
            np.ones((2, 3)),
            [0, 1],
            r"non-finite",
        ),
        (
            "index_shape",
            np.ones((2, 3)),
            np.ones((2, 3)),
            [0, 1, 1],
            r"shape \(2,\)",
        ),
    )
    def test_bad_arguments(self, images, texts, index, message):
        with self.assertRaisesRegex(ValueError, message):
            matching_sources.retrieval_recall(images, texts, index)


if __name__ == "__main__":
    absltest.main()
