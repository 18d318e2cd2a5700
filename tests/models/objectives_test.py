"""The VQA objective against float64 NumPy references written from the
formulas: the loss of each answer convention, the official VQA accuracy
(leave-one-out over the 10 annotators, as the official evaluation script
computes it), and the compiled-model path."""

import collections
import itertools

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo import models
from mi_zoo.core import vqa_scores
from mi_zoo.data import vqa_answers
from mi_zoo.models import objectives
from mi_zoo.training import devices

devices.split_cpu(2)

NUM_ANSWERS = 7


# ----------------------------------------------------- NumPy references
def official_reference(prediction, annotators):
    """The official evaluation script's accuracy of one prediction: for
    each annotator, min(#matches among the OTHER 9 / 3, 1); the mean."""
    accs = []
    for left_out in range(len(annotators)):
        others = annotators[:left_out] + annotators[left_out + 1 :]
        accs.append(min(sum(a == prediction for a in others) / 3.0, 1.0))
    return float(np.mean(accs))


def counts_of(annotators, num_answers=NUM_ANSWERS):
    """Answer counts [A] of annotators' answer ids (ids >= num_answers are
    answers outside the answer set: dropped, as the readers do)."""
    out = np.zeros(num_answers, np.float32)
    for answer, n in collections.Counter(annotators).items():
        if answer < num_answers:
            out[answer] = n
    return out


def sigmoid_loss_reference(counts, logits):
    """sum over answers of BCE(min(n/3, 1), sigmoid(logit)), [B]."""
    s = np.minimum(np.asarray(counts, np.float64) / 3.0, 1.0)
    z = np.asarray(logits, np.float64)
    log_p = -np.logaddexp(0.0, -z)  # log sigmoid(z)
    log_q = -np.logaddexp(0.0, z)  # log (1 - sigmoid(z))
    return -(s * log_p + (1 - s) * log_q).sum(-1)


def softmax_loss_reference(ids, logits):
    z = np.asarray(logits, np.float64)
    log_softmax = z - np.logaddexp.reduce(z, axis=-1, keepdims=True)
    return -log_softmax[np.arange(len(ids)), np.asarray(ids)]


def random_annotators(rng, batch, num_answers=NUM_ANSWERS):
    """10 answer ids per question, some outside the answer set, with
    agreement of every size."""
    out = []
    for _ in range(batch):
        popular = int(rng.integers(0, num_answers + 2))
        agree = int(rng.integers(0, 11))
        rest = rng.integers(0, num_answers + 2, 10 - agree).tolist()
        out.append([popular] * agree + rest)
    return out


def random_case(convention, batch, seed):
    """(targets, logits, references {loss [B], accuracy [B], soft_score})."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(batch, NUM_ANSWERS)).astype("float32") * 3
    if convention == "softmax":
        ids = rng.integers(0, NUM_ANSWERS, batch)
        return (
            ids.astype("int32"),
            logits,
            {
                "loss": softmax_loss_reference(ids, logits),
                "accuracy": (logits.argmax(-1) == ids).astype(np.float64),
            },
        )
    annotators = random_annotators(rng, batch)
    counts = np.stack([counts_of(a) for a in annotators])
    best = logits.argmax(-1)
    return (
        counts,
        logits,
        {
            "loss": sigmoid_loss_reference(counts, logits),
            "accuracy": np.array(
                [
                    official_reference(int(b), a)
                    for b, a in zip(best, annotators)
                ]
            ),
            "soft_score": np.minimum(
                counts[np.arange(batch), best] / 3.0, 1.0
            ),
        },
    )


def spec(convention):
    return models.VqaSpec(30, 5, "regions", (4, 6), NUM_ANSWERS, convention)


# --------------------------------------------------------------- tests
class OfficialAccuracyTest(parameterized.TestCase):
    @parameterized.parameters(range(11))
    def test_n_matches(self, n):
        # The predicted answer 0 is matched by n of the 10 annotators; the
        # others answer 1, 2, ... (in the set or not).
        annotators = [0] * n + [
            1 + k % (NUM_ANSWERS + 1) for k in range(10 - n)
        ]
        expected = official_reference(0, annotators)
        closed = ((10 - n) * min(n / 3, 1) + n * min((n - 1) / 3, 1)) / 10
        self.assertAlmostEqual(expected, closed, places=12)
        self.assertAlmostEqual(
            vqa_scores.official_accuracy(n), expected, places=12
        )
        self.assertAlmostEqual(
            float(vqa_answers.count_accuracy(n)), expected, places=12
        )
        counts = counts_of(annotators)[None]
        logits = np.eye(NUM_ANSWERS, dtype="float32")[[0]]
        got = objectives.scores("sigmoid", counts, logits)
        self.assertAlmostEqual(float(got["accuracy"][0]), expected, places=6)
        self.assertAlmostEqual(
            float(got["soft_score"][0]), min(n / 3, 1), places=6
        )
        metric = objectives.VqaAccuracy()
        metric.update_state(counts, logits)
        self.assertAlmostEqual(float(metric.result()), expected, places=6)

    def test_soft_score_does_not_determine_the_accuracy(self):
        # 3 and 4 matching annotators: the same soft score, not the same
        # accuracy; the metric tells them apart from the counts.
        for n, accuracy in ((3, 0.9), (4, 1.0)):
            counts = np.zeros((1, NUM_ANSWERS), "float32")
            counts[0, 2] = n
            logits = np.eye(NUM_ANSWERS, dtype="float32")[[2]]
            got = objectives.scores("sigmoid", counts, logits)
            self.assertAlmostEqual(float(got["soft_score"][0]), 1.0)
            self.assertAlmostEqual(
                float(got["accuracy"][0]), accuracy, places=6
            )

    def test_annotator_sets(self):
        # Hand-made sets of 10 answers (ids; 7 and 8 are outside the set),
        # each scored for every possible prediction.
        sets = [
            [0] * 10,
            [0] * 9 + [8],
            [1, 1, 1, 2, 2, 2, 3, 3, 4, 7],
            [5, 5, 6, 6, 6, 6, 0, 8, 8, 8],
            list(range(7)) + [7, 8, 8],
            [2, 2, 2, 2, 3, 3, 3, 1, 1, 0],
        ]
        counts, logits, expected = [], [], []
        for annotators, prediction in itertools.product(
            sets, range(NUM_ANSWERS)
        ):
            counts.append(counts_of(annotators))
            logits.append(np.eye(NUM_ANSWERS)[prediction])
            expected.append(official_reference(prediction, annotators))
        counts = np.stack(counts)
        logits = np.stack(logits).astype("float32")
        np.testing.assert_allclose(
            objectives.accuracy("sigmoid", counts, logits), expected, atol=1e-6
        )
        metric = objectives.answer_metrics(spec("sigmoid"))[0]
        self.assertEqual(metric.name, "vqa_accuracy")
        metric.update_state(counts, logits)
        self.assertAlmostEqual(
            float(metric.result()), np.mean(expected), places=6
        )

    def test_random_batch(self):
        counts, logits, ref = random_case("sigmoid", 200, seed=3)
        self.assertGreater(len(set(np.round(ref["accuracy"], 6))), 3)
        got = objectives.scores("sigmoid", counts, logits)
        np.testing.assert_allclose(got["accuracy"], ref["accuracy"], atol=1e-6)
        np.testing.assert_allclose(
            got["soft_score"], ref["soft_score"], atol=1e-6
        )

    def test_data_readers_share_the_formulas(self):
        # The readers' NumPy targets ("soft", "official") agree with the
        # objective's tensors on every count.
        counts = (
            np.arange(11, dtype="float32")[:, None]
            * np.eye(NUM_ANSWERS, dtype="float32")[0]
        )
        logits = np.eye(NUM_ANSWERS, dtype="float32")[[0] * 11]
        got = objectives.scores("sigmoid", counts, logits)
        np.testing.assert_allclose(
            got["accuracy"],
            vqa_answers.count_accuracy(np.arange(11)),
            atol=1e-6,
        )
        np.testing.assert_allclose(
            got["soft_score"], vqa_answers.soft_score(np.arange(11)), atol=1e-6
        )
        self.assertEqual(vqa_answers.soft_score([1]).dtype, np.float32)


class LossTest(parameterized.TestCase):
    @parameterized.parameters("softmax", "sigmoid")
    def test_answer_loss_is_the_mean_per_example_loss(self, convention):
        targets, logits, ref = random_case(convention, 16, seed=1)
        per_example = np.asarray(
            objectives.per_example_loss(convention, targets, logits)
        )
        np.testing.assert_allclose(per_example, ref["loss"], rtol=1e-5)
        for loss in (
            models.answer_loss(spec(convention)),
            models.heads.answer_loss(spec(convention)),
        ):
            self.assertAlmostEqual(
                float(loss(targets, logits)),
                float(np.mean(ref["loss"])),
                places=4,
            )

    def test_sigmoid_loss_sums_over_answers(self):
        # The mean over answers (Keras's BinaryCrossentropy) is A times
        # smaller; the objective's loss is not.
        counts, logits, ref = random_case("sigmoid", 8, seed=2)
        mean_over_answers = keras.losses.BinaryCrossentropy(from_logits=True)(
            np.minimum(counts / 3, 1), logits
        )
        loss = float(models.answer_loss(spec("sigmoid"))(counts, logits))
        self.assertAlmostEqual(
            loss / float(mean_over_answers), NUM_ANSWERS, places=3
        )

    def test_loss_serializes(self):
        loss = models.answer_loss(spec("sigmoid"))
        clone = keras.losses.deserialize(keras.losses.serialize(loss))
        self.assertEqual(clone.answer_convention, "sigmoid")
        counts, logits, _ = random_case("sigmoid", 4, seed=0)
        self.assertAlmostEqual(
            float(clone(counts, logits)), float(loss(counts, logits)), places=6
        )

    def test_bad_convention(self):
        with self.assertRaisesRegex(
            ValueError,
            r"got answer_convention="
            r"'hinge'",
        ):
            objectives.AnswerLoss("hinge")


class ProbabilitiesTest(absltest.TestCase):
    def test_softmax_and_sigmoid_of_the_logits(self):
        logits = np.random.default_rng(3).normal(size=(5, NUM_ANSWERS)) * 4
        shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
        np.testing.assert_allclose(
            objectives.probabilities("softmax", logits),
            shifted / shifted.sum(axis=-1, keepdims=True),
            atol=1e-6,
        )
        np.testing.assert_allclose(
            objectives.probabilities("sigmoid", logits),
            1 / (1 + np.exp(-logits)),
            atol=1e-6,
        )

    def test_bad_convention(self):
        with self.assertRaisesRegex(
            ValueError,
            r"got answer_convention="
            r"'hinge'",
        ):
            objectives.probabilities("hinge", np.zeros((1, 2)))


class CompiledModelTest(parameterized.TestCase):
    @parameterized.parameters("softmax", "sigmoid")
    def test_evaluate_reports_the_reference(self, convention):
        keras.utils.set_random_seed(0)
        s = spec(convention)
        model = models.build_vqa_model("concat", s, question_units=8, hidden=8)
        model.compile(
            "adam", models.answer_loss(s), metrics=models.answer_metrics(s)
        )
        rng = np.random.default_rng(4)
        batch = 13  # evaluated in batches of 5: a partial last batch
        inputs = {
            "question": rng.integers(
                1, s.vocab_size, (batch, s.question_length)
            ).astype("int32"),
            "image": rng.normal(size=(batch,) + s.image_shape).astype(
                "float32"
            ),
            "boxes": rng.uniform(0, 1, (batch, 4, 4)).astype("float32"),
        }
        targets, _, _ = random_case(convention, batch, seed=5)
        got = model.evaluate(
            inputs, targets, batch_size=5, verbose=0, return_dict=True
        )
        logits = model.predict(inputs, batch_size=5, verbose=0)
        if convention == "softmax":
            ref_loss = softmax_loss_reference(targets, logits)
            accuracy = {"accuracy": (logits.argmax(-1) == targets).mean()}
        else:
            ref_loss = sigmoid_loss_reference(targets, logits)
            best = logits.argmax(-1)
            n = targets[np.arange(batch), best]
            accuracy = {
                "vqa_accuracy": np.mean(
                    [
                        official_reference(
                            0, [0] * int(k) + [1] * (10 - int(k))
                        )
                        for k in n
                    ]
                ),
                "soft_score": np.mean(np.minimum(n / 3.0, 1.0)),
            }
        self.assertAlmostEqual(got["loss"], float(np.mean(ref_loss)), places=4)
        self.assertEqual(set(got), {"loss", *accuracy})
        for name, value in accuracy.items():
            self.assertAlmostEqual(got[name], float(value), places=5, msg=name)


if __name__ == "__main__":
    absltest.main()
