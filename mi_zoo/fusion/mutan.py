"""MUTAN: multimodal Tucker fusion with a rank-constrained core."""

import keras
from keras import ops

from mi_zoo.core import validation
from mi_zoo.fusion import _common
from mi_zoo.layers import base


@keras.saving.register_keras_serializable(package="mi_zoo")
class Mutan(base.WeightedLayer):
    """MUTAN fusion: a Tucker decomposition whose core slices have rank R.

    Ben-younes et al., "MUTAN: Multimodal Tucker Fusion for Visual Question
    Answering", ICCV 2017. The bilinear interaction tensor is Tucker
    decomposed, τ = ((τ_c ×₁ W_q) ×₂ W_v) ×₃ W_o, and every slice
    τ_c[:, :, k] = Σ_r m_r^k ⊗ n_r^k of the core τ_c ∈ R^{t_q×t_v×t_o} has
    rank at most R, which gives

        q̃ = f(W_qᵀx + b_q) ∈ R^{t_q},   ṽ = f(W_vᵀy + b_v) ∈ R^{t_v}
        z = Σ_{r=1..R} (q̃ᵀM_r + b_r) ∘ (ṽᵀN_r + c_r)       ∈ R^{t_o}
        out = activation(zᵀW_o + b_o)                          ∈ R^{units}

    with f = tanh (the paper's choice, `input_activation`). The biases b_r, c_r
    of the rank-one factors and b_q, b_v, b_o follow the authors' code
    (fully-connected layers); `use_bias=False` gives the paper's formula.
    `normalize=True` applies sign(z)·√|z| and L2 normalisation to z, as the
    option of the authors' later fusion library (off by default, as there).
    `dropout` applies to q̃ and ṽ (training only).

    When one input is broadcast over P rows of the other (a question [B, n]
    against regions [B, P, m]) and P·R > P + R, the question's factors are
    folded into the regions' factor kernel first, one [t_v, t_o] matrix per
    question, W'[j, k] = Σ_r (q̃ᵀM_r + b_r)[k]·N_r[j, k], which each region
    row then multiplies (`_common.broadcast_rank_sum`): the same z summed in
    another order, with B·t_v·R·t_o + N·t_v·t_o multiply-adds (N = B·P)
    instead of the regions' factors' N·t_v·R·t_o (at the paper's VQA v2
    attention sizes the training step fell from 147 to 106 ms;
    docs/benchmarks.md §3i).

    Default sizes: t_q = t_v = t_o = 360 and R = 10, the authors' released
    configuration of the MUTAN fusion without attention (vqa.pytorch,
    options/vqa/mutan_noatt_train.yaml); their attention model uses
    t_q = t_v = 310, t_o = 510 and R = 5 (options/vqa/mutan_att_trainval.yaml).

    Weights: `x_kernel` W_q [n, t_q], `y_kernel` W_v [m, t_v], `x_factor`
    [t_q, R·t_o] and `y_factor` [t_v, R·t_o] holding M_r and N_r in columns
    r·t_o .. (r+1)·t_o − 1, `output_kernel` W_o [t_o, units], and the biases
    `x_bias`, `y_bias`, `x_factor_bias`, `y_factor_bias`, `output_bias`.
    `count_params()` = (n + 1)·t_q + (m + 1)·t_v + (t_q + t_v + 2)·R·t_o
    + (t_o + 1)·units (no +1 / +2 terms without biases).

    Args:
      units: output size (|A|, the number of answers, in the paper).
      rank: R, the rank of each core slice.
      mm_dim: t_o, the size of the fused vector z.
      x_hidden: t_q, the size of the projection q̃ of x.
      y_hidden: t_v, the size of the projection ṽ of y.
      input_activation: f applied to the input projections ("tanh").
      normalize: whether to apply signed square root and L2 normalisation
        to z.
      dropout: dropout rate on q̃ and ṽ.
      seed: seed of the dropout (None for a random one).
      use_bias: whether every projection has a bias.
      activation: activation of the output.
      kernel_initializer, bias_initializer, kernel_regularizer,
      bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: for all kernels and biases.
      **kwargs: base `keras.layers.Layer` arguments.

    Input shapes:
      x: [B, ..., n] and y: [B, ..., m] with the same leading axes, or one of
      them [B, f] (broadcast over the other's middle axes, e.g. a question
      [B, n] against image regions [B, S, m]).

    Output shape:
      [B, ..., units].

    Example:

    >>> import numpy as np, keras
    >>> from mi_zoo.fusion import Mutan
    >>> question = keras.Input((32,)); image = keras.Input((64,))
    >>> answers = Mutan(10, rank=5, mm_dim=48, x_hidden=24, y_hidden=24)
    >>> keras.Model([question, image], answers(question, image)).predict(
    ...     [np.ones((2, 32)), np.ones((2, 64))], verbose=0).shape
    (2, 10)
    """

    def __init__(
        self,
        units,
        rank=10,
        mm_dim=360,
        x_hidden=360,
        y_hidden=360,
        input_activation="tanh",
        normalize=False,
        dropout=0.0,
        seed=None,
        use_bias=True,
        activation=None,
        **kwargs,
    ):
        super().__init__(
            use_bias=use_bias,
            activation=activation,
            **kwargs,
        )
        # Plain Python ints (NumPy integers accepted).
        units, rank, mm_dim, x_hidden, y_hidden = (
            validation.check_positive_ints(
                units=units,
                rank=rank,
                mm_dim=mm_dim,
                x_hidden=x_hidden,
                y_hidden=y_hidden,
            )
        )
        _common.check_bool("normalize", normalize)
        self.units = units
        self.rank = rank
        self.mm_dim = mm_dim
        self.x_hidden = x_hidden
        self.y_hidden = y_hidden
        self.input_activation = keras.activations.get(input_activation)
        self.normalize = normalize
        self.dropout = dropout
        self.seed = seed
        self.dropout_layer = _common.dropout_layer(
            dropout, self.dtype_policy, seed=seed
        )

    def _sizes(self, x_shape, y_shape):
        return _common.joint_shapes("Mutan", x_shape, y_shape)

    def build(self, x_shape, y_shape):
        n, m, _ = self._sizes(x_shape, y_shape)
        width = self.rank * self.mm_dim
        self.x_kernel = self.add_kernel("x_kernel", (n, self.x_hidden))
        self.x_bias = self.add_bias("x_bias", (self.x_hidden,))
        self.y_kernel = self.add_kernel("y_kernel", (m, self.y_hidden))
        self.y_bias = self.add_bias("y_bias", (self.y_hidden,))
        self.x_factor = self.add_kernel("x_factor", (self.x_hidden, width))
        self.x_factor_bias = self.add_bias("x_factor_bias", (width,))
        self.y_factor = self.add_kernel("y_factor", (self.y_hidden, width))
        self.y_factor_bias = self.add_bias("y_factor_bias", (width,))
        self.output_kernel = self.add_kernel(
            "output_kernel", (self.mm_dim, self.units)
        )
        self.output_bias = self.add_bias("output_bias", (self.units,))

    def call(self, x, y, training=None):
        # x: [B, ..., n]; y: [B, ..., m] (one of them may be [B, f]).
        q = self.input_activation(
            _common.linear(x, self.x_kernel, self.x_bias)
        )  # [B(,...), t_q]
        v = self.input_activation(
            _common.linear(y, self.y_kernel, self.y_bias)
        )  # [B(,...), t_v]
        if self.dropout_layer is not None:
            q = self.dropout_layer(q, training=training)
            v = self.dropout_layer(v, training=training)
        rows = _common.broadcast_rows(x.shape, y.shape)
        if _common.factor_first_pays(rows, self.rank):
            z = self._merge_small_first(
                q, v, rows, len(x.shape) < len(y.shape)
            )
        else:
            q = _common.linear(q, self.x_factor, self.x_factor_bias)
            v = _common.linear(v, self.y_factor, self.y_factor_bias)
            q, v = _common.broadcast_pair(q, v)  # [.., R·t_o] each
            big = v if len(y.shape) > len(x.shape) else q
            lead = ops.shape(big)[:-1]  # [B, ...]
            z = ops.reshape(q * v, tuple(lead) + (self.rank, self.mm_dim))
            z = ops.sum(z, axis=-2)  # [B, ..., t_o]: Σ_r z_r
        z = _common.normalize(z, self.normalize, self.normalize)
        out = _common.linear(z, self.output_kernel, self.output_bias)
        return self.activation(out)  # [B, ..., units]

    def _merge_small_first(self, q, v, rows, x_is_small):
        """z = Σ_r z_r when one input ([B, f]) is broadcast over `rows`
        rows of the other: `_common.broadcast_rank_sum`, which folds the
        small side's factors into the big side's kernel first (same z,
        fewer multiply-adds)."""
        sides = (q, "x"), (v, "y")
        (small, small_side), (big, side) = sides if x_is_small else sides[::-1]
        small = _common.linear(
            small,
            getattr(self, f"{small_side}_factor"),
            getattr(self, f"{small_side}_factor_bias"),
        )  # [B, R·t_o]
        kernel = getattr(self, f"{side}_factor")  # [t, R·t_o]
        bias = getattr(self, f"{side}_factor_bias")
        lead = tuple(ops.shape(big)[:-1])  # [B, ...]
        z = _common.broadcast_rank_sum(
            ops.expand_dims(small, 0),  # [1, B, R·t_o]
            ops.reshape(big, (1, -1, rows, big.shape[-1])),  # [1, B, P, t]
            ops.expand_dims(kernel, 0),
            None if bias is None else ops.expand_dims(bias, 0),
            self.rank,
        )  # [1, B, P, t_o]
        return ops.reshape(z, lead + (self.mm_dim,))

    def compute_output_shape(self, x_shape, y_shape):
        _, _, lead = self._sizes(x_shape, y_shape)
        return lead + (self.units,)

    def get_config(self):
        config = _common.config_with(
            super().get_config(),
            self,
            (
                "units",
                "rank",
                "mm_dim",
                "x_hidden",
                "y_hidden",
                "input_activation",
                "normalize",
                "dropout",
                "seed",
            ),
        )
        config["input_activation"] = keras.activations.serialize(
            self.input_activation
        )
        return config
