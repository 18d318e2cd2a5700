"""Pretrained Keras backbones that turn pixels into grid features.

Jiang et al., "In Defense of Grid Features for Visual Question Answering"
(CVPR 2020) show that the convolutional feature map of an ImageNet backbone,
its grid of [H, W, C] cells taken as H x W "regions", answers VQA v2 as well
as the bottom-up region features of a detector, at a fraction of the cost.
`grid_model` builds that feature extractor from a backbone of `BACKBONES`:

    model = grid_model("resnet152", image_size=(448, 448))
    features = model.predict(pixels)   # [B, 448, 448, 3] in [0, 1]
    # float32 [B, 14, 14, 2048]

Why keras.applications and not keras-hub: the applications ship inside
Keras (no new dependency: keras-hub is not installed here, and would bring
its own presets downloaded from Kaggle), have the ImageNet weights of
ResNet50/101/152, EfficientNetV2 and ConvNeXt that the issue names, accept
a weights file path (so a run works offline with weights saved before),
and name every block output, which is what "features at a chosen layer"
needs.

The small MobileNetV3 backbones are here for CPUs (and for the tests, which
build them with random weights in well under a second).

They live with the models (floor 3, below `mi_zoo.features`, which
re-exports them) because a VQA model may hold one: `VqaSpec(image_kind=
"backbone", backbone=BackboneSpec(...))` builds it inside the model
(`mi_zoo.models.encoders.encode_backbone`), frozen or fine-tuned.

Each entry of `BACKBONES` records its Keras application, its preprocessing
and its default layer. Every model here takes mi_zoo's pixels, float32 in
[0, 1] (the data pipelines' and `mi_zoo.data.images`' convention), scales
them to [0, 255] and applies the backbone's own preprocessing: Caffe-style
BGR mean subtraction for ResNet, the built-in rescaling layers of
EfficientNetV2, MobileNetV3 and ConvNeXt.
"""

import dataclasses
from typing import Callable
from typing import Optional
from typing import Sequence
from typing import Tuple

import keras
import numpy as np

from mi_zoo.core import registry
from mi_zoo.core import specs
from mi_zoo.core import validation

#: Backbones by name; `BACKBONES.build(name)` gives its `Backbone`.
BACKBONES = registry.Registry("feature backbone")

#: The `weights` that need no file: ImageNet (downloaded once by Keras to
#: ~/.keras/models) or a random initialisation.
NAMED_WEIGHTS = specs.BACKBONE_WEIGHTS


@dataclasses.dataclass(frozen=True)
class Backbone:
    """A Keras application used as a feature backbone.

    Args:
      name: its name in `BACKBONES`.
      application: the `keras.applications` constructor.
      preprocess: None when the application preprocesses inside (takes
        [0, 255] RGB), else a function of a [0, 255] RGB tensor giving the
        application's input (ResNet's Caffe mode).
      default_layer: the layer whose output is the grid by default; None:
        the application's output without its classifier (`include_top=
        False`), which for every entry is its last feature map.
    """

    name: str
    application: Callable
    preprocess: Optional[Callable] = None
    default_layer: Optional[str] = None

    def model(
        self,
        image_size: Sequence[int] = (448, 448),
        layer: Optional[str] = None,
        weights: Optional[str] = "imagenet",
    ) -> keras.Model:
        """The backbone cut at `layer`: pixels [B, H, W, 3] in [0, 1] ->
        its feature map [B, h, w, C] (see `grid_model`)."""
        height, width = _check_image_size(image_size)
        check_weights(weights)
        pixels = keras.Input((height, width, 3), name="pixels")
        x = keras.layers.Rescaling(255.0, name="to_0_255")(pixels)
        kwargs = {}
        if self.preprocess is None:
            kwargs["include_preprocessing"] = True
        else:
            x = self.preprocess(x)
        net = self.application(
            include_top=False,
            weights=weights,
            input_tensor=x,
            **kwargs,
        )
        chosen = layer if layer is not None else self.default_layer
        if chosen is None:
            output = net.output
        else:
            names = [lay.name for lay in net.layers]
            if chosen not in names:
                raise ValueError(
                    f"Backbone {self.name!r} has no layer {chosen!r}; its "
                    f"last layers are {names[-4:]} (net.summary() lists "
                    f"them all), got layer={chosen!r}."
                )
            output = net.get_layer(chosen).output
        return keras.Model(pixels, output, name=f"{self.name}_features")


def check_weights(weights):
    """`weights` must be "imagenet", None or a path (str) to a weights file.

    Raises:
      ValueError: ending with the received value.
    """
    if weights in NAMED_WEIGHTS:
        return
    if not isinstance(weights, str) or not weights.endswith(".weights.h5"):
        raise ValueError(
            f"`weights` must be 'imagenet', None or the path of a "
            f"'.weights.h5' file of the backbone, got weights={weights!r}."
        )


def _check_image_size(image_size) -> Tuple[int, int]:
    try:
        size = tuple(image_size)
    except TypeError:
        size = ()
    if len(size) != 2 or not all(
        validation.is_integer(d) and d > 0 for d in size
    ):
        raise ValueError(
            f"`image_size` must be (height, width), two positive integers, "
            f"got image_size={image_size!r}."
        )
    if min(size) < 32:
        raise ValueError(
            f"`image_size` must be at least 32 x 32 (the backbones "
            f"downsample 32 times), got image_size={image_size!r}."
        )
    return size


def _register(name, application, preprocess=None, default_layer=None):
    BACKBONES.register(name)(
        lambda: Backbone(name, application, preprocess, default_layer)
    )


for _depth in (50, 101, 152):
    _register(
        f"resnet{_depth}",
        getattr(keras.applications, f"ResNet{_depth}"),
        keras.applications.resnet.preprocess_input,
        "conv5_block3_out",
    )
for _size in ("B0", "B1", "B2", "B3", "S", "M", "L"):
    _register(
        f"efficientnetv2_{_size.lower()}",
        getattr(keras.applications, f"EfficientNetV2{_size}"),
        None,
        "top_activation",
    )
for _size in ("Small", "Large"):
    # The last feature map (1 x 1 convolution and hard swish, 576 or 960
    # channels), preprocessing inside (include_preprocessing).
    _register(
        f"mobilenet_v3_{_size.lower()}",
        getattr(keras.applications, f"MobileNetV3{_size}"),
    )
for _size in ("Tiny", "Small", "Base", "Large", "XLarge"):
    # The output of the last stage after the final layer normalisation
    # (the block outputs are unnamed additions).
    _register(
        f"convnext_{_size.lower()}",
        getattr(keras.applications, f"ConvNeXt{_size}"),
    )


def grid_model(
    backbone: str = "resnet152",
    image_size: Sequence[int] = (448, 448),
    layer: Optional[str] = None,
    grid: Optional[Sequence[int]] = None,
    weights: Optional[str] = "imagenet",
) -> keras.Model:
    """A model from pixels to the grid features of a backbone.

    Args:
      backbone: a name of `BACKBONES`.
      image_size: (H, W) of the input pixels, each at least 32.
      layer: the layer whose output is the grid; None: the backbone's
        default (its last feature map).
      grid: None keeps the layer's h x w cells; (gh, gw) average-pools
        them to gh x gw (h and w must be multiples of gh and gw).
      weights: "imagenet" (the default; Keras downloads them once), None
        (random: tests) or the path of a `.weights.h5` file of the
        application (`include_top=False`).

    Returns:
      A `keras.Model`: float32 [B, H, W, 3] in [0, 1] -> [B, h, w, C]
      (or [B, gh, gw, C]).

    Example:

    >>> model = grid_model("resnet50", (64, 64), weights=None)
    >>> model.output_shape
    (None, 2, 2, 2048)
    >>> grid_model("resnet50", (64, 64), grid=(1, 1), weights=None).output_shape
    (None, 1, 1, 2048)
    """
    net = BACKBONES.build(backbone).model(image_size, layer, weights)
    if grid is None:
        return net
    cells = tuple(net.output_shape[1:3])
    size = tuple(grid) if isinstance(grid, (tuple, list)) else ()
    if (
        len(size) != 2
        or not all(isinstance(g, int) and g > 0 for g in size)
        or cells[0] % size[0]
        or cells[1] % size[1]
    ):
        raise ValueError(
            f"`grid` must be (gh, gw) dividing the backbone's {cells[0]} x "
            f"{cells[1]} cells at image_size={tuple(image_size)}, got "
            f"grid={grid!r}."
        )
    pool = (cells[0] // size[0], cells[1] // size[1])
    pooled = keras.layers.AveragePooling2D(pool, name="grid_pool")(net.output)
    return keras.Model(net.input, pooled, name=net.name)


def grid_boxes(height: int, width: int) -> np.ndarray:
    """The normalised boxes of an height x width grid's cells, row by row.

    Args:
      height: rows of the grid.
      width: columns of the grid.

    Returns:
      float32 [height * width, 4]: (x1, y1, x2, y2) in [0, 1], the region
      boxes' convention of `mi_zoo.data.vqa_v2`.

    >>> grid_boxes(1, 2).tolist()
    [[0.0, 0.0, 0.5, 1.0], [0.5, 0.0, 1.0, 1.0]]
    """
    validation.check_positive_int("height", height)
    validation.check_positive_int("width", width)
    ys, xs = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    x1, y1 = xs.ravel() / width, ys.ravel() / height
    boxes = np.stack([x1, y1, x1 + 1 / width, y1 + 1 / height], axis=-1)
    return boxes.astype(np.float32)
