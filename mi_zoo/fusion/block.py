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
    d = `mm_dim` dimensions, split into C chunks of s_c features, and chunk c of
    the fused vector depends only on chunk c of both projections, through a
    bilinear (Tucker) core whose slices have rank at most R (as in MUTAN):

        x̃ = W_xᵀx + b_x = [x̃_1; ...; x̃_C]                           ∈ R^d
        ỹ = W_yᵀy + b_y = [ỹ_1; ...; ỹ_C]                           ∈ R^d
        z_c = Σ_{r=1..R} (x̃_cᵀA_c^r + a_c^r) ∘ (ỹ_cᵀB_c^r + b_c^r)  ∈ R^s_c
        z = [n(z_1); ...; n(z_C)],  n(t) = L2(sign(t)·√|t|)         ∈ R^d
        out = activation(zᵀW_o + b_o)                               ∈ R^units

    `normalization="before_concat"` (the default, the authors' code) applies
    n to every chunk, "after_concat" once to z, None not at all. `dropout`
    applies to x̃ and ỹ (the authors' `dropout_input`; training only). In the
    paper's notation C is R (the number of blocks), s_c is L = M = N and W_x,
    W_y, W_o are A, B, C; the rank R of each block's core is the authors'
    `rank` option of their code.

    The chunks are cut as `torch.chunk` cuts (`chunk_sizes`): s = ⌈d / C⌉
    features each but the last, which has the rest. Defaults: d = 1600,
    C = 20 chunks of 80, R = 15, the defaults of the authors' fusion library
    (block.bootstrap.pytorch); their VQA 2.0 configuration uses C = 18:
    17 chunks of 89 and one of 87.

    The layer computes in chunk-major layout: each projection is transposed
    to [C, N, s] (N rows), the factors of all chunks of one size are one
    batched matmul [C, N, s] × [C, s, R·s], the product and the sum over r
    stay chunk-major, and only the fused [C, N, s] is transposed back. At
    the paper's VQA v2 sizes the einsum over [N, C, s] that this replaces
    took 2.3–2.5× the merge's time and 1.3× the layer's, forward+backward
    (docs/benchmarks.md, `python -m benchmarks.fusion_merges`).

    Weights: `x_kernel` W_x [n, d], `y_kernel` W_y [m, d], `x_factor` [C, s,
    R·s] and `y_factor` [C, s, R·s] holding A_c^r, B_c^r in
    [c, :, r·s .. (r+1)·s − 1], `output_kernel` W_o [d, units], and the
    biases `x_bias`, `y_bias` [d], `x_factor_bias`, `y_factor_bias` [C, R·s],
    `output_bias` [units]. When the last chunk is shorter (s_C < s), the
    factors hold the C − 1 full chunks ([C − 1, s, R·s]) and
    `x_last_factor`, `y_last_factor` [1, s_C, R·s_C] with their biases
    `x_last_factor_bias`, `y_last_factor_bias` [1, R·s_C] hold the last.
    `count_params()` = (n + m + 2)·d + 2·Σ_c (s_c + 1)·R·s_c
    + (d + 1)·units (without the bias terms if `use_bias=False`).

    Args:
      units: output size.
      mm_dim: d, the size of the projections and of the fused vector.
      chunks: C, the number of blocks, at most `mm_dim`; cut like
        `torch.chunk` (see `chunk_sizes`: C chunks of ⌈d / C⌉ must leave a
        positive last chunk).
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
        units, mm_dim, chunks, rank = (
            validation.check_positive_int(name, value)
            for name, value in (
                ("units", units),
                ("mm_dim", mm_dim),
                ("chunks", chunks),
                ("rank", rank),
            )
        )
        sizes = chunk_sizes(mm_dim, chunks)
        validation.check_choice("normalization", normalization, NORMALIZATIONS)
        self.units = units
        self.mm_dim = mm_dim
        self.chunks = chunks
        self.rank = rank
        self.normalization = normalization
        self.dropout = dropout
        self.seed = seed
        # (count, size) of the runs of equal chunks: one, or the C − 1 full
        # chunks and the shorter last one.
        self._groups = [
            (sizes.count(size), size)
            for size in sorted(set(sizes), reverse=True)
        ]
        self.dropout_layer = _common.dropout_layer(
            dropout, self.dtype_policy, seed=seed
        )

    def _sizes(self, x_shape, y_shape):
        return _common.joint_shapes("Block", x_shape, y_shape)

    def build(self, x_shape, y_shape):
        n, m, _ = self._sizes(x_shape, y_shape)
        d, r = self.mm_dim, self.rank
        self.x_kernel = self.add_kernel("x_kernel", (n, d))
        self.x_bias = self.add_bias("x_bias", (d,))
        self.y_kernel = self.add_kernel("y_kernel", (m, d))
        self.y_bias = self.add_bias("y_bias", (d,))
        for side in ("x", "y"):
            for name, (count, s) in zip(
                self._factor_names(side), self._groups
            ):
                setattr(self, name, self.add_kernel(name, (count, s, r * s)))
                setattr(
                    self,
                    f"{name}_bias",
                    self.add_bias(f"{name}_bias", (count, r * s)),
                )
        self.output_kernel = self.add_kernel("output_kernel", (d, self.units))
        self.output_bias = self.add_bias("output_bias", (self.units,))

    def _factor_names(self, side):
        """The names of `side`'s factor kernels, one per group of chunks."""
        return [f"{side}_factor", f"{side}_last_factor"][: len(self._groups)]

    def _project(self, t, kernel, bias, side, training):
        """The per-chunk factors of one input, chunk-major.

        t: [B, ..., f]. Returns one [C_g, B, ..., R·s_g] per group g of
        equal chunks: the projection x̃ is transposed to chunk-major
        [C_g, N, s_g] (N rows) and multiplied by the group's factors in one
        batched matmul, whose result and gradients stay chunk-major.
        """
        lead = tuple(ops.shape(t)[:-1])
        t = _common.linear(t, kernel, bias)  # [B, ..., d]
        if self.dropout_layer is not None:
            t = self.dropout_layer(t, training=training)
        t = ops.reshape(t, (-1, self.mm_dim))  # [N, d]
        out, start = [], 0
        for (count, s), name in zip(self._groups, self._factor_names(side)):
            stop = start + count * s
            part = t if len(self._groups) == 1 else t[:, start:stop]
            start = stop
            part = ops.transpose(ops.reshape(part, (-1, count, s)), (1, 0, 2))
            part = ops.matmul(part, getattr(self, name))  # [C_g, N, R·s_g]
            if self.use_bias:
                bias = getattr(self, f"{name}_bias")  # [C_g, R·s_g]
                part = part + ops.expand_dims(bias, 1)
            out.append(ops.reshape(part, (count,) + lead + (self.rank * s,)))
        return out

    def call(self, x, y, training=None):
        # x: [B, ..., n]; y: [B, ..., m] (one of them may be [B, f]).
        pxs = self._project(
            x, self.x_kernel, self.x_bias, "x", training
        )  # [C_g, B(, ...), R·s_g] per group
        pys = self._project(y, self.y_kernel, self.y_bias, "y", training)
        big = y if len(y.shape) > len(x.shape) else x
        lead = tuple(ops.shape(big)[:-1])  # [B, ...]
        zs = []
        for (count, s), px, py in zip(self._groups, pxs, pys):
            # Chunk-major [C_g, B, ..., R·s]: the lower-rank input broadcasts
            # over the other's middle axes (after C_g and B).
            for _ in range(len(py.shape) - len(px.shape)):
                px = ops.expand_dims(px, 2)
            for _ in range(len(px.shape) - len(py.shape)):
                py = ops.expand_dims(py, 2)
            z = ops.reshape(px * py, (count, -1, self.rank, s))
            z = ops.sum(z, axis=2)  # [C_g, N, s]: Σ_r per chunk
            if self.normalization == "before_concat":
                z = _common.normalize(z, True, True)  # per chunk
            # Only the small result leaves chunk-major: [N, C_g·s].
            zs.append(
                ops.reshape(ops.transpose(z, (1, 0, 2)), (-1, count * s))
            )
        z = zs[0] if len(zs) == 1 else ops.concatenate(zs, axis=-1)
        z = ops.reshape(z, lead + (self.mm_dim,))  # [B, ..., d]
        if self.normalization == "after_concat":
            z = _common.normalize(z, True, True)
        out = _common.linear(
            z, self.output_kernel, self.output_bias
        )  # [B, ..., units]
        return self.activation(out)

    def compute_output_shape(self, x_shape, y_shape):
        _, _, lead = self._sizes(x_shape, y_shape)
        return lead + (self.units,)

    def get_config(self):
        return _common.config_with(
            super().get_config(),
            self,
            (
                "units",
                "mm_dim",
                "chunks",
                "rank",
                "normalization",
                "dropout",
                "seed",
            ),
        )


def chunk_sizes(dim, chunks):
    """The sizes of `chunks` pieces of `dim` features, as `torch.chunk` cuts.

    Every chunk has ceil(dim / chunks) features but the last, which has the
    rest (block.bootstrap.pytorch's `get_sizes_list` gives the same sizes
    whenever that rest is positive). `chunk_sizes(1600, 18)` is 17 chunks of
    89 and one of 87; `chunk_sizes(1600, 20)` is 20 chunks of 80.

    Args:
      dim: the number of features, a positive int.
      chunks: the number of chunks, a positive int.

    Returns:
      A list of `chunks` positive ints summing to `dim`.

    Raises:
      ValueError: when `chunks` exceeds `dim`, or when chunks of
        ceil(dim / chunks) features leave nothing for the last one (torch.chunk
        would return fewer than `chunks` pieces; dim = 10, chunks = 6).

    >>> chunk_sizes(10, 4)
    [3, 3, 3, 1]
    """
    if chunks > dim:
        raise ValueError(
            f"`chunks` must be at most `mm_dim` (each chunk needs a feature), "
            f"got mm_dim={dim} and chunks={chunks}."
        )
    size = -(-dim // chunks)
    last = dim - size * (chunks - 1)
    if last <= 0:
        raise ValueError(
            f"`mm_dim` must leave a last chunk when cut like torch.chunk, in "
            f"chunks of ceil(mm_dim / chunks) = {size} features: "
            f"{chunks - 1} of them already take {size * (chunks - 1)} >= "
            f"mm_dim features; got mm_dim={dim} and chunks={chunks}."
        )
    return [size] * (chunks - 1) + [last]
