"""Multimodal low-rank bilinear pooling (MLB)."""

import keras

from mi_zoo.core import validation
from mi_zoo.fusion import _common
from mi_zoo.layers import base
from mi_zoo.layers import ops as layer_ops


@keras.saving.register_keras_serializable(package="mi_zoo")
class LowRankBilinearPooling(base.WeightedLayer):
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

    The options of block.bootstrap.pytorch's `MLB` fusion (Ben-younes et
    al.'s fusion library; there `activ_input`, `dropout_input`,
    `normalize`, `dropout_pre_lin`, `activ_output`, `dropout_output`), in
    its order, with j the joint vector σ(·) ∘ σ(·):

        j ← sign(j)·√|j| / ‖sign(j)·√|j|‖₂              normalize=True
        j ← Dropout(j)                                   dropout_pre_lin
        f = output_activation(Pᵀj + b (+ shortcuts))
        f ← Dropout(f)                                   dropout_output

    `activation` is block's `activ_input` and `dropout` its `dropout_input`;
    block's defaults are ReLU for both activations (here tanh and none).
    The defaults (all off) give the layer above.

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
      normalize: whether to apply the signed square root and L2
        normalisation to the joint vector (after the product).
      dropout_pre_lin: dropout rate on the (normalised) joint vector before
        P; needs `units`.
      output_activation: activation of the output f (name or callable;
        None for none), after P, b and the shortcuts.
      dropout_output: dropout rate on the output, after
        `output_activation`.
      seed: seed of the dropouts (None for random ones): `dropout`,
        `dropout_pre_lin` and `dropout_output` use seed, seed + 1, seed + 2.
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

    block.bootstrap's MLB (ReLU in and out, normalised joint vector):

    >>> block_mlb = LowRankBilinearPooling(
    ...     12, units=4, activation="relu", normalize=True,
    ...     output_activation="relu", dropout=0.1, dropout_output=0.1)
    >>> tuple(block_mlb(np.ones((2, 16)), np.ones((2, 8))).shape)
    (2, 4)
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
        normalize=False,
        dropout_pre_lin=0.0,
        output_activation=None,
        dropout_output=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            use_bias=use_bias,
            activation=activation,
            **kwargs,
        )
        validation.check_positive_int("joint_size", joint_size)
        validation.check_positive_int("units", units, allow_none=True)
        validation.check_choice(
            "activation_position", activation_position, ("before", "after")
        )
        _common.check_bool("use_shortcut", use_shortcut)
        _common.check_bool("normalize", normalize)
        if (
            activation_position == "after"
            and self.activation is keras.activations.linear
        ):
            raise ValueError(
                "`activation_position` only applies with an activation, got "
                f"activation_position='after' with activation={activation!r}."
            )
        self.joint_size = joint_size
        self.units = units
        self.activation_position = activation_position
        self.use_shortcut = use_shortcut
        self.dropout = dropout
        self.normalize = normalize
        self.dropout_pre_lin = dropout_pre_lin
        self.output_activation = keras.activations.get(output_activation)
        self.dropout_output = dropout_output
        self.seed = seed
        (self._dropout, self._dropout_pre_lin, self._dropout_output) = (
            _common.dropout_layers(
                {
                    "dropout": dropout,
                    "dropout_pre_lin": dropout_pre_lin,
                    "dropout_output": dropout_output,
                },
                self.dtype_policy,
                seed,
            )
        )
        if dropout_pre_lin and units is None:
            raise ValueError(
                "`dropout_pre_lin` drops the joint vector before the output "
                "projection P, which units=None leaves out; got "
                f"units=None with dropout_pre_lin={dropout_pre_lin}."
            )

    def _sizes(self, x_shape, y_shape):
        n, m, leading = _common.joint_shapes(
            "LowRankBilinearPooling", x_shape, y_shape
        )
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
                "x_shortcut_kernel", (n, out)
            )
            self.y_shortcut_kernel = self.add_kernel(
                "y_shortcut_kernel", (m, out)
            )

    def _operands(self, x, y, training):
        # x: [B, ..., n]; y: [B, ..., m] (either may be [B, features]).
        hx = _common.linear(x, self.x_kernel, self.x_bias)  # [B(, ...), d]
        hy = _common.linear(y, self.y_kernel, self.y_bias)  # [B(, ...), d]
        if self.activation_position == "before":
            hx, hy = self.activation(hx), self.activation(hy)
        hx = _common.apply_dropout(self._dropout, hx, training)
        hy = _common.apply_dropout(self._dropout, hy, training)
        return _common.broadcast_pair(hx, hy)  # [B, 1.., d] or [B, ..., d]

    def hadamard_terms(self, x, y, training=None):
        """The operands of the layer's Hadamard product(s), F = a ∘ b.

        Takes the arguments of `call` and returns [(σ(Uᵀx + b_x),
        σ(Vᵀy + b_y))] (without σ for activation_position="after").
        `mi_zoo.explain` uses them for Kim & Zhang's gradient explanations.
        """
        return [self._operands(x, y, training)]

    def call(self, x, y, training=None):
        hx, hy = self._operands(x, y, training)
        joint = hx * hy  # [B, ..., d]
        if self.activation_position == "after":
            joint = self.activation(joint)
        joint = _common.normalize(joint, self.normalize, self.normalize)
        joint = _common.apply_dropout(self._dropout_pre_lin, joint, training)
        f = joint
        if self.units:  # f: [B, ..., k]
            f = _common.linear(joint, self.output_kernel, self.bias)
        if self.use_shortcut:
            # [B(,...), k] each.
            sx = layer_ops.matmul_last(x, self.x_shortcut_kernel)
            sy = layer_ops.matmul_last(y, self.y_shortcut_kernel)
            sx, sy = _common.broadcast_pair(sx, sy)
            f = f + sx + sy  # [B, ..., k]
        f = self.output_activation(f)
        return _common.apply_dropout(self._dropout_output, f, training)

    def compute_output_shape(self, x_shape, y_shape):
        _, _, leading, out = self._sizes(x_shape, y_shape)
        return leading + (out,)

    def get_config(self):
        config = _common.config_with(
            super().get_config(),
            self,
            (
                "joint_size",
                "units",
                "activation_position",
                "use_shortcut",
                "dropout",
                "normalize",
                "dropout_pre_lin",
                "dropout_output",
                "seed",
            ),
        )
        return _common.activation_config(config, self, ("output_activation",))
