"""Tiling images: padding to one size and laying them out in a grid.

>>> import numpy as np
>>> from mi_zoo.viz import grids
>>> grids.grid([np.zeros((4, 4, 3), np.uint8)] * 3, columns=2).shape
(12, 12, 3)
"""

import math
from typing import List
from typing import Sequence

import numpy as np

from mi_zoo.viz.images import to_uint8


def pad_to_same_size(images: Sequence[np.ndarray]) -> List[np.ndarray]:
    """Pads RGB images with white (at the bottom and right) to the largest
    height and width among them, so they stack into one [N, H, W, 3]
    batch (e.g. for `tf.summary.image`).

    >>> [p.shape for p in pad_to_same_size([np.zeros((2, 3, 3), np.uint8),
    ...                                     np.zeros((4, 1, 3), np.uint8)])]
    [(4, 3, 3), (4, 3, 3)]
    """
    if not images:
        raise ValueError("`images` must not be empty, got images=[].")
    images = [to_uint8(image) for image in images]
    h = max(image.shape[0] for image in images)
    w = max(image.shape[1] for image in images)
    out = []
    for image in images:
        canvas = np.full((h, w, 3), 255, np.uint8)
        canvas[: image.shape[0], : image.shape[1]] = image
        out.append(canvas)
    return out


def grid(images, columns, spacing=4):
    """Tiles images of possibly different sizes row by row on white.

    Each row is as tall as its tallest image and each column as wide as its
    widest; images sit at the top left of their cells.

    Args:
      images: non-empty sequence of [H_i, W_i, 3] / [H_i, W_i, 1] /
        [H_i, W_i] images, float in [0, 1] or uint8.
      columns: positive int; fewer images than columns make one row.
      spacing: white pixels between cells, >= 0.

    Returns:
      uint8 [sum of row heights + spacing * (rows - 1),
      sum of column widths + spacing * (columns' - 1), 3].

    Raises:
      ValueError: bad `images`, `columns` or `spacing`.

    >>> grid([np.zeros((2, 3)), np.zeros((4, 1)), np.zeros((1, 1))],
    ...      columns=2, spacing=1).shape
    (6, 5, 3)
    """
    if (
        isinstance(columns, bool)
        or not isinstance(columns, (int, np.integer))
        or columns < 1
    ):
        raise ValueError("columns must be a positive int, got %r" % (columns,))
    if (
        isinstance(spacing, bool)
        or not isinstance(spacing, (int, np.integer))
        or spacing < 0
    ):
        raise ValueError("spacing must be an int >= 0, got %r" % (spacing,))
    if isinstance(images, np.ndarray) and images.ndim == 4:
        images = list(images)
    if not isinstance(images, (list, tuple)) or not images:
        raise ValueError(
            "images must be a non-empty list of images, got %r" % (images,)
        )
    tiles = [to_uint8(image) for image in images]
    columns = min(int(columns), len(tiles))
    rows = math.ceil(len(tiles) / columns)
    heights = [
        max(tile.shape[0] for tile in tiles[r * columns : (r + 1) * columns])
        for r in range(rows)
    ]
    widths = [
        max(tile.shape[1] for tile in tiles[c::columns])
        for c in range(columns)
    ]
    top = np.concatenate([[0], np.cumsum(np.array(heights) + spacing)])
    left = np.concatenate([[0], np.cumsum(np.array(widths) + spacing)])
    out = np.full(
        (
            sum(heights) + spacing * (rows - 1),
            sum(widths) + spacing * (columns - 1),
            3,
        ),
        255,
        np.uint8,
    )
    for index, tile in enumerate(tiles):
        y, x = top[index // columns], left[index % columns]
        out[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
    return out
