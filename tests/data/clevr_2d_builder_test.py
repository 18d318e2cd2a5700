"""Tests of the CLEVR-2D TFDS builder and its `tf.data` pipeline."""

import json
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from mi_zoo.data import clevr_2d
from mi_zoo.data.clevr_2d import builder as clevr_2d_builder


def tiny_config(**kwargs):
    args = dict(
        name="tiny",
        train_size=12,
        validation_size=5,
        test_size=4,
        image_size=32,
    )
    args.update(kwargs)
    return clevr_2d_builder.Clevr2dConfig(**args)


class BuilderTest(parameterized.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data_dir = tempfile.mkdtemp()
        cls.builder = clevr_2d_builder.Clevr2d(
            config=tiny_config(), data_dir=cls.data_dir
        )
        cls.builder.download_and_prepare()

    def test_splits(self):
        splits = self.builder.info.splits
        self.assertEqual(
            {k: splits[k].num_examples for k in splits},
            {"train": 12, "validation": 5, "test": 4},
        )

    def test_features(self):
        ex = next(iter(self.builder.as_dataset(split="validation")))
        self.assertEqual(ex["image"].shape, (32, 32, 3))
        program = json.loads(ex["program"].numpy().decode())
        objects = ex["objects"]
        n = int(tf.shape(objects["box"])[0])
        self.assertBetween(n, 3, 6)
        scene = [
            {
                "position": tuple(objects["position"][i].numpy()),
                **{
                    a: v[int(objects[a][i])]
                    for a, v in clevr_2d.ATTRIBUTES.items()
                },
            }
            for i in range(n)
        ]
        answer = clevr_2d.ANSWERS[int(ex["answer"])]
        self.assertEqual(clevr_2d.execute(program, scene), answer)
        np.testing.assert_array_equal(
            ex["question_tokens"].numpy(),
            clevr_2d.encode(ex["question"].numpy().decode()),
        )
        self.assertIn("From left to right", ex["caption"].numpy().decode())

    def test_splits_differ_and_rebuild_is_identical(self):
        questions = {
            s: [
                e["question"].numpy() for e in self.builder.as_dataset(split=s)
            ]
            for s in ("validation", "test")
        }
        self.assertNotEqual(questions["validation"][:4], questions["test"])
        other = clevr_2d_builder.Clevr2d(
            config=tiny_config(), data_dir=tempfile.mkdtemp()
        )
        other.download_and_prepare()
        self.assertEqual(
            sorted(
                e["question"].numpy() for e in other.as_dataset(split="test")
            ),
            sorted(questions["test"]),
        )

    def test_pixels_pipeline(self):
        ds = clevr_2d_builder.clevr_2d_dataset(
            "train", batch_size=4, seed=0, builder=self.builder
        )
        inputs, answers = next(iter(ds))
        self.assertEqual(
            inputs["question"].shape, (4, clevr_2d.QUESTION_LENGTH)
        )
        self.assertEqual(inputs["question"].dtype, tf.int32)
        self.assertEqual(inputs["image"].shape, (4, 32, 32, 3))
        self.assertEqual(inputs["image"].dtype, tf.float32)
        self.assertLessEqual(float(tf.reduce_max(inputs["image"])), 1.0)
        self.assertEqual(answers.dtype, tf.int32)

    def test_regions_pipeline(self):
        ds = clevr_2d_builder.clevr_2d_dataset(
            "validation",
            batch_size=5,
            seed=0,
            image_kind="regions",
            builder=self.builder,
            shuffle=False,
        )
        inputs, _ = next(iter(ds))
        r, c = clevr_2d_builder.MAX_REGIONS, clevr_2d_builder.REGION_FEATURES
        self.assertEqual(inputs["image"].shape, (5, r, c))
        self.assertEqual(inputs["boxes"].shape, (5, r, 4))
        ex = next(
            iter(
                self.builder.as_dataset(
                    split="validation", shuffle_files=False
                )
            )
        )
        n = int(tf.shape(ex["objects"]["box"])[0])
        feats = inputs["image"][0].numpy()
        # Real regions have 4 one-hot ones; padding rows are all zero.
        np.testing.assert_array_equal(feats[:n, :15].sum(-1), 4.0)
        np.testing.assert_array_equal(feats[n:], 0.0)
        np.testing.assert_allclose(
            inputs["boxes"][0, :n], ex["objects"]["box"]
        )
        colors = feats[:n, :8].argmax(-1)
        np.testing.assert_array_equal(colors, ex["objects"]["color"])

    def test_order_is_seeded(self):
        def answers(seed):
            ds = clevr_2d_builder.clevr_2d_dataset(
                "train", batch_size=12, seed=seed, builder=self.builder
            )
            return next(iter(ds))[1].numpy().tolist()

        self.assertEqual(answers(1), answers(1))

    def test_with_info_repeat_and_limit(self):
        ds = clevr_2d_builder.clevr_2d_dataset(
            "validation",
            batch_size=3,
            seed=0,
            builder=self.builder,
            shuffle=False,
            with_info=True,
        )
        types = [
            int(e["question_type"])
            for e in self.builder.as_dataset(
                split="validation", shuffle_files=False
            )
        ]
        got = [
            t
            for _, _, info in ds
            for t in info["question_type"].numpy().tolist()
        ]
        self.assertEqual(got, types)
        ds = clevr_2d_builder.clevr_2d_dataset(
            "validation",
            batch_size=3,
            seed=0,
            builder=self.builder,
            repeat=True,
            drop_remainder=True,
            limit=2,
        )
        answers = [a for _, batch in ds.take(4) for a in batch.numpy()]
        self.assertLen(answers, 12)  # Past the 2 examples kept: repeated.
        self.assertLessEqual(len(set(map(int, answers))), 2)

    def test_question_too_long(self):
        ds = clevr_2d_builder.clevr_2d_dataset(
            "train",
            batch_size=12,
            seed=0,
            builder=self.builder,
            question_length=3,
        )
        with self.assertRaisesRegex(
            tf.errors.InvalidArgumentError, r"longer than question_length=3"
        ):
            next(iter(ds))

    @parameterized.named_parameters(
        ("image_kind", dict(image_kind="grid"), r"image_kind='grid'"),
        ("batch_size", dict(batch_size=0), r"batch_size=0"),
        ("split", dict(split="dev"), r"split='dev'"),
        ("limit", dict(limit=0), r"limit=0"),
    )
    def test_bad_arguments(self, kwargs, message):
        args = dict(split="train", batch_size=2, seed=0, builder=self.builder)
        args.update(kwargs)
        with self.assertRaisesRegex(ValueError, message):
            clevr_2d_builder.clevr_2d_dataset(**args)

    @parameterized.named_parameters(
        ("size", dict(train_size=0), r"train_size=0"),
        ("objects", dict(max_objects=12), r"max_objects=12"),
    )
    def test_bad_config(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            clevr_2d_builder.Clevr2d(
                config=tiny_config(**kwargs), data_dir=tempfile.mkdtemp()
            ).info


if __name__ == "__main__":
    absltest.main()
