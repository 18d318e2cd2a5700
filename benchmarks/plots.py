"""What the results scripts share to draw their plots (Pillow, no
matplotlib) and save them as PNG files and TensorBoard images.

The drawing itself (`canvas`, `dashed_line`, `legend_entry`, `COLORS`)
lives in `mi_zoo.viz.plots` and is re-exported here; `save_plot` adds the
TensorBoard copy.
"""

import os

import numpy as np
import tensorflow as tf

from mi_zoo import viz
from mi_zoo.viz.plots import COLORS  # noqa: F401
from mi_zoo.viz.plots import canvas  # noqa: F401
from mi_zoo.viz.plots import dashed_line  # noqa: F401
from mi_zoo.viz.plots import legend_entry  # noqa: F401


def save_plot(image, out_dir, name, tag, png=None):
    """Writes <out_dir>/<name>.png, a copy at `png` if given, and the image
    as the TensorBoard summary `tag` in <out_dir>/summary."""
    image = np.asarray(image, np.uint8)
    viz.save_png(os.path.join(out_dir, f"{name}.png"), image)
    if png:
        viz.save_png(png, image)
    writer = tf.summary.create_file_writer(os.path.join(out_dir, "summary"))
    with writer.as_default(step=0):
        tf.summary.image(tag, image[None])
    writer.flush()
