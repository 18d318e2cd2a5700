"""Colours: colour maps for heat maps and the colours of signed scores.

>>> import numpy as np
>>> from mi_zoo.viz import colors
>>> colors.apply_colormap(np.array([[0.0, 1.0]]), "gray")[0, 1].tolist()
[255, 255, 255]
"""

import numpy as np

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)

# Anchor colours of the diverging colormap (Moreland's cool-warm, as in
# matplotlib's "coolwarm"), at 0, 0.25, 0.5, 0.75 and 1.
_COOLWARM = np.array(
    [
        [0.2298, 0.2987, 0.7537],
        [0.5543, 0.6901, 0.9955],
        [0.8654, 0.8654, 0.8654],
        [0.9567, 0.5980, 0.4773],
        [0.7057, 0.0156, 0.1502],
    ]
)

COLORMAPS = ("jet", "coolwarm", "diverging", "gray")

# Background colours of the largest positive / negative token score.
_POSITIVE = np.array([220.0, 30.0, 30.0])
_NEGATIVE = np.array([30.0, 70.0, 220.0])


def check_colormap(colormap):
    """Raises ValueError unless `colormap` is one of `COLORMAPS`."""
    if not isinstance(colormap, str) or colormap not in COLORMAPS:
        raise ValueError(
            "colormap must be one of %s, got %r"
            % (", ".join(COLORMAPS), colormap)
        )


def apply_colormap(values, colormap="jet"):
    """Colours values in [0, 1] (clipped) with a built-in colormap.

    Args:
      values: float array of any shape [...].
      colormap: "jet" (blue -> cyan -> yellow -> red), "coolwarm" or its
        alias "diverging" (blue -> grey -> red) or "gray".

    Returns:
      uint8 [..., 3].

    Raises:
      ValueError: unknown `colormap`.

    >>> apply_colormap(np.array([0.0, 1.0]), "jet").tolist()
    [[0, 0, 128], [128, 0, 0]]
    """
    check_colormap(colormap)
    x = np.clip(np.nan_to_num(np.asarray(values, np.float64)), 0.0, 1.0)
    if colormap == "jet":
        rgb = np.stack(
            [
                np.clip(1.5 - np.abs(4.0 * x - c), 0.0, 1.0)
                for c in (3.0, 2.0, 1.0)
            ],
            axis=-1,
        )
    elif colormap in ("coolwarm", "diverging"):
        anchors = np.linspace(0.0, 1.0, len(_COOLWARM))
        rgb = np.stack(
            [np.interp(x, anchors, _COOLWARM[:, c]) for c in range(3)], axis=-1
        )
    else:  # gray
        rgb = np.stack([x, x, x], axis=-1)
    return np.round(rgb * 255.0).astype(np.uint8)


def score_colors(scores):
    """Background colours of token scores: white for 0, towards red for
    positive and blue for negative, in proportion to |score| / max |score|.

    Args:
      scores: finite float [T].

    Returns:
      uint8 [T, 3].

    Raises:
      ValueError: `scores` is not a finite 1-D array.

    >>> score_colors([2.0, -1.0, 0.0]).tolist()
    [[220, 30, 30], [142, 162, 238], [255, 255, 255]]
    """
    array = np.asarray(scores, np.float64)
    if array.ndim != 1 or not np.all(np.isfinite(array)):
        raise ValueError(
            "scores must be a finite 1-D array [T], got %r" % (scores,)
        )
    peak = np.abs(array).max() if array.size else 0.0
    intensity = np.abs(array) / peak if peak > 0 else np.zeros_like(array)
    target = np.where(array[:, None] >= 0, _POSITIVE, _NEGATIVE)
    white = np.full(3, 255.0)
    colours = white + intensity[:, None] * (target - white)
    return np.round(colours).astype(np.uint8)
