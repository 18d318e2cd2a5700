"""The bidirectional max-margin ranking loss of image–text matching."""

import keras
from keras import ops

from mi_zoo.core import validation


@keras.saving.register_keras_serializable(package="mi_zoo")
class BidirectionalRankingLoss(keras.losses.Loss):
    """Hinge loss over in-batch negatives, in both retrieval directions.

    For a batch of matching pairs (image i, text i) with similarity matrix
    S[i, j] = s(image i, text j) (`y_pred`, [B, B], positives on the
    diagonal), the loss of pair i is

        Σ_{j≠i} max(0, m − S[i, i] + S[i, j])     (image -> wrong texts)
      + Σ_{j≠i} max(0, m − S[i, i] + S[j, i])     (text -> wrong images)

    as in Nam et al. (DAN, CVPR 2017) and Kiros et al. (2014); with
    `hardest_negative=True` each sum is replaced by its largest term (VSE++,
    Faghri et al., BMVC 2018). `y_true` is ignored (pass zeros [B]): the
    pairing is given by position. Under a distribution strategy the negatives
    are those of each replica's share of the batch.

    Args:
      margin: m > 0.
      hardest_negative: use only the hardest negative per direction.
      **kwargs: `keras.losses.Loss` arguments (name, reduction, dtype).

    Example:

    >>> import numpy as np
    >>> loss = BidirectionalRankingLoss(margin=0.2)
    >>> float(loss(np.zeros(2), np.array([[1.0, 0.0], [0.0, 1.0]])))
    0.0
    >>> # Text 1 outscores text 0 for image 0 by 0.1: (0.2 + 0.1 + 0) / 2.
    >>> round(float(loss(np.zeros(2), np.array([[0.5, 0.6], [0.0, 1.0]]))), 4)
    0.15
    """

    def __init__(
        self,
        margin=0.2,
        hardest_negative=False,
        name="bidirectional_ranking",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        if (
            isinstance(margin, bool)
            or not isinstance(margin, (int, float))
            or margin <= 0
        ):
            raise ValueError(
                f"`margin` must be a positive number, got margin={margin!r}."
            )
        self.margin = float(margin)
        self.hardest_negative = hardest_negative

    def call(self, y_true, y_pred):
        del y_true  # the positives are the diagonal of y_pred
        s = ops.convert_to_tensor(y_pred)  # [B, B]
        if len(s.shape) != 2:
            raise ValueError(
                "BidirectionalRankingLoss expects a [batch, batch] similarity "
                f"matrix, got shape {tuple(s.shape)}."
            )
        positive = ops.diagonal(s)  # [B]
        negatives = 1.0 - ops.eye(ops.shape(s)[0], dtype=s.dtype)  # [B, B]
        to_texts = ops.relu(self.margin - positive[:, None] + s) * negatives
        to_images = ops.relu(self.margin - positive[None, :] + s) * negatives
        if self.hardest_negative:
            return ops.max(to_texts, axis=1) + ops.max(to_images, axis=0)
        return ops.sum(to_texts, axis=1) + ops.sum(to_images, axis=0)  # [B]

    def get_config(self):
        config = super().get_config()
        config.update(
            {"margin": self.margin, "hardest_negative": self.hardest_negative}
        )
        return config


def recall_at_k(similarity, k):
    """Recall@k of both retrieval directions from a [N, N] similarity matrix
    whose diagonal holds the matching pairs.

    Returns:
      (image -> text recall, text -> image recall), fractions in [0, 1].
    """
    validation.check_positive_int("k", k)
    s = ops.convert_to_tensor(similarity)
    positive = ops.diagonal(s)
    # Rank of the positive = number of candidates scoring strictly higher.
    text_rank = ops.sum(ops.cast(s > positive[:, None], "int32"), axis=1)
    image_rank = ops.sum(ops.cast(s > positive[None, :], "int32"), axis=0)
    return (
        float(ops.mean(ops.cast(text_rank < k, "float32"))),
        float(ops.mean(ops.cast(image_rank < k, "float32"))),
    )
