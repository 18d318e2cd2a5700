"""Bilinear attention networks (BAN) with residual learning of attention."""

import keras
from keras import ops

from mi_zoo.core import validation
from mi_zoo.fusion import _common
from mi_zoo.fusion import bilinear_attention
from mi_zoo.fusion import counter as counter_module
from mi_zoo.layers import base
from mi_zoo.layers import weight_norm as wn

# The per-glimpse kernels [G, ., .]: weight normalisation takes one g and
# one norm per glimpse (the authors' code has one nn.Linear per glimpse).
_GLIMPSE_KERNELS = (
    "feature_x_kernel",
    "feature_y_kernel",
    "projection_kernel",
    "count_kernel",
)


@keras.saving.register_keras_serializable(package="mi_zoo")
class BilinearAttentionNetwork(_common.ConsumesMasks, base.WeightedLayer):
    """BAN: G bilinear attention glimpses joined by residual learning.

    x = (x_1, ..., x_ρ) ∈ R^{ρ×N} are the question's token features and
    y = (y_1, ..., y_φ) ∈ R^{φ×M} the image's region features (X = xᵀ,
    Y = yᵀ in the paper). The G bilinear attention maps A_g [ρ, φ] are
    computed once from x and y by a `BilinearAttention` layer (shared U, V,
    one p_g per glimpse, softmax over all ρ·φ pairs). Then, with f_0 = x,
    glimpse g = 0, ..., G − 1 computes the bilinear attention feature

        f'_g[k] = Σ_i Σ_j A_g[i, j] σ(U'_gᵀf_g,i + b'_g)_k σ(V'_gᵀy_j + c'_g)_k
                = σ(XᵀU'_g)ᵀ_k A_g σ(YᵀV'_g)_k, X = f_gᵀ   (Eq. 10), k < K,

    sum-pools it over windows of `pool_size` consecutive elements
    (k-sum pooling, K -> K/k), projects it back to N and adds it to every
    token (Eq. 9, the residual learning of attention):

        BAN_g(f_g, Y; A_g) = P_gᵀ sum_pool_k(f'_g) + d_g        ∈ R^N
        f_{g+1} = BAN_g(f_g, Y; A_g) · 1ᵀ + f_g                 [ρ, N]
        joint = Σ_i f_G,i                                       ∈ R^N

    Each glimpse has its own U'_g [N, K], V'_g [M, K] and P_g [K/k, N]; the
    attention maps all use the input x (f_0), not f_g, as in Eq. 8 (shared
    U, V) and the authors' code. Since f_0 = x, the joint size C equals N.

    Shapes, in the paper's notation: f_g is N×ρ, f'_g ∈ R^K, BAN_g(...) ∈
    R^C with C = N, (BAN_g · 1ᵀ) is N×ρ, and the joint vector, the sum of
    f_G over the ρ channels, is in R^N; here every one is batched and
    channels-last: f_g [B, ρ, N], joint [B, N], maps [B, G, ρ, φ].

    σ is ReLU in the paper, b'_g, c'_g, d_g are the biases of the linear
    maps (the authors' code has them; the paper's equations omit them).
    With `x_mask`, padded tokens get no attention and are left out of the
    final sum over ρ (the paper, without padding, sums every channel), so the
    output does not depend on how much padding there is; with `y_mask`
    padded boxes get no attention. An example whose tokens or boxes are all
    masked has all-zero maps, so each glimpse adds only its bias d_g:
    joint = Σ_{valid i} (x_i + Σ_g d_g) (zero if no token is valid).

    `pool_size` defaults to BAN's k = 3. The authors' released code uses
    k = 3 to widen the rank of the attention logits (here: `attention_rank`
    = 3 × hidden size) and k = 1 (no pooling) for the glimpse features, which
    `pool_size=1` reproduces.

    With `counter=True`, the counting module of Zhang et al. (ICLR 2018,
    `Counter`) joins each glimpse as in the authors' code for their VQA 2.0
    results: the attention logits get their per-glimpse bias h_g (which
    leaves the maps unchanged), box j's logit is its largest over the valid
    tokens, l_g,j = max_i (L_g[i, j] + h_g), the counter (one, shared by the
    glimpses) turns the logits and the `boxes` into a count vector
    c_g ∈ R^{n+1}, and each glimpse adds its projection to every token:

        f_{g+1} = BAN_g(f_g, Y; A_g) · 1ᵀ + σ(Q_gᵀ c_g + e_g) · 1ᵀ + f_g

    with Q_g [n+1, N] and e_g [N] per glimpse (n = `counter_objects`).

    With `weight_norm=True` every kernel is weight-normalised as in the
    authors' code, W = g·V/‖V‖ (`torch.nn.utils.weight_norm(..., dim=None)`:
    one scale g per linear map, the Frobenius norm of its whole kernel):
    U, V and p of the attention (p of all glimpses together, ban-vqa's
    `h_mat`), and per glimpse U'_g, V'_g, P_g and Q_g; the counter's
    functions and the biases are not. Dropout is not part of this layer.

    Args:
      glimpses: number G of glimpses (attention maps).
      rank: rank K of each glimpse's bilinear attention feature, before the
        k-sum pooling; a multiple of `pool_size`.
      attention_rank: rank of the attention logits (the `rank` of the inner
        `BilinearAttention`); defaults to `rank`.
      pool_size: window k of the sum pooling of the features.
      activation: σ, for both the attention and the features.
      use_bias: whether the linear maps have biases.
      counter: whether each glimpse adds the projected count of the
        counting module (then `boxes` is required).
      counter_objects: n, how many boxes the counter considers (the authors'
        10); its count vector has n + 1 entries.
      weight_norm: whether the kernels are weight-normalised (see above).
      kernel_initializer, bias_initializer, kernel_regularizer,
      bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: for every kernel and bias, the attention's included.
      **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
      x: [B, ρ, N] token features.
      y: [B, φ, M] region features.
      x_mask: optional boolean [B, ρ], True for valid tokens.
      y_mask: optional boolean [B, φ], True for valid regions.
      boxes: [B, φ, 4] (x1, y1, x2, y2) of the regions, with `counter=True`
        only; pass it as a keyword.
      A mask left out defaults to its input's Keras mask (e.g. from
      `Embedding(mask_zero=True)`); pass masks as tensors or keywords,
      never None positionally (Keras then fills the argument twice).

    Output:
      (joint [B, N], maps [B, G, ρ, φ]).

    Example:

    >>> import numpy as np, keras
    >>> from mi_zoo.fusion import BilinearAttentionNetwork
    >>> tokens = keras.Input((7, 16)); boxes = keras.Input((5, 32))
    >>> ban = BilinearAttentionNetwork(glimpses=2, rank=12, pool_size=3)
    >>> joint, maps = ban(tokens, boxes)
    >>> joint, maps = keras.Model([tokens, boxes], [joint, maps]).predict(
    ...     [np.ones((3, 7, 16)), np.ones((3, 5, 32))], verbose=0)
    >>> joint.shape, maps.shape
    ((3, 16), (3, 2, 7, 5))
    """

    def __init__(
        self,
        glimpses,
        rank,
        attention_rank=None,
        pool_size=3,
        activation="relu",
        use_bias=True,
        counter=False,
        counter_objects=10,
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
        validation.check_positive_int(
            "attention_rank", attention_rank, allow_none=True
        )
        validation.check_positive_int("pool_size", pool_size)
        _common.check_bool("counter", counter)
        validation.check_positive_int("counter_objects", counter_objects)
        wn.check(weight_norm)
        if rank % pool_size:
            raise ValueError(
                "`rank` must be a multiple of `pool_size` (the k-sum pooling "
                f"sums windows of pool_size features), got rank={rank} and "
                f"pool_size={pool_size}."
            )
        self.glimpses = glimpses
        self.rank = rank
        self.attention_rank = attention_rank
        self.pool_size = pool_size
        self.counter = counter
        self.counter_objects = counter_objects
        self.weight_norm = weight_norm
        self.attention = bilinear_attention.BilinearAttention(
            glimpses,
            attention_rank or rank,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            kernel_regularizer=self.kernel_regularizer,
            bias_regularizer=self.bias_regularizer,
            kernel_constraint=self.kernel_constraint,
            bias_constraint=self.bias_constraint,
            return_logits=counter,
            use_logit_bias=counter,
            weight_norm=weight_norm,
            dtype=self.dtype_policy,
            name="attention",
        )
        self.count_layer = None
        if counter:
            self.count_layer = counter_module.Counter(
                counter_objects, dtype=self.dtype_policy, name="counter"
            )

    def _sizes(self, x_shape, y_shape):
        return _common.check_set_shapes(
            "BilinearAttentionNetwork", "x", x_shape, "y", y_shape
        )

    def build(self, x_shape, y_shape):
        n, m = self._sizes(x_shape, y_shape)
        g, k, pooled = self.glimpses, self.rank, self.rank // self.pool_size
        self.attention.build(x_shape, y_shape)
        self.feature_x_kernel = self.add_kernel(  # U'_g
            "feature_x_kernel", (g, n, k)
        )
        self.feature_x_bias = self.add_bias("feature_x_bias", (g, k))
        self.feature_y_kernel = self.add_kernel(  # V'_g
            "feature_y_kernel", (g, m, k)
        )
        self.feature_y_bias = self.add_bias("feature_y_bias", (g, k))
        self.projection_kernel = self.add_kernel(  # P_g
            "projection_kernel", (g, pooled, n)
        )
        self.projection_bias = self.add_bias("projection_bias", (g, n))
        if self.counter:
            phi = y_shape[1]
            self.count_layer.build((None, phi, 4), (None, phi))
            slots = self.counter_objects + 1
            self.count_kernel = self.add_kernel(  # Q_g
                "count_kernel", (g, slots, n)
            )
            self.count_bias = self.add_bias("count_bias", (g, n))  # e_g
        if self.weight_norm:
            for name in _GLIMPSE_KERNELS[: 4 if self.counter else 3]:
                wn.add_scale(self, getattr(self, name), axes=(1, 2))

    def _check_boxes(self, y, boxes):
        name = "BilinearAttentionNetwork"
        if not self.counter:
            if boxes is not None:
                raise ValueError(
                    f"{name}: `boxes` are read by the counter only, which "
                    "is off (counter=False), got boxes of shape "
                    f"{tuple(boxes.shape)}."
                )
            return
        if boxes is None:
            raise ValueError(
                f"{name}(counter=True) needs the regions' `boxes` "
                "[batch, regions, 4], got boxes=None."
            )
        shape, y_shape = tuple(boxes.shape), tuple(y.shape)
        if len(shape) != 3 or not all(
            _common.compatible(a, b) for a, b in zip(shape, y_shape[:2] + (4,))
        ):
            raise ValueError(
                f"{name}: boxes must be [batch, regions, 4] = "
                f"{y_shape[:2] + (4,)} for y of shape {y_shape}, got boxes "
                f"of shape {shape}."
            )

    def _counts(self, logits, boxes, x_mask, y_mask):
        """The counter's c_g [B, n+1] from the logits [B, ρ, φ] of glimpse
        g: each box's largest logit over the valid tokens."""
        valid = y_mask
        logits = ops.cast(logits, _common.wide_dtype(logits.dtype))
        if x_mask is not None:
            logits = ops.where(
                ops.expand_dims(x_mask, -1), logits, _common._MASKED_LOGIT
            )
            any_token = ops.any(x_mask, axis=1, keepdims=True)  # [B, 1]
            valid = (
                any_token
                if valid is None
                else ops.logical_and(valid, any_token)
            )
        per_box = ops.max(logits, axis=1)  # [B, φ]
        return self.count_layer(boxes, per_box, box_mask=valid)

    def _glimpses_pass(self, x, y, x_mask, y_mask, boxes=None):
        """(joint, maps, [(σ(f_gᵀU'_g), A_g σ(YᵀV'_g)) of each glimpse])."""
        # x: [B, ρ, N]; y: [B, φ, M]; x_mask: [B, ρ]; y_mask: [B, φ];
        # boxes: [B, φ, 4].
        name = "BilinearAttentionNetwork"
        x_mask = _common.check_mask(name, "x_mask", x_mask, "x", x)
        y_mask = _common.check_mask(name, "y_mask", y_mask, "y", y)
        self._check_boxes(y, boxes)
        maps = self.attention(
            x, y, x_mask=x_mask, y_mask=y_mask
        )  # [B, G, ρ, φ]
        if self.counter:
            maps, logits = maps  # logits with h_g: [B, G, ρ, φ]
        g = self.glimpses
        # Per-glimpse pieces by unstacking, not indexing: the gradient of G
        # unstacked parts is one stack, where G slices t[i] would each
        # scatter into a zero tensor of t's full size, summed G times.
        maps_g = ops.unstack(maps, axis=1)  # G × [B, ρ, φ]
        logits_g = ops.unstack(logits, axis=1) if self.counter else None
        wg = {
            name: _unstack(wn.kernel(self, name, axes=(1, 2)))
            for name in _GLIMPSE_KERNELS[: 4 if self.counter else 3]
        }
        bias = {
            name: _glimpse_rows(getattr(self, name), g)
            for name in (
                "feature_x_bias",
                "feature_y_bias",
                "projection_bias",
                "count_bias",
            )
            if self.counter or name != "count_bias"
        }
        # σ(YᵀV'_g), one GEMM [B·φ, M] × [M, K] per glimpse: one GEMM
        # against the kernel transposed to [M, G·K] took 1.6× the time
        # forward and backward on TensorFlow's CPU matmul (docs/benchmarks.md
        # §3k).
        hy = [
            self.activation(
                _common.linear(
                    y, wg["feature_y_kernel"][i], bias["feature_y_bias"][i]
                )
            )
            for i in range(g)
        ]  # G × [B, φ, K]
        f, terms = x, []  # f_0: [B, ρ, N]
        for i in range(g):
            hx = self.activation(
                _common.linear(
                    f, wg["feature_x_kernel"][i], bias["feature_x_bias"][i]
                )
            )  # [B, ρ, K]
            a_hy = ops.matmul(maps_g[i], hy[i])  # A_g σ(YᵀV'_g): [B, ρ, K]
            terms.append((hx, a_hy))
            feature = ops.sum(hx * a_hy, axis=1)  # f'_g: [B, K]
            pooled = _common.sum_pool(feature, self.pool_size)  # [B, K/k]
            glimpse = _common.linear(
                pooled,
                wg["projection_kernel"][i],
                bias["projection_bias"][i],
            )  # [B, N]
            if self.counter:
                counts = self._counts(logits_g[i], boxes, x_mask, y_mask)
                glimpse = glimpse + self.activation(
                    _common.linear(
                        counts, wg["count_kernel"][i], bias["count_bias"][i]
                    )
                )  # + σ(Q_gᵀc_g + e_g)
            f = f + ops.expand_dims(glimpse, 1)  # f_{g+1}: [B, ρ, N]
        joint = _common.masked_sum(f, x_mask)  # [B, N]
        return joint, maps, terms

    def hadamard_terms(self, x, y, x_mask=None, y_mask=None, boxes=None):
        """The operands of the layer's Hadamard product(s), F = a ∘ b.

        Takes the arguments of `call` and returns, for each glimpse g,
        (σ(f_gᵀU'_g + b) [B, ρ, K], from the tokens x, and A_g σ(YᵀV'_g + b)
        [B, ρ, K], the attended regions y); the glimpse's joint feature f'_g
        sums their product over tokens. `mi_zoo.explain` uses them for Kim &
        Zhang's gradient explanations.
        """
        return self._glimpses_pass(x, y, x_mask, y_mask, boxes)[2]

    def call(self, x, y, x_mask=None, y_mask=None, boxes=None):
        joint, maps, _ = self._glimpses_pass(x, y, x_mask, y_mask, boxes)
        return joint, maps

    def compute_output_shape(self, x_shape, y_shape):
        n, _ = self._sizes(x_shape, y_shape)
        batch = _common.merge(x_shape[0], y_shape[0])
        maps = (batch, self.glimpses, x_shape[1], y_shape[1])
        return (batch, n), maps

    def get_config(self):
        return _common.config_with(
            super().get_config(),
            self,
            (
                "glimpses",
                "rank",
                "attention_rank",
                "pool_size",
                "counter",
                "counter_objects",
                "weight_norm",
            ),
        )


def _unstack(weight):
    """The G rows of a per-glimpse weight [G, ...], unstacked (a variable is
    read first: PyTorch's backend cannot unstack a Keras variable)."""
    return ops.unstack(ops.convert_to_tensor(weight), axis=0)


def _glimpse_rows(weight, glimpses):
    """The G rows of a per-glimpse bias [G, ...] (unstacked), or G Nones
    for a missing one (use_bias=False)."""
    return [None] * glimpses if weight is None else _unstack(weight)
