"""Tests of the VQA v2 TFDS builder: built from fixtures in the official
formats, read back, compared with the `vqa_v2` reader."""

import itertools
import os
import tempfile

from absl.testing import absltest
import numpy as np
import tensorflow_datasets as tfds

from mi_zoo.data import tfds_manual
from mi_zoo.data import vocabulary
from mi_zoo.data import vqa_answers
from mi_zoo.data import vqa_v2
from mi_zoo.data.vqa_v2 import builder as vqa_v2_builder
from tests.data import fixtures

TINY = vqa_v2_builder.VqaV2Config(name="tiny", answer_min_count=1)
VAL_QUESTIONS = [(2, 40, "Is this a dog?"), (1, 41, "What color is it?")]
VAL_ANSWERS = {40: ["no"] * 8 + ["yes"] * 2, 41: ["brown"] * 2 + ["black"] * 8}


def prepare(root, config=TINY):
    manual = os.path.join(root, "manual")
    os.makedirs(manual)
    fixtures.write_vqa_json(manual, "train2014")
    fixtures.write_vqa_json(manual, "val2014", VAL_QUESTIONS, VAL_ANSWERS)
    data_dir = os.path.join(root, "tfds")
    builder = vqa_v2_builder.VqaV2(config=config, data_dir=data_dir)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=manual)
    )
    return manual, data_dir, builder


class VqaV2BuilderTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.TemporaryDirectory()
        cls.manual, cls.data_dir, cls.builder = prepare(cls.tmp.name)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()
        super().tearDownClass()

    def records(self, split):
        builder = vqa_v2_builder.VqaV2(config=TINY, data_dir=self.data_dir)
        return {
            int(r["question_id"]): r
            for r in tfds.as_numpy(builder.as_dataset(split=split))
        }

    def test_registered_name_and_splits(self):
        self.assertEqual(self.builder.name, "vqa_v2")
        self.assertIs(tfds.builder_cls("vqa_v2"), vqa_v2_builder.VqaV2)
        splits = self.builder.info.splits
        self.assertEqual(splits["train"].num_examples, 5)
        self.assertEqual(splits["validation"].num_examples, 2)

    def test_vocabularies_travel_with_the_build(self):
        builder = vqa_v2_builder.VqaV2(config=TINY, data_dir=self.data_dir)
        train = [q for _, _, q in fixtures.VQA_QUESTIONS]
        qvocab = tfds_manual.word_vocabulary(builder, "question_tokens")
        self.assertEqual(qvocab, vocabulary.Vocabulary.from_texts(train))
        answers = vqa_v2_builder.answer_vocab(builder)
        self.assertEqual(
            answers.answers,
            vqa_answers.AnswerVocab.build(
                vqa_v2.load_annotations(
                    os.path.join(
                        self.manual, "v2_mscoco_train2014_annotations.json"
                    )
                ).values(),
                min_count=1,
            ).answers,
        )

    def test_records_equal_the_reader(self):
        builder = vqa_v2_builder.VqaV2(config=TINY, data_dir=self.data_dir)
        qvocab = tfds_manual.word_vocabulary(builder, "question_tokens")
        avocab = vqa_v2_builder.answer_vocab(builder)
        for split, official in vqa_v2_builder.SPLITS.items():
            files = vqa_v2.split_files(self.manual, official)
            records = self.records(split)
            pairs = list(
                vqa_v2.iter_examples(files["questions"], files["annotations"])
            )
            self.assertCountEqual(
                records, [int(q["question_id"]) for q, _ in pairs]
            )
            for q, ann in pairs:
                r = records[int(q["question_id"])]
                self.assertEqual(r["image_id"], q["image_id"])
                self.assertEqual(r["question"].decode(), q["question"])
                np.testing.assert_array_equal(
                    r["question_tokens"], qvocab.encode(q["question"])
                )
                self.assertEqual(r["question_type"].decode(), "what")
                self.assertEqual(
                    vqa_v2.ANSWER_TYPES[r["answer_type"]], "other"
                )
                ids, counts = avocab.targets(ann["answers"], "counts")
                np.testing.assert_array_equal(r["answers"]["label"], ids)
                np.testing.assert_array_equal(r["answers"]["count"], counts)
                np.testing.assert_allclose(
                    r["answers"]["soft_score"],
                    avocab.targets(ann["answers"], "soft")[1],
                )
                ids, counts = avocab.targets(
                    ann["answers"], "counts", strict=True
                )
                np.testing.assert_array_equal(
                    r["official_answers"]["label"], ids
                )
                np.testing.assert_array_equal(
                    r["official_answers"]["count"], counts
                )
        # Question 41 (val): 8 x "black" is not a train answer, so only
        # "brown" (2 annotators) is kept.
        r = self.records("validation")[41]
        self.assertEqual(avocab.answers[r["answers"]["label"][0]], "brown")
        np.testing.assert_allclose(r["answers"]["soft_score"], [2 / 3])
        # Question 10 (train): "Brown." counts for "brown" in the training
        # targets, not as the official evaluator matches strings.
        r = self.records("train")[10]
        brown = avocab.answers.index("brown")
        self.assertEqual(
            r["answers"]["count"][list(r["answers"]["label"]).index(brown)], 8
        )
        self.assertEqual(
            r["official_answers"]["count"][
                list(r["official_answers"]["label"]).index(brown)
            ],
            7,
        )

    def test_batches_equal_the_reader_pipeline(self):
        builder = vqa_v2_builder.VqaV2(config=TINY, data_dir=self.data_dir)
        qvocab = tfds_manual.word_vocabulary(builder, "question_tokens")
        avocab = vqa_v2_builder.answer_vocab(builder)
        features = fixtures.write_ban_adaptive_hdf5(
            fixtures.tempdir(self), dim=8
        )
        files = vqa_v2.split_files(self.manual, "train2014")
        for target, strict in itertools.product(
            vqa_v2_builder.TARGETS, (False, True)
        ):
            want = {}
            for x, y in vqa_v2.vqa_v2_dataset(
                files["questions"],
                files["annotations"],
                features,
                avocab,
                5,
                qvocab,
                target=target,
                strict=strict,
            ):
                for k, qid in enumerate(x["question_id"].numpy()):
                    want[int(qid)] = (
                        {key: v[k].numpy() for key, v in x.items()},
                        y[k].numpy(),
                    )
            got = {}
            for x, y in vqa_v2_builder.vqa_v2_tfds_dataset(
                "train",
                features,
                2,
                data_dir=self.data_dir,
                config=TINY,
                target=target,
                strict=strict,
            ):
                self.assertEqual(x["question"].dtype.name, "int32")
                self.assertEqual(x["image"].shape[1:], (15, 8))
                for k, qid in enumerate(x["question_id"].numpy()):
                    got[int(qid)] = (
                        {key: v[k].numpy() for key, v in x.items()},
                        y[k].numpy(),
                    )
            self.assertCountEqual(got, want)
            for qid, (x, y) in want.items():
                for key in x:
                    np.testing.assert_array_equal(got[qid][0][key], x[key])
                np.testing.assert_allclose(got[qid][1], y)

    def test_not_prepared(self):
        empty = fixtures.tempdir(self)
        with self.assertRaisesRegex(
            FileNotFoundError,
            r"No VQA v2 build in "
            rf"data_dir='{empty}'.*download_and_"
            r"prepare",
        ):
            vqa_v2_builder.vqa_v2_tfds_dataset(
                "train", "x.hdf5", 2, data_dir=empty, config=TINY
            )
        with self.assertRaisesRegex(
            ValueError,
            r"`split` must be one of "
            r"\('train', 'validation'\), got "
            r"split='val2014'",
        ):
            vqa_v2_builder.vqa_v2_tfds_dataset(
                "val2014", "x.hdf5", 2, data_dir=empty
            )


class VqaV2BuilderErrorsTest(absltest.TestCase):
    def test_missing_manual_dir_names_it_and_the_files(self):
        missing = os.path.join(fixtures.tempdir(self), "vqa")
        builder = vqa_v2_builder.VqaV2(
            config=TINY, data_dir=fixtures.tempdir(self)
        )
        with self.assertRaisesRegex(
            FileNotFoundError,
            rf"(?s)Building 'vqa_v2' needs the original files in its "
            rf"manual directory.*{missing} does not exist or is empty"
            rf".*v2_OpenEnded_mscoco_train2014_questions.json",
        ):
            builder.download_and_prepare(
                download_config=tfds.download.DownloadConfig(
                    manual_dir=missing
                )
            )

    def test_missing_file_is_named(self):
        manual = fixtures.tempdir(self)
        fixtures.write_vqa_json(manual, "train2014")
        builder = vqa_v2_builder.VqaV2(
            config=TINY, data_dir=fixtures.tempdir(self)
        )
        with self.assertRaisesRegex(
            FileNotFoundError,
            r"VQA v2 questions "
            r"file '.*val2014_questions.json' is "
            r"missing from the manual directory",
        ):
            builder.download_and_prepare(
                download_config=tfds.download.DownloadConfig(manual_dir=manual)
            )

    def test_bad_config(self):
        with self.assertRaisesRegex(
            ValueError,
            r"`answer_min_count` must be "
            r"a positive integer, got "
            r"answer_min_count=0",
        ):
            vqa_v2_builder.VqaV2Config(name="bad", answer_min_count=0)


if __name__ == "__main__":
    absltest.main()
