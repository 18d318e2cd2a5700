"""MLB attention with G glimpses."""

import keras
from keras import ops

from mi_zoo.core import validation
from mi_zoo.fusion import _common
from mi_zoo.layers import base
from mi_zoo.layers import ops as layer_ops


def attention_shapes(layer_name, q_shape, features_shape):
    """Validates q [B, n] and features [B, ..., C]; returns (n, C, spatial).

    Raises:
      ValueError: on a rank or batch mismatch or an unknown feature size;
        the message prints both shapes.
    """
    q_shape, features_shape = tuple(q_shape), tuple(features_shape)
    where = (
        f"{layer_name}: q has shape {q_shape} and features has shape "
        f"{features_shape}"
    )
    if len(q_shape) != 2:
        raise ValueError(f"{where}; q must be [batch, n].")
    if len(features_shape) < 3:
        raise ValueError(
            f"{where}; features must be [batch, S, C] or [batch, H, W, C]."
        )
    if not _common.compatible(q_shape[0], features_shape[0]):
        raise ValueError(f"{where}; the batch sizes of q and features differ.")
    if q_shape[-1] is None or features_shape[-1] is None:
        raise ValueError(
            f"{where}; the last axes of q and features must be known."
        )
    return int(q_shape[-1]), int(features_shape[-1]), features_shape[1:-1]


@keras.saving.register_keras_serializable(package="mi_zoo")
class MLBAttention(_common.ConsumesMasks, base.WeightedLayer):
    """Low-rank bilinear (MLB) attention of a question over S features.

    For a question q ∈ Rⁿ and features F_1, ..., F_S ∈ R^C (a flattened
    grid), with U_q [n, d], V_F [C, d], P_α [d, G] and σ (tanh),

        α = softmax_S(P_αᵀ(σ(U_qᵀq + b_q)·1ᵀ ∘ σ(V_Fᵀ F + b_F)))   [G, S]
        v̂ = ‖_{g=1..G} Σ_s α_{g,s} F_s                           [G·C]

    one softmax over the S positions per glimpse g, and v̂ the concatenation
    of the G attended features (Kim et al., "Hadamard Product for Low-rank
    Bilinear Pooling", ICLR 2017, Section 4). A bias on the
    attention logits would cancel in the softmax, so there is none.

    The paper concatenates the attended features as they are; its answer
    model then maps v̂ through σ(V_vᵀv̂), which the authors'
    released code implements per glimpse (a linear map and tanh for each
    glimpse, then concatenation). `glimpse_units=u` adds that step here:
    v̂ = ‖_g σ(W_gᵀ Σ_s α_{g,s} F_s + c_g) with W_g [C, u], giving [G·u].

    Weights: `question_kernel` (U_q), `question_bias` (b_q), `feature_kernel`
    (V_F), `feature_bias` (b_F), `attention_kernel` (P_α) and, with
    glimpse_units, `glimpse_kernel` [G, C, u] (W_g) and `glimpse_bias`
    [G, u] (c_g).

    Masks: `mask` is a boolean padding mask with the leading axes of
    `features` ([B, S] or [B, H, W]), True at valid positions. Masked
    positions get exactly zero attention. A fully masked example gets
    α = 0 (no NaN) and hence v̂ = 0 (σ(c_g) with glimpse_units). Under mixed
    precision the softmax runs in float32.

    Dropout drops units of σ(U_qᵀq + b_q) and σ(V_Fᵀ F + b_F) before their
    product, in training only (the authors' code drops the inputs of the
    linear maps instead).

    Args:
      joint_size: d, the size of the joint space of the attention.
      glimpses: G, the number of attention maps (2 in the paper).
      activation: σ (name or callable), tanh as in the paper; also applied
        after the per-glimpse maps W_g.
      glimpse_units: None (the paper: concatenate the attended features) or u,
        the size of each glimpse's projection W_g.
      dropout: dropout rate on the projected q and F, in [0, 1).
      use_bias: whether to add b_q, b_F and c_g.
      kernel_initializer, bias_initializer, kernel_regularizer,
      bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: as in `keras.layers.Dense`.
      **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
      q: [B, n], the question.
      features: [B, S, C] or [B, H, W, C] (any [B, ..., C] of rank >= 3;
        the middle axes are the attended positions).
      mask: optional boolean [B, S] / [B, H, W] (features' leading axes).

    Output shapes:
      (v̂, α): v̂ [B, G·C] (or [B, G·u]) and α [B, G, S] (or [B, G, H, W]).

    Example:

    >>> import numpy as np, keras
    >>> from mi_zoo.fusion import MLBAttention
    >>> q = keras.Input((16,)); grid = keras.Input((7, 7, 32))
    >>> attended, alpha = MLBAttention(24, glimpses=2)(q, grid)
    >>> model = keras.Model([q, grid], [attended, alpha])
    >>> v, a = model.predict([np.ones((2, 16)), np.ones((2, 7, 7, 32))],
    ...                      verbose=0)
    >>> v.shape, a.shape
    ((2, 64), (2, 2, 7, 7))
    >>> bool(np.allclose(a.sum(axis=(2, 3)), 1.0))
    True
    """

    def __init__(
        self,
        joint_size,
        glimpses=2,
        activation="tanh",
        glimpse_units=None,
        dropout=0.0,
        use_bias=True,
        **kwargs,
    ):
        super().__init__(
            use_bias=use_bias,
            activation=activation,
            **kwargs,
        )
        validation.check_positive_int("joint_size", joint_size)
        validation.check_positive_int("glimpses", glimpses)
        validation.check_positive_int(
            "glimpse_units", glimpse_units, allow_none=True
        )
        self.joint_size = joint_size
        self.glimpses = glimpses
        self.glimpse_units = glimpse_units
        self.dropout = dropout
        self._dropout = _common.dropout_layer(dropout, self.dtype_policy)

    def build(self, q_shape, features_shape):
        n, c, _ = attention_shapes("MLBAttention", q_shape, features_shape)
        d, g = self.joint_size, self.glimpses
        self.question_kernel = self.add_kernel("question_kernel", (n, d))
        self.question_bias = self.add_bias("question_bias", (d,))
        self.feature_kernel = self.add_kernel("feature_kernel", (c, d))
        self.feature_bias = self.add_bias("feature_bias", (d,))
        self.attention_kernel = self.add_kernel("attention_kernel", (d, g))
        self.glimpse_kernel = self.glimpse_bias = None
        if self.glimpse_units:
            u = self.glimpse_units
            self.glimpse_kernel = self.add_kernel("glimpse_kernel", (g, c, u))
            self.glimpse_bias = self.add_bias("glimpse_bias", (g, u))

    def _check_mask(self, features, mask):
        expected, got = tuple(features.shape[:-1]), tuple(mask.shape)
        if len(got) != len(expected) or not all(
            _common.compatible(a, b) for a, b in zip(expected, got)
        ):
            raise ValueError(
                f"MLBAttention: features has shape {tuple(features.shape)} "
                f"and mask has shape {got}; mask must have the leading axes "
                f"of features, {expected}."
            )

    def call(self, q, features, mask=None, training=None):
        # q: [B, n]; features: [B, S, C] or [B, H, W, C]; mask: [B, S|H, W].
        flat, batch, spatial = _common.flatten_positions(features)  # [B,S,C]
        hq = self.activation(
            _common.linear(q, self.question_kernel, self.question_bias)
        )  # [B, d]
        hf = self.activation(
            _common.linear(flat, self.feature_kernel, self.feature_bias)
        )  # [B, S, d]
        if self._dropout is not None:
            hq = self._dropout(hq, training=training)
            hf = self._dropout(hf, training=training)
        joint = ops.expand_dims(hq, 1) * hf  # [B, S, d]
        # [B, S, G]
        logits = layer_ops.matmul_last(joint, self.attention_kernel)
        logits = ops.transpose(logits, (0, 2, 1))  # [B, G, S]
        if mask is not None:
            self._check_mask(features, mask)
        alpha, attended = _common.attend(logits, flat, mask)  # [B, G, S|C]
        if self.glimpse_units:
            # One batched matmul over the glimpses, glimpse-major: 0.52–0.57×
            # the time of einsum("bgc,gcu->bgu") forward+backward at the
            # paper's sizes (benchmarks/fusion_merges.py).
            attended = ops.transpose(
                ops.matmul(
                    ops.transpose(attended, (1, 0, 2)), self.glimpse_kernel
                ),
                (1, 0, 2),
            )  # [G, B, C] × [G, C, u] -> [B, G, u]
            if self.use_bias:
                attended = attended + self.glimpse_bias
            attended = self.activation(attended)
        width = self.glimpses * attended.shape[-1]
        attended = ops.reshape(attended, (batch, width))  # [B, G·C | G·u]
        alpha = ops.reshape(alpha, (batch, self.glimpses) + spatial)
        return attended, alpha  # [B, G·C], [B, G, S] or [B, G, H, W]

    def compute_output_shape(self, q_shape, features_shape):
        _, c, spatial = attention_shapes(
            "MLBAttention", q_shape, features_shape
        )
        batch = _common.merge(q_shape[0], features_shape[0])
        width = self.glimpses * (self.glimpse_units or c)
        return (batch, width), (batch, self.glimpses) + tuple(spatial)

    def get_config(self):
        return _common.config_with(
            super().get_config(),
            self,
            ("joint_size", "glimpses", "glimpse_units", "dropout"),
        )
