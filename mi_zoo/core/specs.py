"""What a model reads and predicts: plain values, never a dataset object."""

import dataclasses
from typing import Optional
from typing import Tuple

from mi_zoo.core import validation

IMAGE_KINDS = ("pixels", "grid", "regions", "backbone")
#: The image kinds of a `MatchingSpec` (no backbone inside matching models).
MATCHING_IMAGE_KINDS = ("pixels", "grid", "regions")
#: The image kinds whose input is pixels [H, W, 3] in [0, 1].
PIXEL_KINDS = ("pixels", "backbone")
ANSWER_CONVENTIONS = ("softmax", "sigmoid")
#: The backbone weights that need no file (see `BackboneSpec`).
BACKBONE_WEIGHTS = ("imagenet", None)


@dataclasses.dataclass(frozen=True)
class BackboneSpec:
    """A pretrained feature backbone inside a VQA model (image_kind
    "backbone"): pixels in [0, 1] -> its grid features, which the model
    then reads as it reads precomputed grid features.

    Attributes:
      name: a name of `mi_zoo.models.backbones.BACKBONES` ("resnet50",
        "mobilenet_v3_small", ...); checked when the model is built.
      layer: the layer whose output is the grid; None: the backbone's
        default (its last feature map).
      grid: None keeps the layer's h x w cells; (gh, gw) average-pools them.
      weights: "imagenet" (downloaded once by Keras), None (random) or the
        path of a `.weights.h5` file of the backbone. Only the model's first
        build reads them: a saved model.keras holds its own.
      trainable: False freezes the backbone (the default: its batch norms
        run in inference mode); True fine-tunes it with the rest.

    Raises:
      ValueError: ending with the received value.

    >>> BackboneSpec("resnet50", weights=None).grid is None
    True
    """

    name: str
    layer: Optional[str] = None
    grid: Optional[Tuple[int, int]] = None
    weights: Optional[str] = "imagenet"
    trainable: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(
                f"`name` must be a backbone's name, got name={self.name!r}."
            )
        if self.layer is not None and not isinstance(self.layer, str):
            raise ValueError(
                f"`layer` must be a layer name or None, got "
                f"layer={self.layer!r}."
            )
        if self.grid is not None:
            grid = (
                tuple(self.grid)
                if isinstance(self.grid, (list, tuple))
                else ()
            )
            if len(grid) != 2 or not all(
                validation.is_integer(g) and g > 0 for g in grid
            ):
                raise ValueError(
                    f"`grid` must be None or (rows, columns), two positive "
                    f"integers, got grid={self.grid!r}."
                )
            object.__setattr__(self, "grid", grid)
        if self.weights not in BACKBONE_WEIGHTS and not (
            isinstance(self.weights, str)
            and self.weights.endswith(".weights.h5")
        ):
            raise ValueError(
                f"`weights` must be 'imagenet', None or the path of a "
                f"'.weights.h5' file of the backbone, got "
                f"weights={self.weights!r}."
            )
        if not isinstance(self.trainable, bool):
            raise ValueError(
                f"`trainable` must be True or False, got "
                f"trainable={self.trainable!r}."
            )


@dataclasses.dataclass(frozen=True)
class VqaSpec:
    """What a VQA model reads and predicts.

    Attributes:
      vocab_size: question vocabulary size, id 0 being padding.
      question_length: T, tokens per (padded) question.
      image_kind: "pixels" (raw [H, W, 3] images, a CNN trained from
        scratch), "grid" (precomputed [S, C] or [H, W, C] grid features),
        "regions" (precomputed [R, C] region features with [R, 4] boxes,
        zero-padded regions masked out) or "backbone" (raw [H, W, 3]
        images through the pretrained backbone `backbone` inside the
        model, then read as grid features).
      image_shape: the image input's shape without the batch axis.
      num_answers: size of the answer set.
      answer_convention: "softmax" (one answer id, sparse categorical
        cross-entropy, CLEVR style) or "sigmoid" (answer counts of the 10
        annotators; binary cross-entropy against the soft scores, official
        VQA accuracy; VQA v2 style). `mi_zoo.models.objectives` holds the
        loss and metrics of each.
      backbone: the `BackboneSpec` of image_kind "backbone" (its input
        size is image_shape's H, W); None for the other kinds. A dict of
        its fields (as JSON holds it) is made a `BackboneSpec`.
    """

    vocab_size: int
    question_length: int
    image_kind: str
    image_shape: Tuple[int, ...]
    num_answers: int
    answer_convention: str = "softmax"
    backbone: Optional[BackboneSpec] = None

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
        backbone = self.backbone
        if isinstance(backbone, dict):
            backbone = BackboneSpec(**backbone)
            object.__setattr__(self, "backbone", backbone)
        if (self.image_kind == "backbone") != (backbone is not None):
            raise ValueError(
                f"`backbone` must be a BackboneSpec for image_kind="
                f"'backbone' and None otherwise, got image_kind="
                f"{self.image_kind!r} and backbone={backbone!r}."
            )
        if backbone is not None and not isinstance(backbone, BackboneSpec):
            raise ValueError(
                f"`backbone` must be a BackboneSpec, got "
                f"backbone={backbone!r}."
            )

    @property
    def reads_pixels(self) -> bool:
        """Whether the image input is pixels [H, W, 3] in [0, 1] (image
        kinds "pixels" and "backbone"), which figures draw on."""
        return self.image_kind in PIXEL_KINDS


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
            self,
            "image_shape",
            check_image(
                self.image_kind, self.image_shape, MATCHING_IMAGE_KINDS
            ),
        )


def check_image(image_kind, image_shape, kinds=IMAGE_KINDS):
    """Checks an image kind (one of `kinds`) and shape; returns the shape
    as a tuple."""
    validation.check_choice("image_kind", image_kind, kinds)
    shape = tuple(image_shape)
    valid = {"pixels": (3,), "grid": (2, 3), "regions": (2,), "backbone": (3,)}
    if len(shape) not in valid[image_kind] or not all(
        isinstance(d, int) and d > 0 for d in shape
    ):
        expected = {
            "pixels": "(H, W, channels)",
            "backbone": "(H, W, channels)",
            "grid": "(S, C) or (H, W, C)",
            "regions": "(R, C)",
        }[image_kind]
        raise ValueError(
            f"image_shape={image_shape!r} does not fit "
            f"image_kind={image_kind!r}: expected {expected}."
        )
    return shape
