"""Tests of the CLEVR v1.0 reader on a tiny fixture in the real layout."""

import json
import os

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from mi_zoo.data import clevr
from mi_zoo.data import vocabulary
from tests.data import fixtures


class QuestionTypeTest(parameterized.TestCase):
    @parameterized.parameters(
        ("exist", "exist"),
        ("count", "count"),
        ("equal_integer", "compare_integer"),
        ("less_than", "compare_integer"),
        ("greater_than", "compare_integer"),
        ("query_color", "query_attribute"),
        ("query_shape", "query_attribute"),
        ("equal_material", "compare_attribute"),
        ("equal_size", "compare_attribute"),
    )
    def test_type_from_last_function(self, function, expected):
        program = [{"function": "scene"}, {"function": function}]
        self.assertEqual(clevr.question_type(program), expected)
        self.assertEqual(clevr.question_type([{"type": function}]), expected)

    def test_unknown_function(self):
        with self.assertRaisesRegex(
            ValueError,
            r"ends with unknown function "
            r"'filter_color'",
        ):
            clevr.question_type([{"function": "filter_color"}])
        with self.assertRaisesRegex(ValueError, "program is empty"):
            clevr.question_type([])


class ClevrDatasetTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.dir = fixtures.tempdir(self)
        self.qpath = fixtures.write_clevr(self.dir, "val")
        questions = clevr.load_questions(self.qpath)
        self.vocab = vocabulary.Vocabulary.from_texts(
            q["question"] for q in questions
        )
        self.answers = clevr.build_answer_vocab(questions)

    def test_examples(self):
        self.assertEqual(self.answers, ["2", "no", "red", "yes"])
        ds = clevr.clevr_dataset(
            self.dir, "val", self.vocab, self.answers, 4, image_size=(8, 12)
        )
        batches = list(ds)
        self.assertLen(batches, 2)
        inputs, labels = batches[0]
        self.assertEqual(inputs["image"].shape, (4, 8, 12, 3))
        self.assertEqual(inputs["image"].dtype.name, "float32")
        np.testing.assert_allclose(
            inputs["image"][0, 3, 3], [1, 0, 0], atol=1e-6
        )  # image 0 is red
        np.testing.assert_allclose(
            inputs["image"][2, 3, 3], [0, 1, 0], atol=1e-6
        )  # image 1 is green
        self.assertEqual(inputs["question"].dtype.name, "int32")
        self.assertEqual(inputs["question"].shape[1], 9)  # longest question
        self.assertEqual(
            self.vocab.decode_text(inputs["question"][0].numpy()),
            "is there a red cube",
        )
        np.testing.assert_array_equal(labels, [3, 0, 1, 2])
        types = np.concatenate([b[0]["question_type"] for b in batches])
        np.testing.assert_array_equal(
            [clevr.QUESTION_TYPES[t] for t in types],
            [
                "exist",
                "count",
                "compare_integer",
                "query_attribute",
                "compare_attribute",
                "compare_integer",
            ],
        )

    def test_manual_dir_may_be_clevr_root_and_shuffle_is_seeded(self):
        root = os.path.join(self.dir, "CLEVR_v1.0")

        def order(seed):
            ds = clevr.clevr_dataset(
                root,
                "val",
                self.vocab,
                self.answers,
                6,
                shuffle=True,
                seed=seed,
                image_size=(4, 4),
            )
            return next(iter(ds))[1].numpy().tolist()

        self.assertEqual(order(1), order(1))
        self.assertCountEqual(order(1), [3, 0, 1, 2, 3, 3])

    def test_test_split_without_answers(self):
        questions = [(0, "Is there a cube?", None, "exist")]
        path = fixtures.write_clevr(self.dir, "test", questions)
        with open(path) as f:
            data = json.load(f)
        for q in data["questions"]:
            del q["answer"], q["program"]
        with open(path, "w") as f:
            json.dump(data, f)
        inputs = next(
            iter(
                clevr.clevr_dataset(
                    self.dir, "test", self.vocab, None, 2, image_size=(4, 4)
                )
            )
        )
        self.assertIsInstance(inputs, dict)
        self.assertEqual(int(inputs["question_type"][0]), -1)
        with self.assertRaisesRegex(ValueError, r"question 0 has no answer"):
            clevr.clevr_dataset(self.dir, "test", self.vocab, self.answers, 2)

    def test_per_type_accuracy(self):
        acc = clevr.per_type_accuracy([1, 2, 3, 3], [1, 0, 3, 3], [0, 0, 1, 3])
        self.assertEqual(
            acc,
            {
                "exist": 0.5,
                "count": 1.0,
                "query_attribute": 1.0,
                "overall": 0.75,
            },
        )
        logits = np.eye(4)[[1, 2]]
        self.assertEqual(
            clevr.per_type_accuracy(logits, [1, 1], [4, 4]),
            {"compare_attribute": 0.5, "overall": 0.5},
        )
        with self.assertRaisesRegex(ValueError, r"got shapes \(2,\), \(3,\)"):
            clevr.per_type_accuracy([1, 2], [1, 2, 3], [0, 0])

    def test_missing_files(self):
        with self.assertRaisesRegex(
            FileNotFoundError,
            r"CLEVR manual "
            r"directory '/no/clevr' does not exist",
        ):
            clevr.clevr_dataset("/no/clevr", "val", self.vocab, None, 2)
        with self.assertRaisesRegex(
            FileNotFoundError,
            r"questions file "
            r"'.*CLEVR_train_questions.json' does "
            r"not exist",
        ):
            clevr.clevr_dataset(self.dir, "train", self.vocab, None, 2)
        os.remove(
            os.path.join(
                self.dir, "CLEVR_v1.0", "images", "val", "CLEVR_val_000001.png"
            )
        )
        with self.assertRaisesRegex(
            FileNotFoundError,
            r"CLEVR image "
            r"'.*CLEVR_val_000001.png' \(named in "
            r"'.*CLEVR_val_questions.json'\)",
        ):
            clevr.clevr_dataset(self.dir, "val", self.vocab, self.answers, 2)

    def test_bad_question_files(self):
        with self.assertRaisesRegex(
            ValueError,
            r"answer 'red', which is not "
            r"in the answer list",
        ):
            clevr.clevr_dataset(
                self.dir, "val", self.vocab, ["yes", "no", "2"], 2
            )
        with open(self.qpath, "w") as f:
            f.write('{"questions": [{"image_ind')
        with self.assertRaisesRegex(
            ValueError,
            r"CLEVR questions file "
            r"'.*CLEVR_val_questions.json' is not "
            r"valid JSON",
        ):
            clevr.clevr_dataset(self.dir, "val", self.vocab, self.answers, 2)
        open(self.qpath, "w").close()
        with self.assertRaisesRegex(
            ValueError,
            r"CLEVR questions file "
            r"'.*CLEVR_val_questions.json' is empty",
        ):
            clevr.clevr_dataset(self.dir, "val", self.vocab, self.answers, 2)
        with open(self.qpath, "w") as f:
            json.dump({"questions": []}, f)
        with self.assertRaisesRegex(ValueError, r"has no questions"):
            clevr.clevr_dataset(self.dir, "val", self.vocab, self.answers, 2)


if __name__ == "__main__":
    absltest.main()
