"""Sonnet 2 twin of `mi_zoo.layers.FiLM`."""

import sonnet as snt
import tensorflow as tf

from mi_zoo.core import validation
from mi_zoo.sonnet import multiplicative_interaction as _mi


class FiLM(snt.Module):
    """Feature-wise linear modulation of x by a context z (Sonnet 2).

        FiLM(x, z) = γ(z) ∘ x + β(z),  γ(z) = 1 + zᵀW_γ + b_γ,
                                       β(z) = zᵀW_β + b_β

    applied along the channel `axis` of x (Perez et al., "FiLM: Visual
    Reasoning with a General Conditioning Layer", AAAI 2018). γ has a baseline
    of 1, so with zero weights the module is the identity. With axis=-1 this
    equals `MultiplicativeInteraction(form="diagonal")` with v = 1 + b_γ.

    This is the twin of `mi_zoo.layers.FiLM`: same math, checks and variables
    `gamma_kernel` (W_γ, [m, C]), `gamma_bias` (b_γ, [C]), `beta_kernel`
    (W_β, [m, C]) and `beta_bias` (b_β, [C]), created on the first call with
    the dtype of x.

    Args:
      axis: the channel axis of x that γ and β scale and shift (-1 for
        channels-last feature maps, 1 for channels-first). Not the batch axis.
      with_bias: whether γ and β have the biases b_γ, b_β.
      w_init: initializer of W_γ and W_β; Glorot uniform by default, as the
        Keras layer (see `mi_zoo.sonnet.multiplicative_interaction.
        default_w_init`).
      b_init: initializer of b_γ and b_β; zeros by default. Must be None
        when `with_bias` is False.
      name: name of the module, "film" by default.

    Input shapes:
      x: [B, ..., C, ...] with rank >= 2 and C at `axis`.
      z: [B, m], broadcast over every axis of x but the batch and channel
        axes; with axis=-1 also [B, ..., m] with exactly x's leading axes.

    Output shape:
      x's shape.

    Example:

    >>> import tensorflow as tf
    >>> from mi_zoo.sonnet import FiLM
    >>> film = FiLM(axis=1)
    >>> feature_map = tf.ones([2, 16, 8, 8]); question = tf.ones([2, 32])
    >>> film(feature_map, question).shape
    TensorShape([2, 16, 8, 8])
    >>> film.gamma_kernel.shape
    TensorShape([32, 16])
    """

    def __init__(
        self,
        axis=-1,
        with_bias=True,
        w_init=None,
        b_init=None,
        name=None,
    ):
        super().__init__(name=name if name is not None else "film")
        axis = validation.check_film_axis(axis)
        self.b_init = _mi.check_bias_arguments(with_bias, b_init)
        self.axis = axis
        self.with_bias = with_bias
        self.w_init = w_init if w_init is not None else _mi.default_w_init()

    @snt.once
    def _initialize(self, x, z):
        """Creates the variables from the first inputs."""
        _, c, m = validation.film_channel_axis(self.axis, x.shape, z.shape)
        self.channels, self.context_size = c, m
        self.gamma_kernel = tf.Variable(
            self.w_init([m, c], x.dtype), name="gamma_kernel"
        )
        if self.with_bias:
            self.gamma_bias = tf.Variable(
                self.b_init([c], x.dtype), name="gamma_bias"
            )
        self.beta_kernel = tf.Variable(
            self.w_init([m, c], x.dtype), name="beta_kernel"
        )
        if self.with_bias:
            self.beta_bias = tf.Variable(
                self.b_init([c], x.dtype), name="beta_bias"
            )

    def __call__(self, x, z):
        """Modulates x by z.

        Args:
          x: the input, [B, ..., C, ...].
          z: the context, [B, m] (or [B, ..., m] with axis=-1).

        Returns:
          γ(z) ∘ x + β(z), of x's shape.

        Raises:
          ValueError: on shapes that do not fit, or that differ in C or m from
            those of the first call.
        """
        x = tf.convert_to_tensor(x)
        z = tf.convert_to_tensor(z)
        channel, c, m = validation.film_channel_axis(
            self.axis, x.shape, z.shape
        )
        self._initialize(x, z)
        _mi.check_built_sizes(
            self, x, z, "C", (c, m), (self.channels, self.context_size)
        )
        gamma = 1.0 + _mi.matmul_last(z, self.gamma_kernel)  # [B(, ...), C]
        beta = _mi.matmul_last(z, self.beta_kernel)
        if self.with_bias:
            gamma += self.gamma_bias
            beta += self.beta_bias
        if channel == x.shape.rank - 1:
            gamma = _mi.broadcast_context(x, gamma)  # [B, 1.., C]
            beta = _mi.broadcast_context(x, beta)
        else:
            shape = [1] * x.shape.rank
            shape[0], shape[channel] = -1, c
            gamma = tf.reshape(gamma, shape)  # [B, 1.., C, 1..]
            beta = tf.reshape(beta, shape)
        return gamma * x + beta
