"""PyTorch reference implementations of BAN, MLB and MCB VQA models.

Written for `benchmarks/reference_comparison.py` from the papers' equations,
with the same architecture choices as the models of `mi_zoo.models.vqa`
(question encoder, region encoder, classifier), so that one configuration
can be built in both frameworks and timed side by side:

  BanVqa  Kim, Jun, Zhang, "Bilinear Attention Networks", NeurIPS 2018:
          low-rank bilinear attention maps
              A_g = softmax(((1·p_gᵀ) ∘ σ(XᵀU)) σ(VᵀY))  (one softmax over
          all token-region pairs; U, V shared, one p_g per glimpse), the
          bilinear attention feature f'_g,k = σ(XᵀU'_g)ᵀ_k A_g σ(YᵀV'_g)_k,
          k-sum pooling, the residual learning of attention
          f_{g+1} = (P_gᵀ f'_g + d_g)·1ᵀ + f_g over G glimpses, the sum over
          tokens and a two-layer classifier.
  MlbVqa  Kim et al., "Hadamard Product for Low-rank Bilinear Pooling",
          ICLR 2017: α = softmax(P_αᵀ(tanh(U_qᵀq)·1ᵀ ∘ tanh(V_Fᵀ F))) per
          glimpse, v̂ = ‖_g Σ_s α_g,s F_s, then tanh(Uᵀq) ∘ tanh(Vᵀv̂) and a
          linear classifier.
  McbVqa  Fukui et al., "Multimodal Compact Bilinear Pooling", EMNLP 2016:
          Φ(x, y) = FFT⁻¹(FFT(Ψ(x)) ∘ FFT(Ψ(y))) with count sketches Ψ,
          signed square root and L2 normalisation, for the attention (MCB
          of q with every region, a ReLU layer, G logits, softmax over the
          regions) and for the answer (MCB of q and the attended features).

Shared parts: a word embedding (300) and a GRU over the question (final
state at the last real token; the token features for BAN), region features
L2-normalised with the box geometry (x1, y1, x2, y2, area) appended, and
padding masks (tokens with id 0; regions whose features are all zero).

`load_keras(keras_model)` copies the weights of the matching mi_zoo model
into a reference module (by the mi_zoo layer names), which the tests use to
check that both compute the same function.

This module imports torch (through `benchmarks.torch_cpu`, which keeps
triton out of a process that has TensorFlow); it is a benchmark dependency only (the `bench`
extra), never imported by the library.
"""

import numpy as np

from benchmarks import torch_cpu

torch = torch_cpu.import_torch()  # Before `torch.nn`: keeps triton out.
# pylint: disable=wrong-import-position
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

_MASKED_LOGIT = -1e9


def masked_softmax(logits, mask, axes=1):
    """Softmax over the last `axes` axes jointly (BAN: 2, the token-region
    pairs), masked positions (mask False) exactly zero."""
    logits = logits.masked_fill(~mask, _MASKED_LOGIT)
    shape = logits.shape
    flat = logits.reshape(shape[: logits.dim() - axes] + (-1,))
    weights = torch.softmax(flat, dim=-1).reshape(shape)
    return weights * mask.to(weights.dtype)


class QuestionEncoder(nn.Module):
    """Embedding -> GRU over the real tokens (padding at the end)."""

    def __init__(self, vocab_size, units, embedding_dim=300):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.gru = nn.GRU(embedding_dim, units, batch_first=True)

    def forward(self, tokens):
        mask = tokens != 0  # [B, T]
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            self.embedding(tokens),
            lengths,
            batch_first=True,
            enforce_sorted=False,
        )
        out, h = self.gru(packed)
        words, _ = nn.utils.rnn.pad_packed_sequence(
            out, batch_first=True, total_length=tokens.shape[1]
        )
        return h[0], words, mask  # [B, D], [B, T, D], [B, T]

    def load_keras(self, keras_model):
        """Copies "word_embedding" and "question_gru" (Keras gate order z,
        r, h; PyTorch's r, z, n; reset_after=True is PyTorch's GRU)."""
        self.embedding.weight.data = _t(
            keras_model.get_layer("word_embedding").embeddings
        )
        cell = keras_model.get_layer("question_gru").cell
        h = cell.units

        def reorder(w):  # [..., 3H] z, r, h -> r, z, n
            w = np.asarray(w)
            return np.concatenate(
                [w[..., h : 2 * h], w[..., :h], w[..., 2 * h :]], -1
            )

        bias = reorder(cell.bias)
        self.gru.weight_ih_l0.data = _t(reorder(cell.kernel).T)
        self.gru.weight_hh_l0.data = _t(reorder(cell.recurrent_kernel).T)
        self.gru.bias_ih_l0.data = _t(bias[0])
        self.gru.bias_hh_l0.data = _t(bias[1])


def encode_regions(features, boxes):
    """[B, R, C] features and [B, R, 4] boxes -> ([B, R, C + 5], mask)."""
    mask = (features != 0).any(-1)  # [B, R]
    squares = (features * features).sum(-1, keepdim=True)
    features = features * torch.rsqrt(squares.clamp(min=1e-12))
    area = (boxes[..., 2:3] - boxes[..., 0:1]) * (
        boxes[..., 3:4] - boxes[..., 1:2]
    )
    return torch.cat([features, boxes, area], -1), mask


def _t(value):
    return torch.from_numpy(
        np.ascontiguousarray(np.asarray(value, np.float32))
    )


def _load_dense(linear, keras_dense_or_kernel, bias=None):
    """Copies a Keras Dense (or a kernel [in, out] and bias) into a Linear."""
    if bias is None and hasattr(keras_dense_or_kernel, "kernel"):
        bias = keras_dense_or_kernel.bias
        keras_dense_or_kernel = keras_dense_or_kernel.kernel
    linear.weight.data = _t(np.asarray(keras_dense_or_kernel).T)
    linear.bias.data = _t(bias)


class BanVqa(nn.Module):
    """BAN-G (see the module doc); `rank` K, `pool_size` k."""

    def __init__(
        self,
        vocab_size,
        region_features,
        num_answers,
        question_units=1024,
        glimpses=8,
        rank=3072,
        pool_size=3,
        hidden=2048,
    ):
        super().__init__()
        n, m, k = question_units, region_features + 5, rank
        self.glimpses, self.pool_size = glimpses, pool_size
        self.question = QuestionEncoder(vocab_size, n)
        self.att_x = nn.Linear(n, k)  # U
        self.att_y = nn.Linear(m, k)  # V
        self.att_p = nn.Parameter(torch.randn(glimpses, k) / k**0.5)  # p_g
        self.feat_x = nn.ModuleList(nn.Linear(n, k) for _ in range(glimpses))
        self.feat_y = nn.ModuleList(nn.Linear(m, k) for _ in range(glimpses))
        self.proj = nn.ModuleList(
            nn.Linear(k // pool_size, n) for _ in range(glimpses)
        )
        self.hidden = nn.Linear(n, hidden)
        self.answer = nn.Linear(hidden, num_answers)

    def forward(self, tokens, features, boxes):
        _, x, x_mask = self.question(tokens)  # [B, ρ, N]
        y, y_mask = encode_regions(features, boxes)  # [B, φ, M]
        hx = F.relu(self.att_x(x))  # [B, ρ, K]
        hy = F.relu(self.att_y(y))  # [B, φ, K]
        # ((1·p_gᵀ) ∘ σ(XᵀU)) σ(VᵀY): [B, G, ρ, φ]
        logits = (
            hx.unsqueeze(1) * self.att_p[None, :, None, :]
        ) @ hy.transpose(1, 2).unsqueeze(1)
        pairs = x_mask[:, None, :, None] & y_mask[:, None, None, :]
        maps = masked_softmax(logits, pairs, axes=2)
        f = x
        for g in range(self.glimpses):
            fx = F.relu(self.feat_x[g](f))  # σ(XᵀU'_g): [B, ρ, K]
            fy = F.relu(self.feat_y[g](y))  # σ(YᵀV'_g): [B, φ, K]
            # f'_g,k = σ(XᵀU'_g)ᵀ_k A_g σ(YᵀV'_g)_k: [B, K]
            feature = (fx * (maps[:, g] @ fy)).sum(1)
            pooled = feature.view(feature.shape[0], -1, self.pool_size).sum(
                -1
            )  # [B, K/k]
            f = f + self.proj[g](pooled).unsqueeze(1)  # residual, [B, ρ, N]
        joint = (f * x_mask.unsqueeze(-1).to(f.dtype)).sum(1)  # [B, N]
        return self.answer(F.relu(self.hidden(joint)))

    def load_keras(self, keras_model):
        self.question.load_keras(keras_model)
        ban = keras_model.get_layer("bilinear_attention")
        att = ban.attention
        _load_dense(self.att_x, att.x_kernel, att.x_bias)
        _load_dense(self.att_y, att.y_kernel, att.y_bias)
        self.att_p.data = _t(att.glimpse_kernel)
        for g in range(self.glimpses):
            _load_dense(
                self.feat_x[g],
                np.asarray(ban.feature_x_kernel)[g],
                np.asarray(ban.feature_x_bias)[g],
            )
            _load_dense(
                self.feat_y[g],
                np.asarray(ban.feature_y_kernel)[g],
                np.asarray(ban.feature_y_bias)[g],
            )
            _load_dense(
                self.proj[g],
                np.asarray(ban.projection_kernel)[g],
                np.asarray(ban.projection_bias)[g],
            )
        _load_dense(self.hidden, keras_model.get_layer("answer_hidden"))
        _load_dense(self.answer, keras_model.get_layer("answer"))


class MlbVqa(nn.Module):
    """MLB with G attention glimpses (see the module doc)."""

    def __init__(
        self,
        vocab_size,
        region_features,
        num_answers,
        question_units=1024,
        joint_size=1200,
        glimpses=2,
    ):
        super().__init__()
        n, c, d = question_units, region_features + 5, joint_size
        self.glimpses = glimpses
        self.question = QuestionEncoder(vocab_size, n)
        self.att_q = nn.Linear(n, d)  # U_q
        self.att_f = nn.Linear(c, d)  # V_F
        self.att_p = nn.Linear(d, glimpses, bias=False)  # P_α
        self.fuse_q = nn.Linear(n, d)  # U
        self.fuse_v = nn.Linear(glimpses * c, d)  # V
        self.answer = nn.Linear(d, num_answers)

    def forward(self, tokens, features, boxes):
        q, _, _ = self.question(tokens)  # [B, n]
        v, mask = encode_regions(features, boxes)  # [B, S, C]
        joint = torch.tanh(self.att_q(q)).unsqueeze(1) * torch.tanh(
            self.att_f(v)
        )  # [B, S, d]
        logits = self.att_p(joint).transpose(1, 2)  # [B, G, S]
        alpha = masked_softmax(logits, mask.unsqueeze(1))
        attended = (alpha @ v).flatten(1)  # [B, G·C]
        fused = torch.tanh(self.fuse_q(q)) * torch.tanh(self.fuse_v(attended))
        return self.answer(fused)

    def load_keras(self, keras_model):
        self.question.load_keras(keras_model)
        att = keras_model.get_layer("mlb_attention")
        _load_dense(self.att_q, att.question_kernel, att.question_bias)
        _load_dense(self.att_f, att.feature_kernel, att.feature_bias)
        self.att_p.weight.data = _t(np.asarray(att.attention_kernel).T)
        fuse = keras_model.get_layer("fusion")
        _load_dense(self.fuse_q, fuse.x_kernel, fuse.x_bias)
        _load_dense(self.fuse_v, fuse.y_kernel, fuse.y_bias)
        _load_dense(self.answer, keras_model.get_layer("answer"))


class CompactBilinearPooling(nn.Module):
    """MCB of x [B, n] with y [B, (S,) m]: count sketches, FFT, signed
    square root, L2 normalisation (no trainable weight)."""

    def __init__(self, n, m, sketch_dim, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.d = sketch_dim
        for name, size in (("x", n), ("y", m)):
            self.register_buffer(
                f"{name}_hash",
                torch.from_numpy(rng.integers(0, sketch_dim, size)).long(),
            )
            self.register_buffer(
                f"{name}_sign",
                torch.from_numpy(
                    (2 * rng.integers(0, 2, size) - 1).astype(np.float32)
                ),
            )

    def _spectrum(self, t, hashes, signs):
        lead = t.shape[:-1]
        flat = (t * signs).reshape(-1, t.shape[-1])  # [N, n]
        sketch = flat.new_zeros(flat.shape[0], self.d).index_add_(
            1, hashes, flat
        )  # Ψ: [N, d]
        return torch.fft.rfft(sketch, n=self.d).reshape(lead + (-1,))

    def forward(self, x, y):
        fx = self._spectrum(x, self.x_hash, self.x_sign)
        fy = self._spectrum(y, self.y_hash, self.y_sign)
        if fy.dim() > fx.dim():
            fx = fx.unsqueeze(1)  # broadcast q over the regions
        z = torch.fft.irfft(fx * fy, n=self.d)  # [B, (S,) d]
        a = z.abs()
        nonzero = a > 0
        root = torch.sqrt(torch.where(nonzero, a, torch.ones_like(a)))
        z = torch.where(nonzero, torch.sign(z) * root, torch.zeros_like(z))
        squares = (z * z).sum(-1, keepdim=True)
        return z * torch.rsqrt(squares.clamp(min=1e-24))

    def load_keras(self, layer):
        for name in ("x_hash", "y_hash"):
            getattr(self, name).copy_(
                torch.from_numpy(
                    np.asarray(getattr(layer, name)).astype(np.int64)
                )
            )
        for name in ("x_sign", "y_sign"):
            getattr(self, name).copy_(_t(getattr(layer, name)))


class McbVqa(nn.Module):
    """MCB with G attention glimpses (see the module doc)."""

    def __init__(
        self,
        vocab_size,
        region_features,
        num_answers,
        question_units=1024,
        sketch_dim=16000,
        glimpses=2,
        attention_hidden=512,
    ):
        super().__init__()
        n, c = question_units, region_features + 5
        self.question = QuestionEncoder(vocab_size, n)
        self.att_mcb = CompactBilinearPooling(n, c, sketch_dim, seed=1)
        self.att_hidden = nn.Linear(sketch_dim, attention_hidden)
        self.att_logits = nn.Linear(attention_hidden, glimpses)
        self.fuse_mcb = CompactBilinearPooling(
            n, glimpses * c, sketch_dim, seed=2
        )
        self.answer = nn.Linear(sketch_dim, num_answers)

    def forward(self, tokens, features, boxes):
        q, _, _ = self.question(tokens)  # [B, n]
        v, mask = encode_regions(features, boxes)  # [B, S, C]
        joint = self.att_mcb(q, v)  # [B, S, d]
        logits = self.att_logits(F.relu(self.att_hidden(joint)))  # [B, S, G]
        alpha = masked_softmax(logits.transpose(1, 2), mask.unsqueeze(1))
        attended = (alpha @ v).flatten(1)  # [B, G·C]
        return self.answer(self.fuse_mcb(q, attended))

    def load_keras(self, keras_model):
        self.question.load_keras(keras_model)
        self.att_mcb.load_keras(keras_model.get_layer("attention_fusion"))
        self.fuse_mcb.load_keras(keras_model.get_layer("fusion"))
        _load_dense(self.att_hidden, keras_model.get_layer("attention_hidden"))
        _load_dense(self.att_logits, keras_model.get_layer("attention_logits"))
        _load_dense(self.answer, keras_model.get_layer("answer"))


REFERENCES = {"ban": BanVqa, "mlb": MlbVqa, "mcb": McbVqa}


def trainable_parameters(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
