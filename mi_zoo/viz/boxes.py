"""Region boxes drawn over an image, their opacity following a weight.

>>> import numpy as np
>>> from mi_zoo.viz import boxes
>>> image = np.zeros((32, 32, 3), np.uint8)
>>> boxes.box_overlay(image, [[0.0, 0.0, 0.5, 0.5]], [1.0]).shape
(32, 32, 3)
"""

import numpy as np

from mi_zoo.viz.images import _shape
from mi_zoo.viz.images import to_uint8

BOX_FORMATS = ("xyxy_normalized", "xyxy_pixels")


def _pixel_boxes(boxes, box_format, height, width):
    if box_format == "xyxy_normalized":
        scale = np.array([width, height, width, height], np.float64)
        boxes = boxes * scale
    # The tolerance keeps e.g. 0.3 * 100 = 30.000000000000004 at pixel 30.
    eps = 1e-6
    x1 = np.clip(np.floor(boxes[:, 0] + eps), 0, width).astype(int)
    y1 = np.clip(np.floor(boxes[:, 1] + eps), 0, height).astype(int)
    x2 = np.clip(np.ceil(boxes[:, 2] - eps), 0, width).astype(int)
    y2 = np.clip(np.ceil(boxes[:, 3] - eps), 0, height).astype(int)
    return np.stack([x1, y1, x2, y2], axis=-1)


def box_overlay(
    image,
    boxes,
    weights,
    box_format="xyxy_normalized",
    color=(255, 40, 0),
    max_opacity=0.6,
    outline_width=2,
):
    """Draws region boxes filled in proportion to their attention weights.

    Each box with a positive weight w is filled with `color` at opacity
    `max_opacity * w / max(weights)` and outlined (inside the box) at
    opacity `w / max(weights)`; lighter boxes are drawn first. Rows with
    weight 0 and all-zero rows (padding) are skipped, and so are boxes
    that are empty once rounded to pixels. Boxes are clipped to the image.

    Args:
      image: [H, W, 3] / [H, W, 1] / [H, W], float in [0, 1] or uint8.
      boxes: float [R, 4] as (x1, y1, x2, y2), x2 >= x1 and y2 >= y1.
      weights: float [R], >= 0.
      box_format: "xyxy_normalized" (coordinates in [0, 1] of the width and
        height) or "xyxy_pixels".
      color: RGB of the fill and outline, three ints in [0, 255].
      max_opacity: fill opacity of the heaviest box, in [0, 1].
      outline_width: outline thickness in pixels, >= 0.

    Returns:
      uint8 [H, W, 3]; pixels outside drawn boxes are those of `image`.

    Raises:
      ValueError: bad `image`, `boxes`, `weights`, `box_format`, `color`,
        `max_opacity` or `outline_width`.

    >>> out = box_overlay(np.zeros((10, 10)), [[0.0, 0.0, 0.5, 0.5]], [1.0])
    >>> int(out[:5, :5].max()), int(out[5:, 5:].max())
    (255, 0)
    """
    if box_format not in BOX_FORMATS:
        raise ValueError(
            "box_format must be one of %s, got %r"
            % (", ".join(BOX_FORMATS), box_format)
        )
    colour = np.asarray(color)
    if (
        colour.shape != (3,)
        or not np.issubdtype(colour.dtype, np.number)
        or colour.min() < 0
        or colour.max() > 255
    ):
        raise ValueError(
            "color must be 3 numbers in [0, 255], got %r" % (color,)
        )
    if (
        isinstance(max_opacity, bool)
        or not isinstance(max_opacity, (int, float, np.integer, np.floating))
        or not 0.0 <= max_opacity <= 1.0
    ):
        raise ValueError(
            "max_opacity must be a number in [0, 1], got %r" % (max_opacity,)
        )
    if (
        isinstance(outline_width, bool)
        or not isinstance(outline_width, (int, np.integer))
        or outline_width < 0
    ):
        raise ValueError(
            "outline_width must be an int >= 0, got %r" % (outline_width,)
        )
    base = to_uint8(image)
    boxes_array = np.asarray(boxes, np.float64)
    if boxes_array.size == 0 and boxes_array.ndim <= 2:
        boxes_array = boxes_array.reshape(0, 4)
    if boxes_array.ndim != 2 or boxes_array.shape[-1] != 4:
        raise ValueError(
            "boxes must be [R, 4], got shape %s" % (_shape(boxes),)
        )
    weights_array = np.asarray(weights, np.float64)
    if weights_array.shape != (boxes_array.shape[0],):
        raise ValueError(
            "weights must be [R] = [%d] like boxes, got shape %s"
            % (boxes_array.shape[0], _shape(weights))
        )
    if not np.all(np.isfinite(boxes_array)):
        raise ValueError("boxes must be finite, got %s" % boxes_array.tolist())
    if not np.all(np.isfinite(weights_array)) or np.any(weights_array < 0):
        raise ValueError(
            "weights must be finite and >= 0, got %s" % weights_array.tolist()
        )
    padding = np.all(boxes_array == 0, axis=-1)
    inverted = (boxes_array[:, 2] < boxes_array[:, 0]) | (
        boxes_array[:, 3] < boxes_array[:, 1]
    )
    if np.any(inverted & ~padding):
        row = int(np.argmax(inverted & ~padding))
        raise ValueError(
            "boxes must have x2 >= x1 and y2 >= y1, got row %d = %s"
            % (row, boxes_array[row].tolist())
        )
    keep = (weights_array > 0) & ~padding
    if not keep.any():
        return base
    relative = np.where(keep, weights_array / weights_array[keep].max(), 0.0)
    height, width = base.shape[:2]
    pixels = _pixel_boxes(boxes_array, box_format, height, width)
    out = base.astype(np.float64)
    colour = colour.astype(np.float64)
    for index in np.argsort(relative, kind="stable"):
        if not keep[index]:
            continue
        x1, y1, x2, y2 = pixels[index]
        if x2 <= x1 or y2 <= y1:
            continue
        opacity = np.full((y2 - y1, x2 - x1), max_opacity * relative[index])
        ring = min(outline_width, (x2 - x1 + 1) // 2, (y2 - y1 + 1) // 2)
        if ring:
            opacity[:ring, :] = opacity[-ring:, :] = relative[index]
            opacity[:, :ring] = opacity[:, -ring:] = relative[index]
        region = out[y1:y2, x1:x2]
        out[y1:y2, x1:x2] = region + opacity[..., None] * (colour - region)
    return np.round(out).astype(np.uint8)
