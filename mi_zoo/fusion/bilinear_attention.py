"""Bilinear attention maps (BAN) between two sets of feature vectors."""

import keras
from keras import ops

from mi_zoo.core import validation
from mi_zoo.fusion import _common
from mi_zoo.layers import base
from mi_zoo.layers import weight_norm as wn


@keras.saving.register_keras_serializable(package="mi_zoo")
class BilinearAttention(_common.ConsumesMasks, base.WeightedLayer):
    """Bilinear attention maps over every pair of two sets' positions.

    For x = (x_1, ..., x_ρ) ∈ R^{ρ×N} (the question's token features in the
    paper, X ∈ R^{N×ρ} there: x here is Xᵀ) and y = (y_1, ..., y_φ) ∈
    R^{φ×M} (the image's region features, Y ∈ R^{M×φ} there), glimpse g has
    the logits and map

        L_g[i, j] = p_gᵀ (σ(Uᵀx_i + b_U) ∘ σ(Vᵀy_j + b_V))
        A_g = softmax over all ρ·φ pairs (i, j) jointly of L_g

    i.e. the paper's A_g = softmax(((1·p_gᵀ) ∘ σ(XᵀU)) σ(VᵀY)) (Eqs. 7, 8
    and 11 of Kim, Jun, Zhang, "Bilinear Attention Networks", NeurIPS 2018):
    one low-rank bilinear pooling per pair, with U [N, K], V [M, K] shared by
    the glimpses and one p_g [K] per glimpse. Row i of A_g is token x_i,
    column j region y_j. σ is ReLU in the paper; b_U, b_V are the biases of
    the two linear maps (the paper's equations omit them). A per-glimpse
    logit bias h_g (`use_logit_bias=True`, the authors' code's `h_bias`)
    cancels in the softmax over all pairs, so the maps do not depend on it,
    but the logits L_g + h_g do: BAN's counting module reads them.

    Masked positions (padding tokens or zero-padded boxes) get exactly zero
    attention: the softmax runs over the valid pairs only, in float32. If
    every pair of an example is masked (no valid token or no valid box) its
    maps are all zeros. The logits (`return_logits=True`) are the raw scores
    L_g (+ h_g), masked positions included.

    Args:
      glimpses: number G of attention maps.
      rank: rank K of the low-rank bilinear logits (U, V have K columns).
      activation: σ, applied to Uᵀx_i + b_U and Vᵀy_j + b_V; "relu" as in
        the paper, None for the plain low-rank bilinear logits.
      use_bias: whether the linear maps have the biases b_U, b_V.
      return_logits: whether to return (maps, logits) instead of the maps.
      use_logit_bias: whether the logits have a bias h_g per glimpse (a
        weight `logit_bias` [G], with the bias initializer, regularizer and
        constraint).
      weight_norm: whether U, V and p are weight-normalised, W = g·V/‖V‖
        with one g per kernel and the norm over the whole kernel (p of all
        glimpses together), as `torch.nn.utils.weight_norm(..., dim=None)`
        in the authors' code (`mi_zoo.layers.weight_norm`).
      kernel_initializer, bias_initializer, kernel_regularizer,
      bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: for U, V, p_g (kernels) and b_U, b_V (biases).
      **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
      x: [B, ρ, N], e.g. question token features.
      y: [B, φ, M], e.g. image region features.
      x_mask: optional boolean [B, ρ], True for valid tokens.
      y_mask: optional boolean [B, φ], True for valid regions.
      A mask left out defaults to its input's Keras mask (e.g. from
      `Embedding(mask_zero=True)`); pass masks as tensors or keywords,
      never None positionally (Keras then fills the argument twice).

    Output shape:
      maps [B, G, ρ, φ], each [ρ, φ] slice summing to one over the valid
      pairs; with `return_logits` also the logits [B, G, ρ, φ].

    Example:

    >>> import numpy as np, keras
    >>> from mi_zoo.fusion import BilinearAttention
    >>> tokens = keras.Input((7, 16)); boxes = keras.Input((5, 32))
    >>> maps = BilinearAttention(glimpses=2, rank=12)(tokens, boxes)
    >>> keras.Model([tokens, boxes], maps).predict(
    ...     [np.ones((3, 7, 16)), np.ones((3, 5, 32))], verbose=0).shape
    (3, 2, 7, 5)
    """

    def __init__(
        self,
        glimpses,
        rank,
        activation="relu",
        use_bias=True,
        return_logits=False,
        use_logit_bias=False,
        weight_norm=False,
        **kwargs,
    ):
        super().__init__(
            use_bias=use_bias,
            activation=activation,
            **kwargs,
        )
        validation.check_positive_int("glimpses", glimpses)
        validation.check_positive_int("rank", rank)
        _common.check_bool("return_logits", return_logits)
        _common.check_bool("use_logit_bias", use_logit_bias)
        wn.check(weight_norm)
        self.glimpses = glimpses
        self.rank = rank
        self.return_logits = return_logits
        self.use_logit_bias = use_logit_bias
        self.weight_norm = weight_norm

    def _output_shape(self, x_shape, y_shape):
        """Checks the shapes; returns (N, M, maps shape)."""
        n, m = _common.check_set_shapes(
            "BilinearAttention", "x", x_shape, "y", y_shape
        )
        batch = _common.merge(x_shape[0], y_shape[0])
        return n, m, (batch, self.glimpses, x_shape[1], y_shape[1])

    def build(self, x_shape, y_shape):
        n, m, _ = self._output_shape(x_shape, y_shape)
        self.x_kernel = self.add_kernel("x_kernel", (n, self.rank))  # U
        self.x_bias = self.add_bias("x_bias", (self.rank,))
        self.y_kernel = self.add_kernel("y_kernel", (m, self.rank))  # V
        self.y_bias = self.add_bias("y_bias", (self.rank,))
        self.glimpse_kernel = self.add_kernel(  # p_g, one row per glimpse
            "glimpse_kernel", (self.glimpses, self.rank)
        )
        if self.weight_norm:
            for kernel in (self.x_kernel, self.y_kernel, self.glimpse_kernel):
                wn.add_scale(self, kernel)
        self.logit_bias = None
        if self.use_logit_bias:  # h_g
            self.logit_bias = self.add_weight(
                name="logit_bias",
                shape=(self.glimpses,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def hidden(self, t, kernel, bias):
        """σ(t W + b) over the last axis of t."""
        return self.activation(_common.linear(t, kernel, bias))

    def call(self, x, y, x_mask=None, y_mask=None):
        # x: [B, ρ, N]; y: [B, φ, M]; x_mask: [B, ρ]; y_mask: [B, φ].
        name = "BilinearAttention"
        x_mask = _common.check_mask(name, "x_mask", x_mask, "x", x)
        y_mask = _common.check_mask(name, "y_mask", y_mask, "y", y)
        u, v, p = (
            wn.kernel(self, name)
            for name in ("x_kernel", "y_kernel", "glimpse_kernel")
        )
        hx = self.hidden(x, u, self.x_bias)  # [B, ρ, K]
        hy = self.hidden(y, v, self.y_bias)  # [B, φ, K]
        p = ops.reshape(p, (1, self.glimpses, 1, self.rank))
        hxp = ops.expand_dims(hx, 1) * p  # [B, G, ρ, K]
        hyt = ops.expand_dims(ops.transpose(hy, (0, 2, 1)), 1)  # [B, 1, K, φ]
        logits = ops.matmul(hxp, hyt)  # [B, G, ρ, φ]
        if self.logit_bias is not None:
            logits = logits + ops.reshape(
                self.logit_bias, (1, self.glimpses, 1, 1)
            )
        mask = _common.pair_mask(x_mask, y_mask)  # [B, 1, ρ|1, φ|1] | None
        maps = _common.masked_softmax(
            logits, mask, axis=(-2, -1)
        )  # [B, G, ρ, φ]
        if self.return_logits:
            return maps, logits
        return maps

    def compute_output_shape(self, x_shape, y_shape):
        _, _, shape = self._output_shape(x_shape, y_shape)
        return (shape, shape) if self.return_logits else shape

    def get_config(self):
        return _common.config_with(
            super().get_config(),
            self,
            (
                "glimpses",
                "rank",
                "return_logits",
                "use_logit_bias",
                "weight_norm",
            ),
        )
