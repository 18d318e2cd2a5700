"""BLOCK: bilinear superdiagonal fusion (block-term decomposition), and
Block-Tucker (full Tucker blocks)."""

import keras
from keras import ops

from mi_zoo.core import validation
from mi_zoo.fusion import _common
from mi_zoo.layers import base

NORMALIZATIONS = ("before_concat", "after_concat", None)


class ChunkedFusion(base.WeightedLayer):
    """Base of the fusions that cut their projections into chunks.

    x and y are projected to d = `mm_dim` features (x̃ = W_xᵀx + b_x,
    ỹ = W_yᵀy + b_y, then `dropout`), both are cut into C = `chunks` chunks
    as `torch.chunk` cuts (`chunk_sizes`), chunk c of the fused vector z
    depends only on chunk c of x̃ and ỹ (`fuse_chunks`, the subclass's
    bilinear map), the chunks are normalised (`normalization`) and
    concatenated, and out = activation(zᵀW_o + b_o). Block (rank-R chunk
    cores), BlockTucker and Tucker (full chunk cores) are its subclasses;
    they create their chunk weights in `build_chunks`.

    The chunks are computed chunk-major: each projection is transposed once
    to [C_g, N, s_g] per group g of equal chunks (all chunks, or the C − 1
    full ones and the shorter last one), and only the fused [C_g, N, s_g]
    is transposed back.

    Args:
      units: output size.
      mm_dim: d, the size of the projections and of the fused vector.
      chunks: C, cut like `torch.chunk` (`chunk_sizes`).
      normalization: "before_concat" (signed square root and L2 norm of
        each chunk), "after_concat" (of z) or None.
      dropout: dropout rate on the projections x̃ and ỹ.
      seed: seed of the dropout (None for a random one).
      use_bias: whether every projection has a bias.
      activation: activation of the output.
      **kwargs: `base.WeightedLayer` arguments.
    """

    def __init__(
        self,
        units,
        mm_dim,
        chunks,
        normalization,
        dropout,
        seed,
        use_bias,
        activation,
        **kwargs,
    ):
        super().__init__(
            use_bias=use_bias,
            activation=activation,
            **kwargs,
        )
        units, mm_dim, chunks = validation.check_positive_ints(
            units=units, mm_dim=mm_dim, chunks=chunks
        )
        sizes = chunk_sizes(mm_dim, chunks)
        validation.check_choice("normalization", normalization, NORMALIZATIONS)
        self.units = units
        self.mm_dim = mm_dim
        self.chunks = chunks
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
        return _common.joint_shapes(type(self).__name__, x_shape, y_shape)

    def build(self, x_shape, y_shape):
        n, m, _ = self._sizes(x_shape, y_shape)
        d = self.mm_dim
        self.x_kernel = self.add_kernel("x_kernel", (n, d))
        self.x_bias = self.add_bias("x_bias", (d,))
        self.y_kernel = self.add_kernel("y_kernel", (m, d))
        self.y_bias = self.add_bias("y_bias", (d,))
        self.build_chunks()
        self.output_kernel = self.add_kernel("output_kernel", (d, self.units))
        self.output_bias = self.add_bias("output_bias", (self.units,))

    def build_chunks(self):
        """Creates the weights of the chunks' bilinear maps."""
        raise NotImplementedError

    def fuse_chunks(self, px, py, x_shape, y_shape):
        """The fused chunks: px, py hold one chunk-major projection
        [C_g, N_x, s_g], [C_g, N_y, s_g] per group of equal chunks, of
        inputs of static shapes x_shape, y_shape; returns one [C_g, N, s_g]
        per group, N the rows of the higher-rank input."""
        raise NotImplementedError

    def group_names(self, prefix, name):
        """The names of a chunk weight, one per group of equal chunks:
        prefix + name, and prefix + "last_" + name for a shorter last
        chunk."""
        return [prefix + name, prefix + "last_" + name][: len(self._groups)]

    def project(self, t, kernel, bias, training):
        """t [B, ..., f] -> one chunk-major [C_g, N, s_g] per group g of
        equal chunks: the projection x̃ (after dropout), N rows."""
        t = _common.linear(t, kernel, bias)  # [B, ..., d]
        if self.dropout_layer is not None:
            t = self.dropout_layer(t, training=training)
        t = ops.reshape(t, (-1, self.mm_dim))  # [N, d]
        out, start = [], 0
        for count, s in self._groups:
            stop = start + count * s
            part = t if len(self._groups) == 1 else t[:, start:stop]
            start = stop
            out.append(
                ops.transpose(ops.reshape(part, (-1, count, s)), (1, 0, 2))
            )
        return out

    def call(self, x, y, training=None):
        # x: [B, ..., n]; y: [B, ..., m] (one of them may be [B, f]).
        px = self.project(x, self.x_kernel, self.x_bias, training)
        py = self.project(y, self.y_kernel, self.y_bias, training)
        big = y if len(y.shape) > len(x.shape) else x
        lead = tuple(ops.shape(big)[:-1])  # [B, ...]
        zs = []
        for z in self.fuse_chunks(px, py, tuple(x.shape), tuple(y.shape)):
            if self.normalization == "before_concat":
                z = _common.normalize(z, True, True)  # per chunk
            # Only the small result leaves chunk-major: [N, C_g·s].
            count, s = z.shape[0], z.shape[-1]
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
                "normalization",
                "dropout",
                "seed",
            ),
        )


@keras.saving.register_keras_serializable(package="mi_zoo")
class Block(ChunkedFusion):
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

    When one input is broadcast over P rows of the other (a question [B, n]
    against regions [B, P, m]) and P·R > P + R, the question's factors are
    folded into the regions' chunk kernels first, one [s, s] matrix per
    question and chunk (Σ_r a_c^r[o]·B_c^r[j, o]), which each region row
    then multiplies (`_common.broadcast_rank_sum`): the same z summed in
    another order, with B·s·R·d + N·s·d multiply-adds instead of the
    regions' factors' N·s·R·d (at the paper's VQA v2 sizes the training
    step fell from 537 to 335 ms; docs/benchmarks.md §3i).

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
            units,
            mm_dim=mm_dim,
            chunks=chunks,
            normalization=normalization,
            dropout=dropout,
            seed=seed,
            use_bias=use_bias,
            activation=activation,
            **kwargs,
        )
        self.rank = validation.check_positive_int("rank", rank)

    def build_chunks(self):
        r = self.rank
        for side in ("x", "y"):
            for name, (count, s) in zip(
                self.group_names(f"{side}_", "factor"), self._groups
            ):
                setattr(self, name, self.add_kernel(name, (count, s, r * s)))
                setattr(
                    self,
                    f"{name}_bias",
                    self.add_bias(f"{name}_bias", (count, r * s)),
                )

    def _factors(self, parts, side):
        """The per-chunk factors of one input, chunk-major.

        parts: one chunk-major projection [C_g, N, s_g] per group g of equal
        chunks (`ChunkedFusion.project`). Returns one [C_g, N, R·s_g] per
        group: the group's factors in one batched matmul, whose result and
        gradients stay chunk-major.
        """
        out = []
        names = self.group_names(f"{side}_", "factor")
        for part, name in zip(parts, names):
            part = ops.matmul(part, getattr(self, name))  # [C_g, N, R·s_g]
            if self.use_bias:
                bias = getattr(self, f"{name}_bias")  # [C_g, R·s_g]
                part = part + ops.expand_dims(bias, 1)
            out.append(part)
        return out

    def fuse_chunks(self, px, py, x_shape, y_shape):
        x_rank, y_rank = len(x_shape), len(y_shape)
        rows = _common.broadcast_rows(x_shape, y_shape)
        if _common.factor_first_pays(rows, self.rank):
            return self._fuse_small_first(px, py, rows, x_rank < y_rank)
        # Chunk-major [C_g, B, ..., R·s]: the lower-rank input broadcasts
        # over the other's middle axes (after C_g and B).
        zs = []
        pxs, pys = self._factors(px, "x"), self._factors(py, "y")
        for (count, s), fx, fy in zip(self._groups, pxs, pys):
            fx, fy = _broadcast_chunk_major(fx, fy, x_rank, y_rank)
            z = ops.reshape(fx * fy, (count, -1, self.rank, s))
            zs.append(ops.sum(z, axis=2))  # [C_g, N, s]: Σ_r per chunk
        return zs

    def _fuse_small_first(self, px, py, rows, x_is_small):
        """`fuse_chunks` when one input ([B, f]) is broadcast over `rows`
        rows of the other: per group, `_common.broadcast_rank_sum` folds
        the small side's factors into the big side's chunk kernels first
        (same chunks, fewer multiply-adds)."""
        sides = (px, "x"), (py, "y")
        (small, small_side), (big, side) = sides if x_is_small else sides[::-1]
        zs = []
        for (count, s), a, part, name in zip(
            self._groups,
            self._factors(small, small_side),  # [C_g, B, R·s] each
            big,  # [C_g, N, s] each
            self.group_names(f"{side}_", "factor"),
        ):
            z = _common.broadcast_rank_sum(
                a,
                ops.reshape(part, (count, -1, rows, s)),  # [C_g, B, P, s]
                getattr(self, name),  # [C_g, s, R·s]
                getattr(self, f"{name}_bias"),  # [C_g, R·s] or None
                self.rank,
            )  # [C_g, B, P, s]
            zs.append(ops.reshape(z, (count, -1, s)))
        return zs

    def get_config(self):
        config = super().get_config()
        config["rank"] = self.rank
        return config


def _broadcast_chunk_major(a, b, a_rank, b_rank):
    """Chunk-major a [C, N_a, f] and b [C, N_b, f] of inputs of ranks a_rank
    and b_rank ([B, ..., features]): the lower-rank one ([B, f]) gets
    singleton middle axes, so that a * b broadcasts; [C, B, ..., f] each."""
    if a_rank == b_rank:
        return a, b
    count, f = a.shape[0], a.shape[-1]
    if a_rank < b_rank:
        b = ops.reshape(b, (count, ops.shape(a)[1], -1, f))
        return ops.expand_dims(a, 2), b
    a = ops.reshape(a, (count, ops.shape(b)[1], -1, f))
    return a, ops.expand_dims(b, 2)


@keras.saving.register_keras_serializable(package="mi_zoo")
class BlockTucker(ChunkedFusion):
    """BLOCK with full Tucker blocks: a block-superdiagonal Tucker core.

    Ben-younes et al., "BLOCK: Bilinear Superdiagonal Fusion for Visual
    Question Answering and Visual Relationship Detection", AAAI 2019, §4
    (the "Block-Tucker" row of the fusion comparison): as BLOCK, x and y are
    projected to d = `mm_dim` features and cut into C chunks, and chunk c
    of the fused vector depends only on chunk c of both projections, but
    through a full Tucker core T_c ∈ R^{s_c×s_c×s_c} (no rank constraint):

        x̃ = W_xᵀx + b_x = [x̃_1; ...; x̃_C]                        ∈ R^d
        ỹ = W_yᵀy + b_y = [ỹ_1; ...; ỹ_C]                        ∈ R^d
        z_c[k] = Σ_{i,j} x̃_c[i]·T_c[i, j, k]·ỹ_c[j] + t_c[k]     ∈ R^s_c
        z = [n(z_1); ...; n(z_C)],  n(t) = L2(sign(t)·√|t|)      ∈ R^d
        out = activation(zᵀW_o + b_o)                            ∈ R^units

    block.bootstrap.pytorch's `BlockTucker` given the same weights: its
    `linear0`, `linear1`, `linear_out` are W_x, W_y, W_o (transposed), and
    the `nn.Bilinear` of chunk c (weight [k, i, j]) is `core[c]` [i, j, k]
    (weight.permute(1, 2, 0)) with bias `core_bias[c]`. Its `pos_norm`
    'before_cat' / 'after_cat' is `normalization` (None here also allows
    none), its `dropout_input` is `dropout`; its `dropout_pre_lin`,
    `dropout_output` and `shared` have no equivalent here. Defaults as
    there: d = 1600 and C = 20 chunks of 80; block's VQA 2.0 configuration
    (options/vqa2/block_tucker.yaml) uses d = 1800, C = 10.

    Each chunk contracts the lower-rank input (the question [B, n] against
    regions [B, S, m]) with its core first, [N, s·s] per chunk, then the
    other input with that: N·Σ_c s_c² floats of intermediate result, N the
    rows of the lower-rank input (B when one input broadcasts).

    Weights: `x_kernel` W_x [n, d], `y_kernel` W_y [m, d], `core` [C, s, s,
    s] and `core_bias` [C, s] holding T_c and t_c, `output_kernel` W_o
    [d, units], and the biases `x_bias`, `y_bias` [d], `output_bias`
    [units]. When the last chunk is shorter (s_C < s), `core` holds the
    C − 1 full chunks and `last_core` [1, s_C, s_C, s_C] with `last_core_bias`
    [1, s_C] the last. `count_params()` = (n + m + 2)·d + Σ_c (s_c² + 1)·s_c
    + (d + 1)·units (without the bias terms if `use_bias=False`).

    Args:
      units: output size (block's `output_dim`).
      mm_dim: d, the size of the projections and of the fused vector.
      chunks: C, the number of blocks, cut like `torch.chunk` (see
        `chunk_sizes`).
      normalization: "before_concat", "after_concat" or None.
      dropout: dropout rate on the projections x̃ and ỹ.
      seed: seed of the dropout (None for a random one).
      use_bias: whether every projection (and every core) has a bias.
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
    >>> from mi_zoo.fusion import BlockTucker
    >>> question = keras.Input((32,)); regions = keras.Input((36, 64))
    >>> fusion = BlockTucker(10, mm_dim=40, chunks=4)
    >>> keras.Model([question, regions], fusion(question, regions)).predict(
    ...     [np.ones((2, 32)), np.ones((2, 36, 64))], verbose=0).shape
    (2, 36, 10)
    """

    def __init__(
        self,
        units,
        mm_dim=1600,
        chunks=20,
        normalization="before_concat",
        dropout=0.0,
        seed=None,
        use_bias=True,
        activation=None,
        **kwargs,
    ):
        super().__init__(
            units,
            mm_dim=mm_dim,
            chunks=chunks,
            normalization=normalization,
            dropout=dropout,
            seed=seed,
            use_bias=use_bias,
            activation=activation,
            **kwargs,
        )

    def build_chunks(self):
        for name, (count, s) in zip(
            self.group_names("", "core"), self._groups
        ):
            setattr(self, name, self.add_kernel(name, (count, s, s, s)))
            setattr(
                self,
                f"{name}_bias",
                self.add_bias(f"{name}_bias", (count, s)),
            )

    def fuse_chunks(self, px, py, x_shape, y_shape):
        return [
            tucker_chunks(
                a,
                b,
                getattr(self, name),
                getattr(self, f"{name}_bias"),
                len(x_shape),
                len(y_shape),
            )
            for a, b, name in zip(px, py, self.group_names("", "core"))
        ]


def tucker_chunks(a, b, core, bias, a_rank, b_rank):
    """z_c[k] = Σ_{i,j} a_c[i]·core_c[i, j, k]·b_c[j] (+ bias_c[k]).

    Args:
      a, b: chunk-major projections [C, N_a, s], [C, N_b, s] of inputs of
        ranks a_rank and b_rank; the lower-rank input ([B, f]) has B rows
        and broadcasts over the other's middle axes.
      core: [C, s, s, s], indexed [c, i (a), j (b), k (output)].
      bias: [C, s] or None.

    Returns:
      [C, N, s], N the rows of the higher-rank input. The lower-rank input
      is contracted with the core first ([C, N_a, s·s]).
    """
    count, s_i, s_j, s_k = core.shape
    if b_rank < a_rank:  # contract the lower-rank input first
        a, b = b, a
        a_rank, b_rank = b_rank, a_rank
        core = ops.transpose(core, (0, 2, 1, 3))
    if a_rank == b_rank:
        b = ops.expand_dims(b, 2)  # [C, N, 1, s]
    else:
        b = ops.reshape(b, (count, ops.shape(a)[1], -1, s_j))  # [C, B, P, s]
    t = ops.matmul(a, ops.reshape(core, (count, s_i, s_j * s_k)))
    t = ops.reshape(t, (count, -1, s_j, s_k))  # [C, N_a, s_j, s_k]
    z = ops.reshape(ops.matmul(b, t), (count, -1, s_k))  # [C, N, s_k]
    return z if bias is None else z + ops.expand_dims(bias, 1)


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
