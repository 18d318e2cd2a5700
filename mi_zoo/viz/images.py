"""Images as uint8 RGB arrays: conversion, upscaling and PNG files.

Every figure of mi_zoo is a plain uint8 RGB array of shape [H, W, 3], which
`tf.summary.image` takes after adding a batch axis and `save_png` writes to
disk (NumPy + Pillow, no TensorFlow, no matplotlib).

>>> import numpy as np
>>> from mi_zoo.viz import images
>>> images.to_uint8(np.ones((2, 3))).shape
(2, 3, 3)
>>> images.upscale_small(np.zeros((32, 32, 3), np.uint8)).shape
(192, 192, 3)
"""

import math
import os

import numpy as np
from PIL import Image

# Images whose short side is smaller than this are upscaled (nearest
# neighbour, by an integer factor) before text is put under them.
MIN_SHORT_SIDE = 192


def _shape(value):
    return tuple(np.shape(value))


def to_uint8(image):
    """Returns `image` as a uint8 RGB array.

    Args:
      image: [H, W, 3], [H, W, 1] or [H, W] (grey, repeated to 3 channels);
        floats (any float dtype) in [0, 1], clipped, NaN read as 0, or
        uint8 (booleans read as 0 / 1).

    Returns:
      uint8 [H, W, 3]; a new array, never a view of `image`.

    Raises:
      ValueError: `image` has another rank, number of channels or dtype, or
        is empty.

    >>> to_uint8(np.array([[0.0, 0.5, 1.0]]))[0, :, 0].tolist()
    [0, 128, 255]
    """
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3):
        raise ValueError(
            "image must be [H, W, 3], [H, W, 1] or [H, W], got shape %s"
            % (_shape(image),)
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(
            "image must not be empty, got shape %s" % (_shape(image),)
        )
    if array.dtype == np.bool_:
        array = array.astype(np.float32)
    if array.dtype == np.uint8:
        out = array.copy()
    elif np.issubdtype(array.dtype, np.floating):
        scaled = np.nan_to_num(array.astype(np.float64), nan=0.0)
        out = np.round(np.clip(scaled, 0.0, 1.0) * 255.0).astype(np.uint8)
    else:
        raise ValueError(
            "image must be float in [0, 1] or uint8, got dtype %s"
            % array.dtype
        )
    if out.shape[-1] == 1:
        out = np.repeat(out, 3, axis=-1)
    return out


def upscale_small(image, min_short_side=MIN_SHORT_SIDE):
    """Upscales by an integer factor (nearest neighbour) to a short side of
    at least `min_short_side`; larger images are returned as they are.

    Args:
      image: [H, W, 3] / [H, W, 1] / [H, W], float in [0, 1] or uint8.
      min_short_side: positive int.

    Returns:
      uint8 [k * H, k * W, 3], k = ceil(min_short_side / min(H, W)) or 1.

    Raises:
      ValueError: bad `image` or `min_short_side`.

    >>> upscale_small(np.zeros((32, 75)), 192).shape
    (192, 450, 3)
    """
    if (
        isinstance(min_short_side, bool)
        or not isinstance(min_short_side, (int, np.integer))
        or min_short_side < 1
    ):
        raise ValueError(
            "min_short_side must be a positive int, got %r" % (min_short_side,)
        )
    base = to_uint8(image)
    factor = math.ceil(min_short_side / min(base.shape[:2]))
    if factor <= 1:
        return base
    return np.repeat(np.repeat(base, factor, axis=0), factor, axis=1)


def save_png(path, image):
    """Writes an image as a PNG file, creating its parent directories.

    Args:
      path: str or os.PathLike of the file to write.
      image: [H, W, 3] / [H, W, 1] / [H, W], float in [0, 1] or uint8.

    Returns:
      The path, as given.

    Raises:
      ValueError: bad `path` or `image`.
    """
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise ValueError(
            "path must be a non-empty str or os.PathLike, got %r" % (path,)
        )
    pixels = to_uint8(image)
    parent = os.path.dirname(os.fspath(path))
    if parent:
        os.makedirs(parent, exist_ok=True)
    Image.fromarray(pixels).save(path, format="PNG")
    return path
