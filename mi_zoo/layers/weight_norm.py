"""Weight normalisation of a layer's kernels: W = g · V / ‖V‖.

Salimans & Kingma, "Weight Normalization", NeurIPS 2016, in the form of
`torch.nn.utils.weight_norm`: the kernel is stored as its direction V and a
scale g, and the layer computes with W = g · V / ‖V‖. With `axes=None` (the
`dim=None` that jnhwkim/ban-vqa passes for every weight-normalised linear
map) g is one number and ‖V‖ the Frobenius norm of the whole kernel; with
axes, the norm is taken over those axes, one g per slice along the others
(e.g. axes (1, 2) for a stack [G, n, k] of G kernels, one g per kernel).
g starts at ‖V‖, so W = V at initialisation, as in PyTorch.

Public: the fusion layers (BAN) use it, and `WeightNormDense` here.

Example:

>>> import numpy as np
>>> v = np.array([[3.0, 0.0], [0.0, 4.0]])
>>> np.asarray(normalized(v, np.array([[10.0]]), None)).tolist()
[[6.0, 0.0], [0.0, 8.0]]
"""

import keras
from keras import ops

from mi_zoo.core import validation
from mi_zoo.layers import base


def scale_shape(shape, axes):
    """The shape of g for a kernel of `shape`: 1 on `axes` (all if None)."""
    rank = len(shape)
    reduced = range(rank) if axes is None else [a % rank for a in axes]
    return tuple(1 if i in reduced else shape[i] for i in range(rank))


def normalized(kernel, scale, axes):
    """W = g · V / ‖V‖, the norm over `axes` (None: all), kept as 1s."""
    kernel = ops.convert_to_tensor(kernel)
    norm = ops.sqrt(
        ops.sum(ops.square(kernel), axis=axes, keepdims=True)
    )  # [1, ...]
    return kernel * (ops.cast(scale, kernel.dtype) / norm)


def add_scale(layer, kernel, axes=None):
    """Adds g for `kernel` (a variable of `layer`), initialised to ‖V‖.

    The variable is named after the kernel with "_scale" appended and set
    as the layer's attribute of that name; returns it.
    """
    name = kernel.name + "_scale"
    scale = layer.add_weight(
        name=name,
        shape=scale_shape(kernel.shape, axes),
        initializer="ones",
    )
    norm = ops.sqrt(ops.sum(ops.square(kernel), axis=axes, keepdims=True))
    scale.assign(ops.reshape(ops.cast(norm, scale.dtype), scale.shape))
    setattr(layer, name, scale)
    return scale


def kernel(layer, name, axes=None):
    """The kernel `name` of `layer` as the layer computes with it: the
    variable itself, or g · V / ‖V‖ if `layer.weight_norm`."""
    v = getattr(layer, name)
    if not layer.weight_norm:
        return v
    return normalized(v, getattr(layer, name + "_scale"), axes)


def check(value):
    """Raises unless `weight_norm` is a bool."""
    if not isinstance(value, bool):
        raise ValueError(
            f"`weight_norm` must be a bool, got weight_norm={value!r}."
        )


@keras.saving.register_keras_serializable(package="mi_zoo")
class WeightNormDense(base.WeightedLayer):
    """A dense layer with a weight-normalised kernel: σ(x W + b).

    W = g · V / ‖V‖ with one scale g and ‖V‖ the Frobenius norm of the
    whole kernel V [n, units] (`torch.nn.utils.weight_norm(nn.Linear(n,
    units), dim=None)`, as in jnhwkim/ban-vqa's classifier and FCNet); g
    starts at ‖V‖, so at initialisation it is the Dense layer with kernel V.
    Weights: `kernel` (V), `kernel_scale` (g, shape [1, 1]), `bias`.

    Args:
      units: output size.
      activation: σ (None: linear).
      use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
      bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: as for `keras.layers.Dense` (the regularizer and
        constraint of the kernel act on V).
      **kwargs: base `keras.layers.Layer` arguments.

    Input shape:
      [..., n].

    Output shape:
      [..., units].

    Example:

    >>> import numpy as np
    >>> from mi_zoo.layers import WeightNormDense
    >>> tuple(WeightNormDense(3, activation="relu")(np.ones((2, 5))).shape)
    (2, 3)
    """

    weight_norm = True

    def __init__(self, units, activation=None, use_bias=True, **kwargs):
        super().__init__(use_bias=use_bias, activation=activation, **kwargs)
        self.units = validation.check_positive_int("units", units)

    def build(self, input_shape):
        n = input_shape[-1]
        if n is None:
            raise ValueError(
                "WeightNormDense: the last axis of the input must be known, "
                f"got input shape {tuple(input_shape)}."
            )
        self.kernel = self.add_kernel("kernel", (n, self.units))
        add_scale(self, self.kernel)
        self.bias = self.add_bias("bias", (self.units,))

    def call(self, x):
        y = ops.matmul(x, kernel(self, "kernel"))
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        return config
