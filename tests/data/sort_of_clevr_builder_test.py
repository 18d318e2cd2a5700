"""Tests of the Sort-of-CLEVR TFDS builder and tf.data pipelines."""

import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from mi_zoo.data import sort_of_clevr as soc
from mi_zoo.data.sort_of_clevr import builder as builder_lib

TINY = builder_lib.SortOfClevrConfig(
    name="tiny",
    num_train_images=3,
    num_validation_images=2,
    num_test_images=1,
    questions_per_image=4,
)


class BuilderTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.TemporaryDirectory()
        cls.data_dir = cls.tmp.name
        cls.builder = builder_lib.SortOfClevr(
            config=TINY, data_dir=cls.data_dir
        )
        cls.builder.download_and_prepare()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()
        super().tearDownClass()

    def test_split_sizes(self):
        splits = self.builder.info.splits
        self.assertEqual(splits["train"].num_examples, 12)
        self.assertEqual(splits["validation"].num_examples, 8)
        self.assertEqual(splits["test"].num_examples, 4)

    def test_reads_back_the_generator_output(self):
        for split in builder_lib.SPLITS:
            expected = {
                (ex["image_index"], ex["question_index"]): ex
                for ex in soc.generate(
                    TINY.num_images(split),
                    builder_lib.SPLIT_SEEDS[split],
                    questions_per_image=4,
                )
            }
            got = list(
                self.builder.as_dataset(split=split).as_numpy_iterator()
            )
            self.assertLen(got, len(expected))
            for ex in got:
                want = expected.pop((ex["image_index"], ex["question_index"]))
                np.testing.assert_array_equal(ex["image"], want["image"])
                self.assertEqual(ex["question"].decode(), want["question"])
                for key in ("question_vector", "question_tokens"):
                    np.testing.assert_array_equal(ex[key], want[key])
                    self.assertEqual(ex[key].dtype, np.int32)
                for key in ("answer", "question_type", "question_subtype"):
                    self.assertEqual(ex[key], want[key])
                for key in ("colour", "shape", "centre"):
                    np.testing.assert_array_equal(
                        ex["objects"][key], want["objects"][key]
                    )
                np.testing.assert_allclose(
                    ex["objects"]["box"], want["objects"]["box"]
                )
            self.assertEmpty(expected)

    def test_splits_differ(self):
        first = {}
        for split in builder_lib.SPLITS:
            ex = next(
                self.builder.as_dataset(split=split)
                .filter(lambda e: e["image_index"] == 0)
                .as_numpy_iterator()
            )
            first[split] = ex["image"]
        self.assertFalse(np.array_equal(first["train"], first["test"]))
        self.assertFalse(np.array_equal(first["train"], first["validation"]))

    def test_feature_names(self):
        features = self.builder.info.features
        self.assertEqual(features["answer"].names, list(soc.ANSWERS))
        self.assertEqual(
            features["question_subtype"].names, list(soc.QUESTION_FAMILIES)
        )
        self.assertEqual(features["image"].shape, (75, 75, 3))

    def test_tfds_pipeline_matches_the_generator_pipeline(self):
        def collect(**kwargs):
            ds = builder_lib.sort_of_clevr_dataset(
                "validation", 3, 0, config=TINY, shuffle=False, **kwargs
            )
            rows = []
            for inputs, answer in ds.as_numpy_iterator():
                for q, image, a in zip(
                    inputs["question"], inputs["image"], answer
                ):
                    rows.append((tuple(q), image.tobytes(), int(a)))
            return sorted(rows)

        self.assertEqual(
            collect(source="tfds", data_dir=self.data_dir), collect()
        )

    def test_unprepared_data_dir(self):
        with tempfile.TemporaryDirectory() as empty:
            with self.assertRaisesRegex(
                FileNotFoundError,
                r"No Sort-of-CLEVR build of config 'tiny' in data_dir="
                rf"'{empty}' \(no .*dataset_info.json\); build it",
            ):
                builder_lib.sort_of_clevr_dataset(
                    "train", 2, 0, config=TINY, source="tfds", data_dir=empty
                )


class DatasetTest(parameterized.TestCase):
    def test_batches_in_the_model_format(self):
        ds = builder_lib.sort_of_clevr_dataset(
            "train", 5, 0, config=TINY, drop_remainder=True
        )
        self.assertEqual(
            ds.element_spec[0]["question"], tf.TensorSpec([5, 13], tf.int32)
        )
        self.assertEqual(
            ds.element_spec[0]["image"],
            tf.TensorSpec([5, 75, 75, 3], tf.float32),
        )
        self.assertEqual(ds.element_spec[1], tf.TensorSpec([5], tf.int32))
        batches = list(ds.as_numpy_iterator())
        self.assertLen(batches, 2)  # 12 examples, remainder dropped
        image = batches[0][0]["image"]
        self.assertGreaterEqual(image.min(), 0.0)
        self.assertEqual(image.max(), 1.0)

    def test_examples_match_the_generator(self):
        ds = builder_lib.sort_of_clevr_dataset(
            "test", 4, 0, config=TINY, shuffle=False, with_info=True
        )
        inputs, answer, info = next(ds.as_numpy_iterator())
        expected = list(
            soc.generate(
                1, builder_lib.SPLIT_SEEDS["test"], questions_per_image=4
            )
        )
        for j, ex in enumerate(expected):
            np.testing.assert_array_equal(
                inputs["question"][j], ex["question_tokens"]
            )
            np.testing.assert_array_equal(
                np.round(inputs["image"][j] * 255).astype(np.uint8),
                ex["image"],
            )
            self.assertEqual(answer[j], ex["answer"])
            self.assertEqual(info["question_type"][j], ex["question_type"])
            self.assertEqual(
                info["question_subtype"][j], ex["question_subtype"]
            )

    def test_shuffle_is_seeded(self):
        def answers(seed):
            ds = builder_lib.sort_of_clevr_dataset(
                "train", 12, seed, config=TINY
            )
            inputs, answer = next(ds.as_numpy_iterator())
            return inputs["question"].tolist(), answer.tolist()

        self.assertEqual(answers(1), answers(1))
        self.assertNotEqual(answers(1)[0], answers(2)[0])

    def test_vector_questions_and_num_images(self):
        ds = builder_lib.sort_of_clevr_dataset(
            "train",
            100,
            0,
            config=TINY,
            num_images=2,
            question_format="vector",
        )
        inputs, answer = next(ds.as_numpy_iterator())
        self.assertEqual(inputs["question"].shape, (8, 11))
        self.assertEqual(inputs["question"].dtype, np.float32)
        np.testing.assert_array_equal(inputs["question"].sum(axis=1), 3)

    def test_vqa_spec(self):
        spec = builder_lib.vqa_spec("paper")
        self.assertEqual(spec.vocab_size, len(soc.VOCAB))
        self.assertEqual(spec.question_length, 13)
        self.assertEqual(spec.image_shape, (75, 75, 3))
        self.assertEqual(spec.num_answers, 10)

    def test_named_configs(self):
        paper = builder_lib.SortOfClevr.builder_configs["paper"]
        self.assertEqual(
            (paper.num_train_images, paper.num_test_images), (9800, 200)
        )
        self.assertEqual(paper.questions_per_image, 20)

    @parameterized.parameters(
        (
            dict(split="dev"),
            r"`split` must be one of \('train', 'validation',"
            r" 'test'\), got split='dev'",
        ),
        (dict(batch_size=0), r"batch_size=0"),
        (dict(seed=-1), r"seed=-1"),
        (
            dict(source="disk"),
            r"`source` must be one of \('generator', "
            r"'tfds'\), got source='disk'",
        ),
        (dict(question_format="text"), r"question_format='text'"),
        (
            dict(config="huge"),
            r"`config` must be a SortOfClevrConfig or one "
            r"of \('paper', 'small'\), got config='huge'",
        ),
        (
            dict(data_dir="/tmp"),
            r"`data_dir` is only read with "
            r"source='tfds'",
        ),
        (dict(source="tfds"), r"`data_dir` is needed with source='tfds'"),
        (
            dict(source="tfds", num_images=3, data_dir="/tmp"),
            r"`num_images` is only used with source='generator'",
        ),
        (dict(num_images=0), r"num_images=0"),
    )
    def test_bad_arguments(self, kwargs, message):
        args = dict(split="train", batch_size=2, seed=0, config=TINY)
        args.update(kwargs)
        with self.assertRaisesRegex(ValueError, message):
            builder_lib.sort_of_clevr_dataset(**args)

    def test_bad_config(self):
        with self.assertRaisesRegex(ValueError, r"num_test_images=0"):
            builder_lib.SortOfClevrConfig(name="bad", num_test_images=0)
        with self.assertRaisesRegex(ValueError, r"num_objects=9"):
            builder_lib.SortOfClevrConfig(name="bad", num_objects=9)


if __name__ == "__main__":
    absltest.main()
