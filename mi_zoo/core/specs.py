"""What a model reads and predicts: plain values, never a dataset object."""

import dataclasses
from typing import Tuple

from mi_zoo.core import validation

IMAGE_KINDS = ("pixels", "grid", "regions")
ANSWER_CONVENTIONS = ("softmax", "sigmoid")


@dataclasses.dataclass(frozen=True)
class VqaSpec:
    """What a VQA model reads and predicts.

    Attributes:
      vocab_size: question vocabulary size, id 0 being padding.
      question_length: T, tokens per (padded) question.
      image_kind: "pixels" (raw [H, W, 3] images, a CNN trained from
        scratch), "grid" (precomputed [S, C] or [H, W, C] grid features) or
        "regions" (precomputed [R, C] region features with [R, 4] boxes,
        zero-padded regions masked out).
      image_shape: the image input's shape without the batch axis.
      num_answers: size of the answer set.
      answer_convention: "softmax" (one answer id, sparse categorical
        cross-entropy, CLEVR style) or "sigmoid" (answer counts of the 10
        annotators; binary cross-entropy against the soft scores, official
        VQA accuracy; VQA v2 style). `mi_zoo.models.objectives` holds the
        loss and metrics of each.
    """

    vocab_size: int
    question_length: int
    image_kind: str
    image_shape: Tuple[int, ...]
    num_answers: int
    answer_convention: str = "softmax"

    def __post_init__(self):
        validation.check_positive_int("vocab_size", self.vocab_size)
        validation.check_positive_int("question_length", self.question_length)
        validation.check_positive_int("num_answers", self.num_answers)
        validation.check_choice(
            "answer_convention", self.answer_convention, ANSWER_CONVENTIONS
        )
        object.__setattr__(
            self, "image_shape", check_image(self.image_kind, self.image_shape)
        )


@dataclasses.dataclass(frozen=True)
class MatchingSpec:
    """What an image–text matching model reads.

    Attributes:
      vocab_size: caption vocabulary size, id 0 being padding.
      caption_length: T, tokens per (padded) caption.
      image_kind, image_shape: as in `VqaSpec`.
    """

    vocab_size: int
    caption_length: int
    image_kind: str
    image_shape: Tuple[int, ...]

    def __post_init__(self):
        validation.check_positive_int("vocab_size", self.vocab_size)
        validation.check_positive_int("caption_length", self.caption_length)
        object.__setattr__(
            self, "image_shape", check_image(self.image_kind, self.image_shape)
        )


def check_image(image_kind, image_shape):
    """Checks an image kind and shape; returns the shape as a tuple."""
    validation.check_choice("image_kind", image_kind, IMAGE_KINDS)
    shape = tuple(image_shape)
    valid = {"pixels": (3,), "grid": (2, 3), "regions": (2,)}
    if len(shape) not in valid[image_kind] or not all(
        isinstance(d, int) and d > 0 for d in shape
    ):
        expected = {
            "pixels": "(H, W, channels)",
            "grid": "(S, C) or (H, W, C)",
            "regions": "(R, C)",
        }[image_kind]
        raise ValueError(
            f"image_shape={image_shape!r} does not fit "
            f"image_kind={image_kind!r}: expected {expected}."
        )
    return shape
