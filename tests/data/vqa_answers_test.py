"""Tests of VQA answer normalisation, vocabulary, scores and accuracy."""

import itertools
import os

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.data import vqa_answers
from mi_zoo.models import objectives
from tests.data import fixtures


def brute_force_accuracy(prediction, gt_answers):
    """Official accuracy: mean over the 10 choose 9 annotator subsets."""
    accs = []
    for subset in itertools.combinations(
        range(len(gt_answers)), len(gt_answers) - 1
    ):
        matches = sum(gt_answers[k] == prediction for k in subset)
        accs.append(min(matches / 3.0, 1.0))
    return float(np.mean(accs))


class NormalizeTest(parameterized.TestCase):
    @parameterized.parameters(
        ("Two", "2"),
        ("two.", "2"),
        ("none", "0"),
        ("A dog", "dog"),
        ("the  Red  ball", "red ball"),
        ("an apple", "apple"),
        ("dont know", "don't know"),
        ("whats that", "what's that"),
        ("couldnt've", "couldn't've"),
        ("couldn'tve", "couldn't've"),
        ("1,000", "1000"),
        ("2.5", "2.5"),
        ("yes.", "yes"),
        ("black/white", "black white"),
        ("black / white", "black white"),
        ("t-shirt", "t shirt"),
        ("(left)", "left"),
        ("its", "its"),
        ("hi!\n", "hi"),
        ("  Yes ", "yes"),
    )
    def test_normalize(self, raw, expected):
        self.assertEqual(vqa_answers.normalize_answer(raw), expected)


class ScoresTest(parameterized.TestCase):
    def test_soft_score(self):
        np.testing.assert_allclose(
            vqa_answers.soft_score([0, 1, 2, 3, 10]),
            [0, 1 / 3, 2 / 3, 1, 1],
            rtol=1e-6,
        )

    @parameterized.parameters(range(11))
    def test_official_matches_brute_force(self, count):
        gt = ["x"] * count + ["y"] * (10 - count)
        self.assertAlmostEqual(
            float(vqa_answers.count_accuracy(count)),
            brute_force_accuracy("x", gt),
        )

    def test_answer_counts_normalise(self):
        counts = vqa_answers.answer_counts(fixtures.VQA_ANSWERS[11])
        self.assertEqual(counts, {"2": 6, "3": 3, "many": 1})


class AnswerVocabTest(absltest.TestCase):
    def annotations(self):
        return [
            {"multiple_choice_answer": a}
            for a in ["yes"] * 3 + ["Yes."] + ["two", "2", "2"] + ["rare"]
        ]

    def test_build_threshold_and_order(self):
        vocab = vqa_answers.AnswerVocab.build(self.annotations(), min_count=2)
        self.assertEqual(vocab.answers, ["yes", "2"])
        vocab = vqa_answers.AnswerVocab.build(
            self.annotations(), min_count=1, max_size=2
        )
        self.assertEqual(vocab.answers, ["yes", "2"])

    def test_build_nothing_kept(self):
        with self.assertRaisesRegex(
            ValueError,
            "no answer occurs min_count=9 times among 8 annotations",
        ):
            vqa_answers.AnswerVocab.build(self.annotations())

    def test_targets_drop_unknown_answers(self):
        vocab = vqa_answers.AnswerVocab(["2", "3", "yes"])
        ids, scores = vocab.targets(fixtures.VQA_ANSWERS[11])
        self.assertEqual(ids, [0, 1])  # "many" is dropped
        np.testing.assert_allclose(scores, [1.0, 1.0])
        ids, counts = vocab.targets(fixtures.VQA_ANSWERS[11], "counts")
        self.assertEqual(counts, [6.0, 3.0])
        dense = vocab.dense_targets(["7"] * 10)
        np.testing.assert_array_equal(dense, np.zeros(3))
        official = vocab.dense_targets(["2"] * 2 + ["9"] * 8, "official")
        self.assertAlmostEqual(
            float(official[0]),
            brute_force_accuracy("2", ["2"] * 2 + ["9"] * 8),
        )

    def test_bad_scoring(self):
        with self.assertRaisesRegex(ValueError, r"`scoring` must be one of"):
            vqa_answers.AnswerVocab(["a"]).targets(["a"], "hard")

    def test_save_load_and_bad_file(self):
        tmp = fixtures.tempdir(self)
        path = os.path.join(tmp, "answers.json")
        vqa_answers.AnswerVocab(["yes", "no", "2"]).save(path)
        self.assertEqual(
            vqa_answers.AnswerVocab.load(path).answers, ["yes", "no", "2"]
        )
        with open(path, "w") as f:
            f.write('{"answers": []}')
        with self.assertRaisesRegex(
            ValueError,
            r"answer vocabulary file "
            r"'.*answers.json' must hold",
        ):
            vqa_answers.AnswerVocab.load(path)
        with open(path, "w") as f:
            f.write('{"answers": ["ye')
        with self.assertRaisesRegex(ValueError, "not valid JSON"):
            vqa_answers.AnswerVocab.load(path)


class VqaAccuracyTest(absltest.TestCase):
    """The VQA objective's metric (formerly `vqa_answers.VqaAccuracy`) on
    the vocabulary's count targets."""

    def test_counts_match_brute_force(self):
        rng = np.random.default_rng(0)
        vocab = vqa_answers.AnswerVocab([str(k) for k in range(6)])
        gts, preds, counts = [], [], []
        for _ in range(40):
            gt = [str(k) for k in rng.integers(0, 8, 10)]  # 6, 7 unknown
            gts.append(gt)
            counts.append(vocab.dense_targets(gt, "counts"))
            preds.append(rng.normal(size=6))
        expected = np.mean(
            [
                brute_force_accuracy(str(int(np.argmax(p))), g)
                for p, g in zip(preds, gts)
            ]
        )
        metric = objectives.VqaAccuracy()
        metric.update_state(np.stack(counts[:25]), np.stack(preds[:25]))
        metric.update_state(np.stack(counts[25:]), np.stack(preds[25:]))
        self.assertAlmostEqual(float(metric.result()), expected, places=5)
        metric.reset_state()
        self.assertEqual(float(metric.result()), 0.0)

    def test_scores_mode_with_official_scores(self):
        vocab = vqa_answers.AnswerVocab(["a1", "b1"])
        gt = ["a1"] * 2 + ["b1"] * 8
        y_true = vocab.dense_targets(gt, "official")[None]
        metric = objectives.VqaAccuracy(target_type="scores")
        metric.update_state(y_true, np.array([[1.0, 0.0]]))
        self.assertAlmostEqual(
            float(metric.result()), brute_force_accuracy("a1", gt), places=6
        )

    def test_sample_weight_and_config(self):
        metric = objectives.VqaAccuracy()
        metric.update_state(
            np.array([[3.0, 0.0], [0.0, 0.0]]),
            np.array([[1.0, 0.0], [1.0, 0.0]]),
            sample_weight=np.array([1.0, 0.0]),
        )
        self.assertAlmostEqual(float(metric.result()), 0.9, places=6)
        clone = keras.metrics.deserialize(keras.metrics.serialize(metric))
        self.assertEqual(clone.target_type, "counts")

    def test_bad_arguments(self):
        with self.assertRaisesRegex(
            ValueError,
            r"`target_type` must be one "
            r"of \('counts', 'scores'\), got "
            r"target_type='soft'",
        ):
            objectives.VqaAccuracy(target_type="soft")
        with self.assertRaisesRegex(
            ValueError,
            r"expects \[batch, "
            r"num_answers\] y_true and y_pred, got "
            r"shapes \(3,\)",
        ):
            objectives.VqaAccuracy().update_state(np.zeros(3), np.zeros(3))


if __name__ == "__main__":
    absltest.main()
