"""Line plots drawn with Pillow (no matplotlib): a framed canvas with a
title, line colours, dashed lines and legend entries.

>>> from mi_zoo.viz import plots
>>> image, draw, font = plots.canvas(200, 100, (40, 10, 30, 20), "loss")
>>> image.size
(200, 100)
>>> dashed_line(draw, [(40, 50), (170, 50)], COLORS[0], dash=10)
>>> legend_entry(draw, font, 45, 20, COLORS[0], "relational", dash=6)
"""

import math

from PIL import Image
from PIL import ImageDraw

from mi_zoo.viz.text import load_font

#: Line colours, in order.
COLORS = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
]


def canvas(width, height, frame, title):
    """A white image with a black plot frame and a title.

    Args:
      width, height: image size in pixels.
      frame: (left, right, top, bottom) margins of the plot area.
      title: text at the top left of the plot area.

    Returns:
      (image, draw, font).
    """
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = load_font(13)
    left, right, top, bottom = frame
    draw.rectangle(
        [left, top, width - right, height - bottom], outline="black"
    )
    draw.text((left, 12), title, fill="black", font=font)
    return image, draw, font


def dashed_line(draw, points, fill, width=3, dash=8):
    """Draws the polyline through `points` ([(x, y), ...]) dashed: `dash`
    pixels drawn, `dash` left out, along the whole length (the pattern
    goes on across the vertices).

    Args:
      draw: a `PIL.ImageDraw.ImageDraw`.
      points: two or more (x, y) vertices, in pixels.
      fill: the line colour.
      width: the line width in pixels.
      dash: the length of each dash and of each gap, in pixels (> 0).

    Raises:
      ValueError: `dash` is not positive.
    """
    if not dash > 0:
        raise ValueError(f"`dash` must be > 0 pixels, got dash={dash!r}.")
    travelled = 0.0  # Length of the line before the current segment.
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        length = math.hypot(x1 - x0, y1 - y0)
        # Dashes start at multiples of 2·dash along the whole line.
        start = math.floor(travelled / (2 * dash)) * 2 * dash - travelled
        while start < length:
            a, b = max(start, 0.0), min(start + dash, length)
            if b > a:
                draw.line(
                    [
                        (
                            x0 + (x1 - x0) * a / length,
                            y0 + (y1 - y0) * a / length,
                        ),
                        (
                            x0 + (x1 - x0) * b / length,
                            y0 + (y1 - y0) * b / length,
                        ),
                    ],
                    fill=fill,
                    width=width,
                )
            start += 2 * dash
        travelled += length


def legend_entry(draw, font, x, y, color, label, dash=None):
    """A short thick line of `color` at (x, y) (dashed `dash` pixels if
    given) and its label after it."""
    if dash:
        dashed_line(draw, [(x, y + 7), (x + 28, y + 7)], color, 3, dash)
    else:
        draw.line([x, y + 7, x + 28, y + 7], fill=color, width=3)
    draw.text((x + 34, y), label, fill="black", font=font)
