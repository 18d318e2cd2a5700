"""Tests of the CLEVR v1.0 TFDS builder (`clevr_v1`): built from fixtures in
the original layout, read back, compared with the `clevr` reader."""

import os
import tempfile

from absl.testing import absltest
import numpy as np
from PIL import Image
import tensorflow_datasets as tfds

from mi_zoo.data import clevr
from mi_zoo.data import tfds_manual
from mi_zoo.data import vocabulary
from mi_zoo.data.clevr import builder as clevr_v1_builder
from tests.data import fixtures

VAL_QUESTIONS = fixtures.CLEVR_QUESTIONS[1:4]


def as_list(x):
    """Nested lists of a (ragged) record field, strings decoded."""
    x = x.to_list() if hasattr(x, "to_list") else np.asarray(x).tolist()

    def decode(v):
        if isinstance(v, list):
            return [decode(i) for i in v]
        return v.decode() if isinstance(v, bytes) else v

    return decode(x)


class ClevrV1BuilderTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.TemporaryDirectory()
        cls.manual = os.path.join(cls.tmp.name, "manual")
        fixtures.write_clevr(cls.manual, "train")
        fixtures.write_clevr(cls.manual, "val", VAL_QUESTIONS)
        cls.data_dir = os.path.join(cls.tmp.name, "tfds")
        cls.builder = clevr_v1_builder.ClevrV1(data_dir=cls.data_dir)
        cls.builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=cls.manual)
        )

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()
        super().tearDownClass()

    def test_name_does_not_clash_with_tfds_clevr(self):
        self.assertEqual(self.builder.name, "clevr_v1")
        self.assertIs(tfds.builder_cls("clevr_v1"), clevr_v1_builder.ClevrV1)
        self.assertIsNot(tfds.builder_cls("clevr"), clevr_v1_builder.ClevrV1)

    def test_splits_and_vocabularies(self):
        builder = clevr_v1_builder.ClevrV1(data_dir=self.data_dir)
        splits = builder.info.splits
        self.assertEqual(splits["train"].num_examples, 3)  # images
        self.assertEqual(splits["validation"].num_examples, 2)
        train = clevr.load_questions(
            clevr.split_paths(self.manual, "train")[0]
        )
        self.assertEqual(
            tfds_manual.word_vocabulary(builder, "questions/question_tokens"),
            vocabulary.Vocabulary.from_texts(q["question"] for q in train),
        )
        self.assertEqual(
            builder.info.features["questions"]["answer"].names,
            clevr.build_answer_vocab(train),
        )

    def test_records_equal_the_files(self):
        builder = clevr_v1_builder.ClevrV1(data_dir=self.data_dir)
        qvocab = tfds_manual.word_vocabulary(
            builder, "questions/question_tokens"
        )
        answers = builder.info.features["questions"]["answer"].names
        for split, name in clevr_v1_builder.SPLITS.items():
            qpath, images = clevr.split_paths(self.manual, name)
            questions = clevr.load_questions(qpath)
            records = {
                r["image_filename"].decode(): r
                for r in tfds.as_numpy(builder.as_dataset(split=split))
            }
            self.assertCountEqual(
                records, {q["image_filename"] for q in questions}
            )
            seen = 0
            for filename, r in records.items():
                want_image = np.asarray(
                    Image.open(os.path.join(images, filename)).convert("RGB")
                )
                np.testing.assert_array_equal(r["image"], want_image)
                mine = [
                    q for q in questions if q["image_filename"] == filename
                ]
                self.assertEqual(r["image_index"], mine[0]["image_index"])
                qs = r["questions"]
                self.assertEqual(
                    [t.decode() for t in qs["question"]],
                    [q["question"] for q in mine],
                )
                for k, q in enumerate(mine):
                    np.testing.assert_array_equal(
                        as_list(qs["question_tokens"])[k],
                        qvocab.encode(q["question"]),
                    )
                    self.assertEqual(answers[qs["answer"][k]], q["answer"])
                    self.assertEqual(
                        qs["question_type"][k], clevr.question_type_id(q)
                    )
                    self.assertEqual(
                        qs["question_family_index"][k],
                        q["question_family_index"],
                    )
                    program = qs["program"]
                    for key in ("function", "inputs", "value_inputs"):
                        self.assertEqual(
                            as_list(program[key])[k],
                            [step[key] for step in q["program"]],
                        )
                seen += len(mine)
            self.assertEqual(seen, len(questions))

    def test_dataset_equals_the_reader(self):
        builder = clevr_v1_builder.ClevrV1(data_dir=self.data_dir)
        qvocab = tfds_manual.word_vocabulary(
            builder, "questions/question_tokens"
        )
        answers = builder.info.features["questions"]["answer"].names

        def rows(ds):
            out = []
            for x, y in ds:
                for k in range(len(y)):
                    out.append(
                        (
                            x["question"][k].numpy().tolist(),
                            x["image"][k].numpy(),
                            int(x["question_type"][k]),
                            int(y[k]),
                        )
                    )
            return sorted(out, key=lambda r: (r[0], r[3]))

        want = rows(
            clevr.clevr_dataset(
                self.manual,
                "val",
                qvocab,
                answers,
                2,
                image_size=(8, 12),
                max_question_length=9,
            )
        )
        got = rows(
            clevr_v1_builder.clevr_v1_dataset(
                "validation",
                2,
                data_dir=self.data_dir,
                image_size=(8, 12),
                max_question_length=9,
            )
        )
        self.assertLen(got, len(VAL_QUESTIONS))
        for g, w in zip(got, want):
            self.assertEqual(g[0], w[0])
            np.testing.assert_allclose(g[1], w[1], atol=1e-6)
            self.assertEqual(g[2:], w[2:])

    def test_not_prepared(self):
        empty = fixtures.tempdir(self)
        with self.assertRaisesRegex(
            FileNotFoundError,
            rf"^No CLEVR v1.0 build in data_dir='{empty}' \(looked in "
            rf"'{empty}.*'\); build it with ClevrV1\(data_dir='{empty}'\)"
            r"\.download_and_prepare\(download_config=tfds\.download\."
            r"DownloadConfig\(manual_dir=\.\.\.\)\)\.$",
        ):
            clevr_v1_builder.clevr_v1_dataset("train", 2, data_dir=empty)


class ClevrV1BuilderErrorsTest(absltest.TestCase):
    def prepare(self, manual):
        builder = clevr_v1_builder.ClevrV1(data_dir=fixtures.tempdir(self))
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=manual)
        )

    def test_missing_manual_dir_names_it_and_the_files(self):
        missing = os.path.join(fixtures.tempdir(self), "clevr")
        with self.assertRaisesRegex(
            FileNotFoundError,
            rf"(?s)Building 'clevr_v1' needs the original files in its "
            rf"manual directory.*{missing} does not exist or is empty"
            rf".*CLEVR_v1.0/questions/CLEVR_\{{train,val\}}_questions",
        ):
            self.prepare(missing)

    def test_missing_split_is_named(self):
        manual = fixtures.tempdir(self)
        fixtures.write_clevr(manual, "train")
        with self.assertRaisesRegex(
            FileNotFoundError,
            r"CLEVR questions file "
            r"'.*CLEVR_val_questions.json' does not "
            r"exist",
        ):
            self.prepare(manual)

    def test_rgba_png_is_stored_as_rgb(self):
        # The real CLEVR PNGs have an alpha channel.
        manual = fixtures.tempdir(self)
        fixtures.write_clevr(manual, "train")
        fixtures.write_clevr(manual, "val", VAL_QUESTIONS)
        path = os.path.join(
            manual, "CLEVR_v1.0", "images", "val", "CLEVR_val_000001.png"
        )
        Image.new("RGBA", (24, 16), (1, 2, 3, 100)).save(path)
        data_dir = fixtures.tempdir(self)
        builder = clevr_v1_builder.ClevrV1(data_dir=data_dir)
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=manual)
        )
        records = {
            r["image_filename"].decode(): r["image"]
            for r in tfds.as_numpy(builder.as_dataset(split="validation"))
        }
        image = records["CLEVR_val_000001.png"]
        self.assertEqual(image.shape, (16, 24, 3))
        np.testing.assert_array_equal(image[0, 0], [1, 2, 3])

    def test_unknown_val_answer_is_named(self):
        manual = fixtures.tempdir(self)
        fixtures.write_clevr(manual, "train", fixtures.CLEVR_QUESTIONS[:2])
        fixtures.write_clevr(manual, "val", fixtures.CLEVR_QUESTIONS[2:4])
        with self.assertRaisesRegex(
            ValueError,
            r"'.*CLEVR_val_questions.json'"
            r": question 0 has answer 'no', which is "
            r"not in the answer list",
        ):
            self.prepare(manual)


if __name__ == "__main__":
    absltest.main()
