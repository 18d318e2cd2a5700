"""Feature-wise linear modulation (FiLM)."""

import keras
from keras import ops

from mi_zoo.core import validation
from mi_zoo.layers import base
from mi_zoo.layers import ops as layer_ops


@keras.saving.register_keras_serializable(package="mi_zoo")
class FiLM(base.WeightedLayer):
    """Feature-wise linear modulation of x by a context z.

        FiLM(x, z) = γ(z) ∘ x + β(z),  γ(z) = 1 + zᵀW_γ + b_γ,
                                       β(z) = zᵀW_β + b_β

    applied along the channel `axis` of x (Perez et al., "FiLM: Visual
    Reasoning with a General Conditioning Layer", AAAI 2018). γ has a baseline
    of 1, so with zero weights the layer is the identity, as the paper
    recommends. With axis=-1 this equals `MultiplicativeInteraction(
    form="diagonal")` with v = 1 + b_γ.

    Args:
      axis: the channel axis of x that γ and β scale and shift (-1 for
        channels-last feature maps, 1 for channels-first). Not the batch axis.
      use_bias: whether γ and β have the biases b_γ, b_β.
      kernel_initializer, bias_initializer, kernel_regularizer,
      bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: for W_γ, W_β (kernels) and b_γ, b_β (biases).
      **kwargs: base `keras.layers.Layer` arguments.

    Input shapes:
      x: [B, ..., C, ...] with rank >= 2 and C at `axis`.
      z: [B, m], broadcast over every axis of x but the batch and channel
        axes; with axis=-1 also [B, ..., m] with exactly x's leading axes.

    Output shape:
      x's shape.

    Example:

    >>> import numpy as np, keras
    >>> from mi_zoo.layers import FiLM
    >>> feature_map = keras.Input((8, 8, 16)); question = keras.Input((32,))
    >>> y = FiLM()(feature_map, question)
    >>> keras.Model([feature_map, question], y).predict(
    ...     [np.ones((2, 8, 8, 16)), np.ones((2, 32))], verbose=0).shape
    (2, 8, 8, 16)
    """

    has_activation = False

    def __init__(
        self,
        axis=-1,
        use_bias=True,
        **kwargs,
    ):
        super().__init__(
            use_bias=use_bias,
            **kwargs,
        )
        self.axis = validation.check_film_axis(axis)

    def build(self, x_shape, z_shape):
        _, c, m = validation.film_channel_axis(self.axis, x_shape, z_shape)
        self.gamma_kernel = self.add_kernel("gamma_kernel", (m, c))
        self.gamma_bias = self.add_bias("gamma_bias", (c,))
        self.beta_kernel = self.add_kernel("beta_kernel", (m, c))
        self.beta_bias = self.add_bias("beta_bias", (c,))

    def call(self, x, z):
        # x: [B, ..., C, ...]; z: [B, m] or [B, ..., m] (axis=-1).
        axis = self.axis % len(x.shape)
        # [B(,...), C]
        gamma = 1.0 + layer_ops.matmul_last(z, self.gamma_kernel)
        beta = layer_ops.matmul_last(z, self.beta_kernel)  # [B(,...), C]
        if self.use_bias:
            gamma = gamma + self.gamma_bias
            beta = beta + self.beta_bias
        if axis == len(x.shape) - 1:
            gamma = layer_ops.broadcast_context(x, gamma)  # [B, 1.., C]
            beta = layer_ops.broadcast_context(x, beta)
        else:
            shape = [1] * len(x.shape)
            shape[axis] = x.shape[axis]
            shape[0] = -1
            gamma = ops.reshape(gamma, shape)  # [B, 1.., C, 1..]
            beta = ops.reshape(beta, shape)
        return gamma * x + beta

    def compute_output_shape(self, x_shape, z_shape):
        validation.film_channel_axis(self.axis, x_shape, z_shape)
        return tuple(x_shape)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
