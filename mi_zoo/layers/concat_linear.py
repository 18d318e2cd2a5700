"""Concatenation conditioning: a linear layer on [x; z]."""

import keras

from mi_zoo.layers import conditional_bias


@keras.saving.register_keras_serializable(package="mi_zoo")
class ConcatLinear(conditional_bias.ConditionalBias):
    """Linear layer on the concatenation of x and the context z.

        f(x, z) = activation(W [x; z] + b)

    The usual way to feed a context to a network, and the additive baseline of
    Jayakumar et al. (ICLR 2020). A [B, m] context is broadcast over x's middle
    axes before the concatenation, as if tiled. The single kernel W has shape
    [n + m, k] (what `Dense` on `Concatenate([x, z])` would hold); the product
    is computed as W_x x + W_z z without tiling z.

    Args:
      units: output size k.
      use_bias: whether to add b.
      activation: activation applied to the output.
      kernel_initializer, bias_initializer, kernel_regularizer,
      bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: for W (kernel) and b (bias).
      **kwargs: base `keras.layers.Layer` arguments.

    Input shapes:
      x: [B, ..., n] with rank >= 2.
      z: [B, m] (broadcast over x's middle axes) or [B, ..., m].

    Output shape:
      [B, ..., k].

    Example:

    >>> import numpy as np, keras
    >>> from mi_zoo.layers import ConcatLinear
    >>> x = keras.Input((16,)); z = keras.Input((4,))
    >>> y = ConcatLinear(8)(x, z)
    >>> keras.Model([x, z], y).predict(
    ...     [np.ones((2, 16)), np.ones((2, 4))], verbose=0).shape
    (2, 8)
    """

    def build(self, x_shape, z_shape):
        n, m = self._sizes(x_shape, z_shape)
        self.kernel = self.add_kernel("kernel", (n + m, self.units))
        self.bias = self.add_bias("bias", (self.units,))

    def _kernels(self, n):
        """(W[:n] [n, k], W[n:] [m, k]): the rows of the one kernel W that
        multiply x (n features) and z; `ConditionalBias.call` applies them
        as W_x x + W_z z."""
        return self.kernel[:n], self.kernel[n:]
