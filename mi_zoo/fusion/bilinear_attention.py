"""Bilinear attention maps (BAN) between two sets of feature vectors.

Besides the layer, this module holds the helpers the attention layers of
`mi_zoo.fusion` share: `masked_softmax` (a float32 softmax over one or more
axes that gives masked positions exactly zero) and the shape checks of a
pair of sets [B, ρ, N], [B, φ, M] and of their padding masks.
"""

import keras
from keras import ops

from mi_zoo.layers import _base
from mi_zoo.layers import _ops
from mi_zoo.layers import _validation

# Logit given to masked positions before the max of the softmax; the softmax
# runs in float32 (or float64), where it is finite, and masked positions are
# multiplied by zero afterwards, so a fully masked row gives zeros, not NaN.
_MASKED_LOGIT = -1e9


def masked_softmax(logits, mask=None, axis=-1):
    """Softmax over `axis` that gives masked positions exactly zero.

    The softmax is computed in float32 (float64 inputs stay float64) and cast
    back to the dtype of `logits`, so float16 logits neither overflow nor
    lose the normalisation. A slice whose positions are all masked gives all
    zeros (not NaN, not uniform).

    Args:
      logits: tensor of logits.
      mask: None, or a boolean tensor (True = valid) broadcastable to
        `logits`; 0/1 numbers are accepted and cast to bool.
      axis: an int or a tuple of ints: the axes normalised jointly.

    Returns:
      The attention weights, `logits`' shape and dtype.
    """
    dtype = keras.backend.standardize_dtype(logits.dtype)
    work = "float64" if dtype == "float64" else "float32"
    logits = ops.cast(logits, work)
    if mask is not None:
        mask = ops.cast(mask, "bool")
        logits = ops.where(mask, logits, _MASKED_LOGIT)
    top = ops.stop_gradient(ops.max(logits, axis=axis, keepdims=True))
    weights = ops.exp(logits - top)
    if mask is not None:
        weights = weights * ops.cast(mask, work)
    total = ops.sum(weights, axis=axis, keepdims=True)
    weights = weights / ops.where(total > 0, total, ops.ones_like(total))
    return ops.cast(weights, dtype)


def check_set_shapes(layer_name, x_name, x_shape, y_name, y_shape):
    """Validates two sets of feature vectors; returns their feature sizes.

    Args:
      layer_name: name used in error messages.
      x_name, y_name: the call argument names of the two sets.
      x_shape: [B, ρ, N], ρ may be unknown, N must be known.
      y_shape: [B, φ, M], φ may be unknown, M must be known.

    Returns:
      (N, M).

    Raises:
      ValueError: on a rank or batch mismatch or an unknown feature size; the
        message prints both shapes.
    """
    x_shape, y_shape = tuple(x_shape), tuple(y_shape)
    where = (f"{layer_name}: {x_name} has shape {x_shape} and {y_name} has "
             f"shape {y_shape}")
    for name, shape in ((x_name, x_shape), (y_name, y_shape)):
        if len(shape) != 3:
            raise ValueError(
                f"{where}; {name} must have rank 3 ([batch, positions, "
                f"features]).")
    if not (x_shape[0] is None or y_shape[0] is None
            or x_shape[0] == y_shape[0]):
        raise ValueError(f"{where}; the batch sizes differ.")
    if x_shape[-1] is None or y_shape[-1] is None:
        raise ValueError(f"{where}; the feature (last) axes must be known.")
    return int(x_shape[-1]), int(y_shape[-1])


def check_mask(layer_name, mask_name, mask, x_name, x):
    """Checks that a padding mask is [B, S] for a set x of shape [B, S, C].

    Returns the mask as a bool tensor (None stays None).
    """
    if mask is None:
        return None
    mask_shape, x_shape = tuple(mask.shape), tuple(x.shape)
    ok = len(mask_shape) == 2 and all(
        a is None or b is None or a == b
        for a, b in zip(mask_shape, x_shape[:2]))
    if not ok:
        raise ValueError(
            f"{layer_name}: {mask_name} has shape {mask_shape} and {x_name} "
            f"has shape {x_shape}; {mask_name} must be [batch, positions] = "
            f"{x_shape[:2]}.")
    return ops.cast(mask, "bool")


def masked_sum(x, mask):
    """Σ_s mask_s x_s over axis 1 of x [B, S, C]; mask [B, S] or None."""
    if mask is None:
        return ops.sum(x, axis=1)
    return ops.sum(x * ops.cast(ops.expand_dims(mask, -1), x.dtype), axis=1)


@keras.saving.register_keras_serializable(package="mi_zoo")
class BilinearAttention(_base.WeightedLayer):
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
    logit bias would cancel in the softmax over all pairs and is left out.

    Masked positions (padding tokens or zero-padded boxes) get exactly zero
    attention: the softmax runs over the valid pairs only, in float32. If
    every pair of an example is masked (no valid token or no valid box) its
    maps are all zeros. The logits (`return_logits=True`) are the raw scores
    L_g, masked positions included.

    Args:
      glimpses: number G of attention maps.
      rank: rank K of the low-rank bilinear logits (U, V have K columns).
      activation: σ, applied to Uᵀx_i + b_U and Vᵀy_j + b_V; "relu" as in
        the paper, None for the plain low-rank bilinear logits.
      use_bias: whether the linear maps have the biases b_U, b_V.
      return_logits: whether to return (maps, logits) instead of the maps.
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
        _validation.check_positive_int("glimpses", glimpses)
        _validation.check_positive_int("rank", rank)
        if not isinstance(return_logits, bool):
            raise ValueError("`return_logits` must be a bool, got "
                             f"return_logits={return_logits!r}.")
        self.glimpses = glimpses
        self.rank = rank
        self.return_logits = return_logits
        # x_mask, y_mask default to x's, y's Keras masks; outputs carry none.
        self.supports_masking = True

    def compute_mask(self, inputs, previous_mask=None):
        # The padding masks are consumed here: the outputs carry none.
        return None

    def _output_shape(self, x_shape, y_shape):
        """Checks the shapes; returns (N, M, maps shape)."""
        n, m = check_set_shapes(
            "BilinearAttention", "x", x_shape, "y", y_shape)
        batch = x_shape[0] if x_shape[0] is not None else y_shape[0]
        return n, m, (batch, self.glimpses, x_shape[1], y_shape[1])

    def build(self, x_shape, y_shape):
        n, m, _ = self._output_shape(x_shape, y_shape)
        self.x_kernel = self.add_kernel("x_kernel", (n, self.rank))  # U
        self.x_bias = self.add_bias("x_bias", (self.rank,))
        self.y_kernel = self.add_kernel("y_kernel", (m, self.rank))  # V
        self.y_bias = self.add_bias("y_bias", (self.rank,))
        self.glimpse_kernel = self.add_kernel(  # p_g, one row per glimpse
            "glimpse_kernel", (self.glimpses, self.rank))

    def hidden(self, t, kernel, bias):
        """σ(t W + b) over the last axis of t."""
        h = _ops.matmul_last(t, kernel)
        if bias is not None:
            h = h + bias
        return self.activation(h)

    def call(self, x, y, x_mask=None, y_mask=None):
        # x: [B, ρ, N]; y: [B, φ, M]; x_mask: [B, ρ]; y_mask: [B, φ].
        x_mask = check_mask("BilinearAttention", "x_mask", x_mask, "x", x)
        y_mask = check_mask("BilinearAttention", "y_mask", y_mask, "y", y)
        hx = self.hidden(x, self.x_kernel, self.x_bias)  # [B, ρ, K]
        hy = self.hidden(y, self.y_kernel, self.y_bias)  # [B, φ, K]
        p = ops.reshape(self.glimpse_kernel, (1, self.glimpses, 1, self.rank))
        hxp = ops.expand_dims(hx, 1) * p  # [B, G, ρ, K]
        hyt = ops.expand_dims(ops.transpose(hy, (0, 2, 1)), 1)  # [B, 1, K, φ]
        logits = ops.matmul(hxp, hyt)  # [B, G, ρ, φ]
        mask = pair_mask(x_mask, y_mask)  # [B, 1, ρ|1, φ|1] or None
        maps = masked_softmax(logits, mask, axis=(-2, -1))  # [B, G, ρ, φ]
        if self.return_logits:
            return maps, logits
        return maps

    def compute_output_shape(self, x_shape, y_shape):
        _, _, shape = self._output_shape(x_shape, y_shape)
        return (shape, shape) if self.return_logits else shape

    def get_config(self):
        config = super().get_config()
        config.update({
            "glimpses": self.glimpses,
            "rank": self.rank,
            "return_logits": self.return_logits,
        })
        return config


def pair_mask(x_mask, y_mask):
    """The mask of the pairs (i, j): x_mask_i ∧ y_mask_j, [B, 1, ρ, φ].

    With one mask missing, it broadcasts over that axis ([B, 1, ρ, 1] or
    [B, 1, 1, φ]); None when both are.
    """
    if x_mask is None and y_mask is None:
        return None
    rows = None if x_mask is None else ops.expand_dims(x_mask, (1, 3))
    cols = None if y_mask is None else ops.expand_dims(y_mask, (1, 2))
    if cols is None:
        return rows  # [B, 1, ρ, 1]
    if rows is None:
        return cols  # [B, 1, 1, φ]
    return ops.logical_and(rows, cols)  # [B, 1, ρ, φ]
