"""PyTorch fusions written from the papers' equations, for side-by-side timing.

`benchmarks/fusion_comparison.py` times each fusion of `mi_zoo.fusion`
against one of these modules on the same inputs with the same weights
(`load_keras(layer)` copies a built mi_zoo layer's weights). They are laid
out as the reference libraries lay theirs out — one `nn.Linear` per
projection, `torch.chunk` for BLOCK's chunks, one `nn.Bilinear` per Tucker
core, an FFT of count sketches for MCB, per-glimpse linear maps for BAN —
but are the project's own code, written from the equations:

  Mlb          Kim et al., ICLR 2017: tanh(W_xᵀx + b) ∘ tanh(W_yᵀy + b).
  Mfb          Yu et al., ICCV 2017 / TNNLS 2018 (order > 1: MFH): per
               stage i, e_i = (U_iᵀx + b) ∘ (V_iᵀy + b) (∘ e_{i-1}), sum
               pooling over windows of k, signed square root, L2; the
               stages concatenated.
  Mutan        Ben-younes et al., ICCV 2017: q̃ = tanh(W_qᵀq), ṽ = tanh(W_vᵀv),
               z = Σ_r (q̃ᵀW_q^r) ∘ (ṽᵀW_v^r), out = W_oᵀz.
  Block        Ben-younes et al., AAAI 2019: projections cut into C chunks,
               z_c = Σ_r (x̃_cᵀA_c^r) ∘ (ỹ_cᵀB_c^r), each chunk normalised,
               concatenated, W_oᵀz.
  BlockTucker  as Block with a full core per chunk (nn.Bilinear); with one
               chunk and no normalisation of the chunk optional: Tucker.
  LinearSum    ReLU(W_xᵀx) + ReLU(W_yᵀy), then W_oᵀz.
  ConcatMLP    an MLP on [x; y].
  Mcb          Fukui et al., EMNLP 2016: FFT⁻¹(FFT(Ψ(x)) ∘ FFT(Ψ(y))), signed
               square root, L2, then a ReLU layer (the attention's hidden
               layer).
  BanPooling   Kim, Jun, Zhang, NeurIPS 2018: the bilinear attention maps
               and the G glimpses of bilinear attention pooling with the
               residual learning of attention (`BanVqa`'s fusion).

The two-input fusions take x [B, n] and y [B, S, m] (a question against S
regions). With `expand=True` they first repeat x over the S regions and
fuse B·S rows on both sides, as block.bootstrap.pytorch's attention does
before calling its fusion; with `expand=False` they project x once and
broadcast the projection, as the mi_zoo layers do.
"""

import numpy as np

from benchmarks import torch_cpu

torch = torch_cpu.import_torch()  # Before `torch.nn`: keeps triton out.
# pylint: disable=wrong-import-position
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from benchmarks import torch_references  # noqa: E402


def as_tensor(value):
    """A float32 torch tensor holding a copy of `value` (a Keras weight)."""
    return torch.from_numpy(
        np.ascontiguousarray(np.asarray(value, np.float32))
    )


def load_linear(linear, kernel, bias=None):
    """Copies a Keras kernel [in, out] (and bias [out]) into an nn.Linear."""
    with torch.no_grad():
        linear.weight.copy_(as_tensor(np.asarray(kernel).T))
        if bias is not None:
            linear.bias.copy_(as_tensor(bias))


def signed_sqrt_l2(z):
    """L2(sign(z)·√|z|) over the last axis."""
    z = torch.sqrt(F.relu(z)) - torch.sqrt(F.relu(-z))
    return F.normalize(z, p=2, dim=-1)


class TwoInputFusion(nn.Module):
    """Base: x [B, n] against y [B, S, m] (or y [B, m]), `expand` as the
    module doc says; subclasses define `fuse(x, y)` on rows (x [N, n] or
    [B, 1, n] broadcasting against y)."""

    def __init__(self, expand):
        super().__init__()
        self.expand = expand

    def forward(self, x, y):
        if y.dim() == 3:
            if self.expand:
                b, s = y.shape[:2]
                x = x[:, None, :].expand(b, s, x.shape[-1])
                out = self.fuse(x.reshape(b * s, -1), y.reshape(b * s, -1))
                return out.view(b, s, -1)
            x = x[:, None, :]
        return self.fuse(x, y)


class Mlb(TwoInputFusion):
    """tanh(linear0(x)) ∘ tanh(linear1(y)) (`LowRankBilinearPooling` with
    its defaults: no output projection)."""

    def __init__(self, n, m, joint_size, expand=False):
        super().__init__(expand)
        self.linear0 = nn.Linear(n, joint_size)
        self.linear1 = nn.Linear(m, joint_size)

    def fuse(self, x, y):
        return torch.tanh(self.linear0(x)) * torch.tanh(self.linear1(y))

    def load_keras(self, layer):
        load_linear(self.linear0, layer.x_kernel, layer.x_bias)
        load_linear(self.linear1, layer.y_kernel, layer.y_bias)


class Mfb(TwoInputFusion):
    """MFB (order 1) or MFH (order > 1), without dropout
    (`FactorizedBilinearPooling(dropout=0)`)."""

    def __init__(self, n, m, units, factor, order=1, expand=False):
        super().__init__(expand)
        self.units, self.factor, self.order = units, factor, order
        self.linear0 = nn.Linear(n, order * units * factor)
        self.linear1 = nn.Linear(m, order * units * factor)

    def fuse(self, x, y):
        width = self.units * self.factor
        px = torch.split(self.linear0(x), width, dim=-1)
        py = torch.split(self.linear1(y), width, dim=-1)
        outputs, expanded = [], None
        for a, b in zip(px, py):
            e = a * b
            if expanded is not None:
                e = e * expanded
            expanded = e
            z = e.view(e.shape[:-1] + (self.units, self.factor)).sum(-1)
            outputs.append(signed_sqrt_l2(z))
        return torch.cat(outputs, -1) if self.order > 1 else outputs[0]

    def load_keras(self, layer):
        load_linear(self.linear0, layer.x_kernel, layer.x_bias)
        load_linear(self.linear1, layer.y_kernel, layer.y_bias)


class Mutan(TwoInputFusion):
    """MUTAN (`Mutan` with its defaults: tanh inputs, no normalisation)."""

    def __init__(self, n, m, units, rank, mm_dim, hidden, expand=False):
        super().__init__(expand)
        self.rank, self.mm_dim = rank, mm_dim
        self.linear0 = nn.Linear(n, hidden)
        self.linear1 = nn.Linear(m, hidden)
        self.merge_linear0 = nn.Linear(hidden, rank * mm_dim)
        self.merge_linear1 = nn.Linear(hidden, rank * mm_dim)
        self.linear_out = nn.Linear(mm_dim, units)

    def fuse(self, x, y):
        q = self.merge_linear0(torch.tanh(self.linear0(x)))
        v = self.merge_linear1(torch.tanh(self.linear1(y)))
        z = q * v
        z = z.view(z.shape[:-1] + (self.rank, self.mm_dim)).sum(-2)
        return self.linear_out(z)

    def load_keras(self, layer):
        load_linear(self.linear0, layer.x_kernel, layer.x_bias)
        load_linear(self.linear1, layer.y_kernel, layer.y_bias)
        load_linear(self.merge_linear0, layer.x_factor, layer.x_factor_bias)
        load_linear(self.merge_linear1, layer.y_factor, layer.y_factor_bias)
        load_linear(self.linear_out, layer.output_kernel, layer.output_bias)


def _chunk_sizes(dim, chunks):
    size = -(-dim // chunks)
    return [size] * (chunks - 1) + [dim - size * (chunks - 1)]


class Block(TwoInputFusion):
    """BLOCK, chunks normalised before the concatenation (`Block` with its
    defaults): one pair of nn.Linear (s -> R·s) per chunk."""

    def __init__(self, n, m, units, mm_dim, chunks, rank, expand=False):
        super().__init__(expand)
        self.chunks, self.rank = chunks, rank
        sizes = _chunk_sizes(mm_dim, chunks)
        self.linear0 = nn.Linear(n, mm_dim)
        self.linear1 = nn.Linear(m, mm_dim)
        self.merge_linears0 = nn.ModuleList(
            nn.Linear(s, s * rank) for s in sizes
        )
        self.merge_linears1 = nn.ModuleList(
            nn.Linear(s, s * rank) for s in sizes
        )
        self.linear_out = nn.Linear(mm_dim, units)

    def fuse(self, x, y):
        xs = torch.chunk(self.linear0(x), self.chunks, dim=-1)
        ys = torch.chunk(self.linear1(y), self.chunks, dim=-1)
        zs = []
        for a, b, merge0, merge1 in zip(
            xs, ys, self.merge_linears0, self.merge_linears1
        ):
            z = merge0(a) * merge1(b)
            s = a.shape[-1]
            z = z.view(z.shape[:-1] + (self.rank, s)).sum(-2)
            zs.append(signed_sqrt_l2(z))
        return self.linear_out(torch.cat(zs, -1))

    def load_keras(self, layer):
        load_linear(self.linear0, layer.x_kernel, layer.x_bias)
        load_linear(self.linear1, layer.y_kernel, layer.y_bias)
        for side, merges in (
            ("x", self.merge_linears0),
            ("y", self.merge_linears1),
        ):
            kernels, biases = [], []
            for name in layer.group_names(f"{side}_", "factor"):
                kernels += list(np.asarray(getattr(layer, name)))
                biases += list(np.asarray(getattr(layer, f"{name}_bias")))
            for merge, kernel, bias in zip(merges, kernels, biases):
                load_linear(merge, kernel, bias)
        load_linear(self.linear_out, layer.output_kernel, layer.output_bias)


class BlockTucker(TwoInputFusion):
    """Block-Tucker (one nn.Bilinear per chunk; `normalization` "before"
    each chunk, "after" the concatenation, or None); Tucker is one chunk."""

    def __init__(
        self, n, m, units, mm_dim, chunks, normalization="before", expand=False
    ):
        super().__init__(expand)
        self.chunks, self.normalization = chunks, normalization
        self.linear0 = nn.Linear(n, mm_dim)
        self.linear1 = nn.Linear(m, mm_dim)
        self.bilinears = nn.ModuleList(
            nn.Bilinear(s, s, s) for s in _chunk_sizes(mm_dim, chunks)
        )
        self.linear_out = nn.Linear(mm_dim, units)

    def fuse(self, x, y):
        a = self.linear0(x)
        b = self.linear1(y)
        if a.shape != b.shape:  # a broadcast question: [B, 1, d]
            a, b = torch.broadcast_tensors(a, b)
        zs = []
        pieces = zip(
            torch.chunk(a, self.chunks, -1), torch.chunk(b, self.chunks, -1)
        )
        for bilinear, (xa, yb) in zip(self.bilinears, pieces):
            # CPU autocast leaves nn.Bilinear out of its bfloat16 ops but
            # hands it the bfloat16 outputs of the Linear layers: it runs in
            # its weights' float32 (a no-op cast outside autocast).
            dtype = bilinear.weight.dtype
            z = bilinear(xa.contiguous().to(dtype), yb.contiguous().to(dtype))
            zs.append(
                signed_sqrt_l2(z) if self.normalization == "before" else z
            )
        z = torch.cat(zs, -1)
        if self.normalization == "after":
            z = signed_sqrt_l2(z)
        return self.linear_out(z)

    def load_keras(self, layer):
        load_linear(self.linear0, layer.x_kernel, layer.x_bias)
        load_linear(self.linear1, layer.y_kernel, layer.y_bias)
        cores, biases = [], []
        for name in layer.group_names("", "core"):
            cores += list(np.asarray(getattr(layer, name)))
            biases += list(np.asarray(getattr(layer, f"{name}_bias")))
        with torch.no_grad():
            for bilinear, core, bias in zip(self.bilinears, cores, biases):
                # core [i, j, k] -> nn.Bilinear's weight [k, i, j]
                bilinear.weight.copy_(as_tensor(np.transpose(core, (2, 0, 1))))
                bilinear.bias.copy_(as_tensor(bias))
        load_linear(self.linear_out, layer.output_kernel, layer.output_bias)


class LinearSum(TwoInputFusion):
    """ReLU(linear0(x)) + ReLU(linear1(y)), linear_out (no normalisation)."""

    def __init__(self, n, m, units, mm_dim, expand=False):
        super().__init__(expand)
        self.linear0 = nn.Linear(n, mm_dim)
        self.linear1 = nn.Linear(m, mm_dim)
        self.linear_out = nn.Linear(mm_dim, units)

    def fuse(self, x, y):
        z = F.relu(self.linear0(x)) + F.relu(self.linear1(y))
        return self.linear_out(z)

    def load_keras(self, layer):
        load_linear(self.linear0, layer.x_kernel, layer.x_bias)
        load_linear(self.linear1, layer.y_kernel, layer.y_bias)
        load_linear(self.linear_out, layer.output_kernel, layer.output_bias)


class ConcatMLP(TwoInputFusion):
    """Linear layers with ReLU between them on torch.cat([x, y])."""

    def __init__(self, n, m, units, hidden_units, expand=False):
        super().__init__(expand)
        widths = [n + m] + list(hidden_units) + [units]
        self.linears = nn.ModuleList(
            nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:])
        )

    def fuse(self, x, y):
        if x.shape[:-1] != y.shape[:-1]:  # a broadcast question
            x = x.expand(y.shape[:-1] + (x.shape[-1],))
        h = torch.cat([x, y], -1)
        for i, linear in enumerate(self.linears):
            h = linear(F.relu(h) if i else h)
        return h

    def load_keras(self, layer):
        for linear, kernel, bias in zip(
            self.linears, layer.kernels, layer.biases
        ):
            load_linear(linear, kernel, bias)


class Mcb(TwoInputFusion):
    """MCB and a ReLU layer: ReLU(W_hᵀ MCB(x, y) + b) (the attention
    fusion and hidden layer of the MCB VQA model;
    `CompactBilinearPooling(units=..., activation="relu")`)."""

    def __init__(self, n, m, sketch_dim, units, expand=False):
        super().__init__(expand)
        self.mcb = torch_references.CompactBilinearPooling(n, m, sketch_dim)
        self.linear = nn.Linear(sketch_dim, units)

    def fuse(self, x, y):
        return F.relu(self.linear(self.mcb(x, y)))

    def load_keras(self, layer):
        self.mcb.load_keras(layer)
        load_linear(self.linear, layer.kernel, layer.bias)


class BanPooling(nn.Module):
    """BAN's bilinear attention maps and G glimpses of bilinear attention
    pooling with the residual learning of attention, summed over the
    tokens (`BilinearAttentionNetwork` without masks, counter or weight
    normalisation): x [B, ρ, N], y [B, φ, M] -> (joint [B, N], maps)."""

    def __init__(self, n, m, glimpses, rank, pool_size):
        super().__init__()
        k = rank
        self.glimpses, self.pool_size = glimpses, pool_size
        self.att_x = nn.Linear(n, k)  # U
        self.att_y = nn.Linear(m, k)  # V
        self.att_p = nn.Parameter(torch.zeros(glimpses, k))  # p_g
        self.feat_x = nn.ModuleList(nn.Linear(n, k) for _ in range(glimpses))
        self.feat_y = nn.ModuleList(nn.Linear(m, k) for _ in range(glimpses))
        self.proj = nn.ModuleList(
            nn.Linear(k // pool_size, n) for _ in range(glimpses)
        )

    def forward(self, x, y):
        hx = F.relu(self.att_x(x))  # [B, ρ, K]
        hy = F.relu(self.att_y(y))  # [B, φ, K]
        logits = (
            hx.unsqueeze(1) * self.att_p[None, :, None, :]
        ) @ hy.transpose(1, 2).unsqueeze(1)  # [B, G, ρ, φ]
        shape = logits.shape
        maps = torch.softmax(logits.reshape(shape[:2] + (-1,)), -1)
        maps = maps.reshape(shape)
        f = x
        for g in range(self.glimpses):
            fx = F.relu(self.feat_x[g](f))  # [B, ρ, K]
            fy = F.relu(self.feat_y[g](y))  # [B, φ, K]
            feature = (fx * (maps[:, g] @ fy)).sum(1)  # [B, K]
            pooled = feature.view(feature.shape[0], -1, self.pool_size).sum(-1)
            f = f + self.proj[g](pooled).unsqueeze(1)
        return f.sum(1), maps

    def load_keras(self, layer):
        att = layer.attention
        load_linear(self.att_x, att.x_kernel, att.x_bias)
        load_linear(self.att_y, att.y_kernel, att.y_bias)
        with torch.no_grad():
            self.att_p.copy_(as_tensor(att.glimpse_kernel))
        for g in range(self.glimpses):
            for linear, kernel, bias in (
                (self.feat_x[g], layer.feature_x_kernel, layer.feature_x_bias),
                (self.feat_y[g], layer.feature_y_kernel, layer.feature_y_bias),
                (self.proj[g], layer.projection_kernel, layer.projection_bias),
            ):
                load_linear(linear, np.asarray(kernel)[g], np.asarray(bias)[g])
