"""Coordinate maps appended to a feature map (as in FiLM and CoordConv)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mi_zoo")
class CoordinateChannels(keras.layers.Layer):
    """Appends two channels holding each cell's x and y coordinate in [-1, 1].

    Perez et al. (FiLM, AAAI 2018) feed these maps to every residual block so
    that convolutions can reason about position (as CoordConv, Liu et al.,
    NeurIPS 2018). Channel C holds x (varying along the width axis, -1 at the
    left) and channel C+1 holds y (varying along the height axis, -1 at the
    top). A 1-pixel axis gets coordinate 0.

    Input shape:
      [B, H, W, C] (channels last).

    Output shape:
      [B, H, W, C + 2].

    Example:

    >>> import numpy as np
    >>> from mi_zoo.layers import CoordinateChannels
    >>> y = CoordinateChannels()(np.zeros((1, 2, 3, 4), "float32"))
    >>> tuple(y.shape), [float(v) for v in y[0, 0, :, 4]]
    ((1, 2, 3, 6), [-1.0, 0.0, 1.0])
    """

    def build(self, input_shape):
        if len(input_shape) != 4 or None in tuple(input_shape)[1:3]:
            raise ValueError(
                "CoordinateChannels expects a [batch, height, width, channels]"
                f" feature map with known height and width, got shape "
                f"{tuple(input_shape)}."
            )

    def call(self, x):
        # x: [B, H, W, C]
        h, w = x.shape[1], x.shape[2]
        ys = ops.linspace(-1.0, 1.0, h) if h > 1 else ops.zeros((1,))
        xs = ops.linspace(-1.0, 1.0, w) if w > 1 else ops.zeros((1,))
        grid_y, grid_x = ops.meshgrid(ys, xs, indexing="ij")  # [H, W] each
        coords = ops.cast(ops.stack([grid_x, grid_y], -1), x.dtype)
        coords = ops.broadcast_to(
            coords[None], (ops.shape(x)[0], h, w, 2)
        )  # [B, H, W, 2]
        return ops.concatenate([x, coords], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (input_shape[-1] + 2,)
