"""Heat maps over images: normalised, upsampled, coloured and blended.

A 2-D heat map of any size (a 14 x 14 attention grid, a per-pixel map) is
min/max normalised, bilinearly upsampled, coloured ("jet", "coolwarm") and
alpha-blended over the image.

>>> import numpy as np
>>> from mi_zoo.viz import heat
>>> image = np.zeros((32, 32, 3), np.float32)
>>> grid = np.zeros((14, 14)); grid[2, 11] = 1.0
>>> heat.heatmap_overlay(image, grid, alpha=0.5).shape
(32, 32, 3)
"""

import numpy as np
from PIL import Image

from mi_zoo.viz.colors import apply_colormap
from mi_zoo.viz.colors import check_colormap
from mi_zoo.viz.images import _shape
from mi_zoo.viz.images import to_uint8


def normalize_heat(heat):
    """Scales a heat map to [0, 1] by its min and max.

    Args:
      heat: float [h, w]. Non-finite entries become 0 after scaling.

    Returns:
      float32 [h, w] in [0, 1]; all zeros for a constant map.

    Raises:
      ValueError: `heat` is not a non-empty 2-D array.

    >>> normalize_heat(np.array([[1.0, 3.0], [2.0, 3.0]])).tolist()
    [[0.0, 1.0], [0.5, 1.0]]
    >>> normalize_heat(np.full((2, 2), 7.0)).tolist()
    [[0.0, 0.0], [0.0, 0.0]]
    """
    array = np.asarray(heat, dtype=np.float64)
    if array.ndim != 2 or array.size == 0:
        raise ValueError(
            "heat must be a non-empty 2-D map [h, w], got shape "
            "%s" % (_shape(heat),)
        )
    finite = np.isfinite(array)
    out = np.zeros(array.shape, np.float64)
    if finite.any():
        low, high = array[finite].min(), array[finite].max()
        if high > low:
            out[finite] = (array[finite] - low) / (high - low)
    return out.astype(np.float32)


def upsample_heat(heat, height, width):
    """Normalises a heat map (`normalize_heat`) and resizes it bilinearly.

    Args:
      heat: float [h, w].
      height: output height H, a positive int.
      width: output width W, a positive int.

    Returns:
      float32 [H, W] in [0, 1].

    Raises:
      ValueError: bad `heat`, `height` or `width`.

    >>> upsample_heat(np.eye(2), 4, 4).shape
    (4, 4)
    """
    for name, value in (("height", height), ("width", width)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, np.integer))
            or value < 1
        ):
            raise ValueError(
                "%s must be a positive int, got %r" % (name, value)
            )
    normalized = normalize_heat(heat)
    if normalized.shape == (height, width):
        return normalized
    resized = Image.fromarray(normalized).resize(
        (int(width), int(height)), Image.BILINEAR
    )
    return np.clip(np.asarray(resized, np.float32), 0.0, 1.0)


def heatmap_overlay(image, heat, alpha=0.5, colormap="jet"):
    """Blends a coloured heat map over an image.

    Args:
      image: [H, W, 3] / [H, W, 1] / [H, W], float in [0, 1] or uint8.
      heat: float [h, w] of any size (an attention grid, a per-pixel map);
        min/max normalised (a constant map is all 0) and bilinearly
        upsampled to [H, W].
      alpha: weight of the colour in [0, 1]: 0 returns the image, 1 the
        coloured map.
      colormap: see `apply_colormap`.

    Returns:
      uint8 [H, W, 3].

    Raises:
      ValueError: bad `image`, `heat`, `alpha` or `colormap`.
    """
    if (
        isinstance(alpha, bool)
        or not isinstance(alpha, (int, float, np.integer, np.floating))
        or not 0.0 <= alpha <= 1.0
    ):
        raise ValueError("alpha must be a number in [0, 1], got %r" % (alpha,))
    check_colormap(colormap)
    base = to_uint8(image)
    hot = upsample_heat(heat, base.shape[0], base.shape[1])
    colour = apply_colormap(hot, colormap).astype(np.float64)
    blend = (1.0 - alpha) * base.astype(np.float64) + alpha * colour
    return np.round(blend).astype(np.uint8)
