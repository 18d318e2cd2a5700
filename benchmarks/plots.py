"""What the results scripts share to draw their plots (Pillow, no
matplotlib) and save them as PNG files and TensorBoard images."""

import os

import numpy as np
from PIL import Image
from PIL import ImageDraw
import tensorflow as tf

from mi_zoo.explain import figures

#: Line colours, in order.
COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40),
          (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127)]


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
    font = figures.load_font(13)
    left, right, top, bottom = frame
    draw.rectangle([left, top, width - right, height - bottom],
                   outline="black")
    draw.text((left, 12), title, fill="black", font=font)
    return image, draw, font


def legend_entry(draw, font, x, y, color, label):
    """A short thick line of `color` at (x, y) and its label after it."""
    draw.line([x, y + 7, x + 28, y + 7], fill=color, width=3)
    draw.text((x + 34, y), label, fill="black", font=font)


def save_plot(image, out_dir, name, tag, png=None):
    """Writes <out_dir>/<name>.png, a copy at `png` if given, and the image
    as the TensorBoard summary `tag` in <out_dir>/summary."""
    image = np.asarray(image, np.uint8)
    figures.save_png(os.path.join(out_dir, f"{name}.png"), image)
    if png:
        figures.save_png(png, image)
    writer = tf.summary.create_file_writer(os.path.join(out_dir, "summary"))
    with writer.as_default(step=0):
        tf.summary.image(tag, image[None])
    writer.flush()
