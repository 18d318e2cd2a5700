"""Tests of the bidirectional ranking loss and recall@k."""

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.models import ranking_loss


def reference(s, margin, hardest):
    """Per-pair loss written from the definition, with explicit loops."""
    n = len(s)
    out = np.zeros(n)
    for i in range(n):
        to_texts = [
            max(0.0, margin - s[i, i] + s[i, j]) for j in range(n) if j != i
        ]
        to_images = [
            max(0.0, margin - s[i, i] + s[j, i]) for j in range(n) if j != i
        ]
        agg = max if hardest else sum
        out[i] = agg(to_texts) + agg(to_images)
    return out


class RankingLossTest(parameterized.TestCase):
    @parameterized.parameters(False, True)
    def test_matches_reference(self, hardest):
        s = np.random.default_rng(0).normal(size=(6, 6))
        loss = ranking_loss.BidirectionalRankingLoss(
            margin=0.3, hardest_negative=hardest, reduction=None
        )
        np.testing.assert_allclose(
            loss(np.zeros(6), s), reference(s, 0.3, hardest), rtol=1e-6
        )

    def test_zero_when_positives_win_by_the_margin(self):
        s = np.eye(4) * 2.0
        loss = ranking_loss.BidirectionalRankingLoss(margin=1.0)
        self.assertEqual(float(loss(np.zeros(4), s)), 0.0)

    def test_config_round_trip(self):
        loss = ranking_loss.BidirectionalRankingLoss(0.5, True)
        clone = keras.losses.deserialize(keras.losses.serialize(loss))
        self.assertEqual(clone.margin, 0.5)
        self.assertTrue(clone.hardest_negative)

    @parameterized.parameters(0, -1.0, "big", True)
    def test_bad_margin(self, margin):
        with self.assertRaisesRegex(
            ValueError,
            r"`margin` must be a "
            r"positive number, got margin=",
        ):
            ranking_loss.BidirectionalRankingLoss(margin)

    def test_bad_shape(self):
        with self.assertRaisesRegex(
            ValueError,
            r"expects a \[batch, batch\]"
            r" similarity matrix, got shape \(4,\)",
        ):
            ranking_loss.BidirectionalRankingLoss()(np.zeros(4), np.zeros(4))

    def test_recall_at_k(self):
        s = np.array([[3.0, 1.0, 2.0], [0.0, 1.0, 5.0], [9.0, 8.0, 0.0]])
        # Image->text ranks of the positive: 0, 1, 2. Text->image: 1, 1, 2.
        np.testing.assert_allclose(ranking_loss.recall_at_k(s, 1), (1 / 3, 0))
        np.testing.assert_allclose(
            ranking_loss.recall_at_k(s, 2), (2 / 3, 2 / 3)
        )
        np.testing.assert_allclose(ranking_loss.recall_at_k(s, 3), (1, 1))
        with self.assertRaisesRegex(ValueError, r"got k=0"):
            ranking_loss.recall_at_k(s, 0)


if __name__ == "__main__":
    absltest.main()
