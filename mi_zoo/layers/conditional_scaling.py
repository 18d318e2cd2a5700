"""Conditional scaling: sigmoid gating of x by the context."""

import keras
from keras import ops

from mi_zoo.core import validation
from mi_zoo.layers import base
from mi_zoo.layers import ops as layer_ops


@keras.saving.register_keras_serializable(package="mi_zoo")
class ConditionalScaling(base.WeightedLayer):
    """Gates each feature of x by a sigmoid of the context z.

        f(x, z) = σ(zᵀW + c) ∘ x

    The multiplicative gating of gated-attention readers (Dhingra et al.,
    ACL 2017) and the "conditional scaling" baseline of Jayakumar et al.
    (ICLR 2020): a diagonal MI with a squashed gate and no additive terms.
    c is the optional gate bias (`use_bias`).

    Args:
      use_bias: whether the gate has the bias c.
      kernel_initializer, bias_initializer, kernel_regularizer,
      bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: for W (kernel) and c (bias).
      **kwargs: base `keras.layers.Layer` arguments.

    Input shapes:
      x: [B, ..., n] with rank >= 2.
      z: [B, m] (broadcast over x's middle axes) or [B, ..., m].

    Output shape:
      x's shape.

    Example:

    >>> import numpy as np, keras
    >>> from mi_zoo.layers import ConditionalScaling
    >>> x = keras.Input((10, 16)); z = keras.Input((4,))
    >>> y = ConditionalScaling()(x, z)
    >>> keras.Model([x, z], y).predict(
    ...     [np.ones((2, 10, 16)), np.ones((2, 4))], verbose=0).shape
    (2, 10, 16)
    """

    has_activation = False

    def _sizes(self, x_shape, z_shape):
        return validation.check_input_context_shapes(
            "ConditionalScaling", x_shape, z_shape
        )

    def build(self, x_shape, z_shape):
        n, m = self._sizes(x_shape, z_shape)
        self.kernel = self.add_kernel("kernel", (m, n))
        self.bias = self.add_bias("bias", (n,))

    def call(self, x, z):
        # x: [B, ..., n]; z: [B, m] or [B, ..., m].
        logits = layer_ops.matmul_last(
            layer_ops.broadcast_context(x, z), self.kernel
        )
        if self.use_bias:
            logits = logits + self.bias
        return ops.sigmoid(logits) * x  # [B, ..., n]

    def compute_output_shape(self, x_shape, z_shape):
        self._sizes(x_shape, z_shape)
        return tuple(x_shape)
