"""Line plots drawn with Pillow (no matplotlib): a framed canvas with a
title, line colours and legend entries.

>>> from mi_zoo.viz import plots
>>> image, draw, font = plots.canvas(200, 100, (40, 10, 30, 20), "loss")
>>> image.size
(200, 100)
"""

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


def legend_entry(draw, font, x, y, color, label):
    """A short thick line of `color` at (x, y) and its label after it."""
    draw.line([x, y + 7, x + 28, y + 7], fill=color, width=3)
    draw.text((x + 34, y), label, fill="black", font=font)
