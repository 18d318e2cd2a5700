"""Multimodal low-rank bilinear pooling (MLB) and helpers of the MLB family.

Besides the layer, this module holds small helpers that the other fusion
layers can reuse: `check_bool`, `check_rate`, `joint_shapes` (two inputs that
meet feature-wise, one of which may broadcast over the other's middle axes)
and `broadcast_pair`.
"""

import keras

from mi_zoo.layers import _base
from mi_zoo.layers import _ops
from mi_zoo.layers import _validation


def check_bool(name, value):
    """Raises unless `value` is a Python bool."""
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be a bool, got {name}={value!r}.")


def check_rate(name, value):
    """Raises unless `value` is a real number in [0, 1) (bools refused)."""
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not 0 <= value < 1):
        raise ValueError(
            f"`{name}` must be a number in [0, 1), got {name}={value!r}.")


def _compatible(a, b):
    return a is None or b is None or a == b


def _merge(a, b):
    return a if b is None else b


def joint_shapes(layer_name, x_shape, y_shape, x_name="x", y_name="y"):
    """Validates two inputs that meet feature-wise; returns (n, m, leading).

    Both inputs have rank >= 2 and a known last axis. Either they have the
    same leading axes ([B, ..., n] and [B, ..., m]), or one of them is
    [B, features] and broadcasts over the middle axes of the other (a
    question vector against S region features).

    Args:
      layer_name: name used in error messages.
      x_shape, y_shape: the static shapes of the two inputs.
      x_name, y_name: the names of the inputs in error messages.

    Returns:
      (n, m, leading): the feature sizes of x and y, and the leading axes
      (batch included) of the result, the known size where one is unknown.

    Raises:
      ValueError: on a rank, batch or leading-axes mismatch, or an unknown
        feature size; the message prints both shapes.
    """
    x_shape, y_shape = tuple(x_shape), tuple(y_shape)
    where = (f"{layer_name}: {x_name} has shape {x_shape} and {y_name} has "
             f"shape {y_shape}")
    for name, shape in ((x_name, x_shape), (y_name, y_shape)):
        if len(shape) < 2:
            raise ValueError(f"{where}; {name} must have rank >= 2 "
                             "([batch, ..., features]).")
    if not _compatible(x_shape[0], y_shape[0]):
        raise ValueError(f"{where}; the batch sizes of {x_name} and {y_name} "
                         "differ.")
    if len(x_shape) == len(y_shape):
        pairs = list(zip(x_shape[:-1], y_shape[:-1]))
        if not all(_compatible(a, b) for a, b in pairs):
            raise ValueError(f"{where}; the leading axes of {x_name} and "
                             f"{y_name} differ.")
        leading = tuple(_merge(a, b) for a, b in pairs)
    elif min(len(x_shape), len(y_shape)) == 2:
        longer = x_shape if len(x_shape) > len(y_shape) else y_shape
        leading = (_merge(x_shape[0], y_shape[0]),) + longer[1:-1]
    else:
        raise ValueError(
            f"{where}; inputs of different ranks need the lower-rank one to be "
            "[batch, features], broadcast over the other's middle axes.")
    if x_shape[-1] is None or y_shape[-1] is None:
        raise ValueError(f"{where}; the last axes of {x_name} and {y_name} "
                         "must be known.")
    return int(x_shape[-1]), int(y_shape[-1]), leading


def broadcast_pair(a, b):
    """Gives the lower-rank of two [B, ..., f] tensors singleton middle axes.

    For `a` [B, f] and `b` [B, S, g] returns ([B, 1, f], b), so that
    elementwise ops broadcast `a` over S; tensors of equal rank come back
    unchanged.
    """
    if len(a.shape) < len(b.shape):
        return _ops.broadcast_context(b, a), b
    return a, _ops.broadcast_context(a, b)


@keras.saving.register_keras_serializable(package="mi_zoo")
class LowRankBilinearPooling(_base.WeightedLayer):
    """Multimodal low-rank bilinear pooling (MLB) of two inputs x and y.

    For x ∈ Rⁿ and y ∈ Rᵐ, with U [n, d], V [m, d], P [d, k] and the
    activation σ (tanh by default, as in the paper),

        activation_position="before" (Section 3.2, biases of Section 3.1):
            f = Pᵀ(σ(Uᵀx + b_x) ∘ σ(Vᵀy + b_y)) + b
        activation_position="after":
            f = Pᵀ σ((Uᵀx + b_x) ∘ (Vᵀy + b_y)) + b
        use_shortcut=True (the paper's shortcut connection, Section 3.3):
            f = ... + h_x(x) + h_y(y),  h_x(x) = W_xᵀx,  h_y(y) = W_yᵀy

    Kim et al., "Hadamard Product for Low-rank Bilinear Pooling", ICLR 2017.
    Without activation and biases each output fᵢ = xᵀ(U diag(Pᵢ) Vᵀ)y is a
    bilinear form of rank at most d (the joint size). With `units=None` there
    is no P and no b: the layer returns the d-dimensional joint vector
    σ(·) ∘ σ(·) (plus the shortcuts, then mapping to d).

    Weights, named after the formula: `x_kernel` (U), `x_bias` (b_x),
    `y_kernel` (V), `y_bias` (b_y), `output_kernel` (P), `bias` (b),
    `x_shortcut_kernel` (W_x) and `y_shortcut_kernel` (W_y). The shortcuts
    are linear maps without bias (b already is a bias of the sum).

    Dropout drops units of the projected x and y (after σ for "before")
    right before the Hadamard product, in training only, with independent
    masks for x and y. (The authors' released Torch code drops the inputs of
    the linear maps instead.)

    Args:
      joint_size: d, the size of the joint (Hadamard) space, i.e. the rank.
      units: k, the output size of the projection P; None returns the joint
        d-dimensional vector.
      activation: σ, applied to each projection ("before") or to their
        product ("after"). Name or callable; None for a linear model.
      activation_position: `"before"` or `"after"` the Hadamard product.
        "after" needs an activation.
      use_shortcut: whether to add the linear shortcuts h_x(x) + h_y(y).
      dropout: dropout rate on the projected x and y, in [0, 1).
      use_bias: whether to add b_x, b_y and b.
      kernel_initializer: initializer of U, V, P, W_x, W_y.
      bias_initializer: initializer of b_x, b_y, b.
      kernel_regularizer, bias_regularizer, activity_regularizer,
      kernel_constraint, bias_constraint: as in `keras.layers.Dense`.
      **kwargs: base `keras.layers.Layer` arguments (name, dtype, ...).

    Input shapes:
      x: [B, ..., n]; y: [B, ..., m] with the same leading axes, or either of
      them [B, features], broadcast over the other's middle axes (a question
      vector x [B, n] against S region features y [B, S, m]).

    Output shape:
      [B, ..., k] (or [B, ..., d] when units is None), the leading axes of
      the higher-rank input.

    Example:

    >>> import numpy as np, keras
    >>> from mi_zoo.fusion import LowRankBilinearPooling
    >>> question = keras.Input((16,)); regions = keras.Input((36, 8))
    >>> joint = LowRankBilinearPooling(12, units=4)(question, regions)
    >>> model = keras.Model([question, regions], joint)
    >>> model.predict([np.ones((2, 16)), np.ones((2, 36, 8))],
    ...               verbose=0).shape
    (2, 36, 4)
    """

    def __init__(
        self,
        joint_size,
        units=None,
        activation="tanh",
        activation_position="before",
        use_shortcut=False,
        dropout=0.0,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            use_bias=use_bias,
            activation=activation,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )
        _validation.check_positive_int("joint_size", joint_size)
        _validation.check_positive_int("units", units, allow_none=True)
        _validation.check_choice(
            "activation_position", activation_position, ("before", "after"))
        check_bool("use_shortcut", use_shortcut)
        check_rate("dropout", dropout)
        if (activation_position == "after"
                and self.activation is keras.activations.linear):
            raise ValueError(
                "`activation_position` only applies with an activation, got "
                f"activation_position='after' with activation={activation!r}.")
        self.joint_size = joint_size
        self.units = units
        self.activation_position = activation_position
        self.use_shortcut = use_shortcut
        self.dropout = dropout
        self._dropout = (keras.layers.Dropout(dropout, dtype=self.dtype_policy)
                         if dropout else None)

    def _sizes(self, x_shape, y_shape):
        n, m, leading = joint_shapes(
            "LowRankBilinearPooling", x_shape, y_shape)
        return n, m, leading, self.units or self.joint_size

    def build(self, x_shape, y_shape):
        n, m, _, out = self._sizes(x_shape, y_shape)
        d = self.joint_size
        self.x_kernel = self.add_kernel("x_kernel", (n, d))
        self.x_bias = self.add_bias("x_bias", (d,))
        self.y_kernel = self.add_kernel("y_kernel", (m, d))
        self.y_bias = self.add_bias("y_bias", (d,))
        self.output_kernel = self.bias = None
        if self.units:
            self.output_kernel = self.add_kernel("output_kernel", (d, out))
            self.bias = self.add_bias("bias", (out,))
        self.x_shortcut_kernel = self.y_shortcut_kernel = None
        if self.use_shortcut:
            self.x_shortcut_kernel = self.add_kernel(
                "x_shortcut_kernel", (n, out))
            self.y_shortcut_kernel = self.add_kernel(
                "y_shortcut_kernel", (m, out))

    def call(self, x, y, training=None):
        # x: [B, ..., n]; y: [B, ..., m] (either may be [B, features]).
        hx = _ops.matmul_last(x, self.x_kernel)  # [B(, ...), d]
        hy = _ops.matmul_last(y, self.y_kernel)  # [B(, ...), d]
        if self.use_bias:
            hx = hx + self.x_bias
            hy = hy + self.y_bias
        if self.activation_position == "before":
            hx, hy = self.activation(hx), self.activation(hy)
        if self._dropout is not None:
            hx = self._dropout(hx, training=training)
            hy = self._dropout(hy, training=training)
        hx, hy = broadcast_pair(hx, hy)  # [B, 1.., d] or [B, ..., d]
        joint = hx * hy  # [B, ..., d]
        if self.activation_position == "after":
            joint = self.activation(joint)
        f = joint
        if self.units:
            f = _ops.matmul_last(joint, self.output_kernel)  # [B, ..., k]
            if self.use_bias:
                f = f + self.bias
        if self.use_shortcut:
            sx = _ops.matmul_last(x, self.x_shortcut_kernel)  # [B(,...), k]
            sy = _ops.matmul_last(y, self.y_shortcut_kernel)  # [B(,...), k]
            sx, sy = broadcast_pair(sx, sy)
            f = f + sx + sy  # [B, ..., k]
        return f

    def compute_output_shape(self, x_shape, y_shape):
        _, _, leading, out = self._sizes(x_shape, y_shape)
        return leading + (out,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "joint_size": self.joint_size,
                "units": self.units,
                "activation_position": self.activation_position,
                "use_shortcut": self.use_shortcut,
                "dropout": self.dropout,
            }
        )
        return config
