"""BLOCK: bilinear superdiagonal fusion (block-term decomposition)."""

import keras
from keras import ops

from mi_zoo.core import validation
from mi_zoo.fusion import _common
from mi_zoo.layers import base

NORMALIZATIONS = ("before_concat", "after_concat", None)


@keras.saving.register_keras_serializable(package="mi_zoo")
class Block(base.WeightedLayer):
    """BLOCK fusion: a block-superdiagonal (block-term) bilinear interaction.

    Ben-younes et al., "BLOCK: Bilinear Superdiagonal Fusion for Visual
    Question Answering and Visual Relationship Detection", AAAI 2019. The
    interaction tensor is a sum of C block terms: x and y are projected to
    d = `mm_dim` dimensions, split into C chunks of s = d / C, and chunk c of
    the fused vector depends only on chunk c of both projections, through a
    bilinear (Tucker) core whose slices have rank at most R (as in MUTAN):

        x̃ = W_xᵀx + b_x = [x̃_1; ...; x̃_C]                           ∈ R^d
        ỹ = W_yᵀy + b_y = [ỹ_1; ...; ỹ_C]                           ∈ R^d
        z_c = Σ_{r=1..R} (x̃_cᵀA_c^r + a_c^r) ∘ (ỹ_cᵀB_c^r + b_c^r)  ∈ R^s
        z = [n(z_1); ...; n(z_C)],  n(t) = L2(sign(t)·√|t|)         ∈ R^d
        out = activation(zᵀW_o + b_o)                               ∈ R^units

    `normalization="before_concat"` (the default, the authors' code) applies
    n to every chunk, "after_concat" once to z, None not at all. `dropout`
    applies to x̃ and ỹ (the authors' `dropout_input`; training only). In the
    paper's notation C is R (the number of blocks), s is L = M = N and W_x,
    W_y, W_o are A, B, C; the rank R of each block's core is the authors'
    `rank` option of their code.

    Defaults: d = 1600, C = 20 chunks, R = 15, the defaults of the authors'
    fusion library (block.bootstrap.pytorch; their VQA 2.0 configuration uses
    C = 18, which does not divide 1600 and is refused here: unequal chunks are
    not supported, `mm_dim` must be a multiple of `chunks`).

    Weights: `x_kernel` W_x [n, d], `y_kernel` W_y [m, d], `x_factor` [C, s,
    R·s] and `y_factor` [C, s, R·s] holding A_c^r, B_c^r in
    [c, :, r·s .. (r+1)·s − 1], `output_kernel` W_o [d, units], and the
    biases `x_bias`, `y_bias` [d], `x_factor_bias`, `y_factor_bias` [C, R·s],
    `output_bias` [units]. `count_params()` = (n + m + 2)·d
    + 2·C·(s + 1)·R·s + (d + 1)·units (without the bias terms if
    `use_bias=False`).

    Args:
      units: output size.
      mm_dim: d, the size of the projections and of the fused vector.
      chunks: C, the number of blocks; must divide `mm_dim`.
      rank: R, the rank of each block's core slices.
      normalization: "before_concat", "after_concat" or None.
      dropout: dropout rate on the projections x̃ and ỹ.
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
    >>> from mi_zoo.fusion import Block
    >>> question = keras.Input((32,)); regions = keras.Input((36, 64))
    >>> block = Block(10, mm_dim=40, chunks=4, rank=3)
    >>> keras.Model([question, regions], block(question, regions)).predict(
    ...     [np.ones((2, 32)), np.ones((2, 36, 64))], verbose=0).shape
    (2, 36, 10)
    """

    def __init__(
        self,
        units,
        mm_dim=1600,
        chunks=20,
        rank=15,
        normalization="before_concat",
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
        for name, value in (("units", units), ("mm_dim", mm_dim),
                            ("chunks", chunks), ("rank", rank)):
            validation.check_positive_int(name, value)
        if mm_dim % chunks:
            raise ValueError(
                f"`chunks` must divide `mm_dim` into equal chunks, got "
                f"mm_dim={mm_dim} and chunks={chunks} ({mm_dim} = "
                f"{chunks}·{mm_dim // chunks} + {mm_dim % chunks}).")
        validation.check_choice("normalization", normalization,
                                 NORMALIZATIONS)
        _common.check_rate("dropout", dropout)
        _common.check_dropout_seed(seed, dropout)
        self.units = units
        self.mm_dim = mm_dim
        self.chunks = chunks
        self.rank = rank
        self.normalization = normalization
        self.dropout = dropout
        self.seed = seed
        self.dropout_layer = _common.dropout_layer(
            dropout, self.dtype_policy, seed=seed)

    def _sizes(self, x_shape, y_shape):
        return _common.joint_shapes("Block", x_shape, y_shape)

    def build(self, x_shape, y_shape):
        n, m, _ = self._sizes(x_shape, y_shape)
        d, c, r = self.mm_dim, self.chunks, self.rank
        s = d // c
        self.x_kernel = self.add_kernel("x_kernel", (n, d))
        self.x_bias = self.add_bias("x_bias", (d,))
        self.y_kernel = self.add_kernel("y_kernel", (m, d))
        self.y_bias = self.add_bias("y_bias", (d,))
        self.x_factor = self.add_kernel("x_factor", (c, s, r * s))
        self.x_factor_bias = self.add_bias("x_factor_bias", (c, r * s))
        self.y_factor = self.add_kernel("y_factor", (c, s, r * s))
        self.y_factor_bias = self.add_bias("y_factor_bias", (c, r * s))
        self.output_kernel = self.add_kernel("output_kernel", (d, self.units))
        self.output_bias = self.add_bias("output_bias", (self.units,))

    def _project(self, t, kernel, bias, factor, factor_bias, training):
        """Projection and per-chunk factors: [B(,...), C, R·s]."""
        c, s = self.chunks, self.mm_dim // self.chunks
        lead = ops.shape(t)[:-1]
        t = _common.linear(t, kernel, bias)  # [B(,...), d]
        if self.dropout_layer is not None:
            t = self.dropout_layer(t, training=training)
        t = ops.reshape(t, (-1, c, s))  # [N, C, s]
        t = ops.einsum("ncs,csk->nck", t, factor)  # [N, C, R·s]
        if self.use_bias:
            t = t + factor_bias
        return ops.reshape(t, tuple(lead) + (c, self.rank * s))

    def call(self, x, y, training=None):
        # x: [B, ..., n]; y: [B, ..., m] (one of them may be [B, f]).
        c, r, s = self.chunks, self.rank, self.mm_dim // self.chunks
        px = self._project(x, self.x_kernel, self.x_bias, self.x_factor,
                           self.x_factor_bias, training)  # [B(,...), C, R·s]
        py = self._project(y, self.y_kernel, self.y_bias, self.y_factor,
                           self.y_factor_bias, training)  # [B(,...), C, R·s]
        px, py = _common.broadcast_pair(px, py)
        big = py if len(y.shape) > len(x.shape) else px
        lead = ops.shape(big)[:-2]  # [B, ...]
        z = ops.reshape(px * py, tuple(lead) + (c, r, s))  # [B, ..., C, R, s]
        z = ops.sum(z, axis=-2)  # [B, ..., C, s]: Σ_r per chunk
        if self.normalization == "before_concat":
            z = _common.normalize(z, True, True)  # per chunk
        z = ops.reshape(z, tuple(lead) + (self.mm_dim,))  # [B, ..., d]
        if self.normalization == "after_concat":
            z = _common.normalize(z, True, True)
        out = _common.linear(
            z, self.output_kernel, self.output_bias)  # [B, ..., units]
        return self.activation(out)

    def compute_output_shape(self, x_shape, y_shape):
        _, _, lead = self._sizes(x_shape, y_shape)
        return lead + (self.units,)

    def get_config(self):
        return _common.config_with(super().get_config(), self, (
            "units", "mm_dim", "chunks", "rank", "normalization", "dropout",
            "seed"))
