"""Float64 NumPy references of the pooling fusions, from the papers' formulas.

Each function takes x [B, ..., n] and y [B, ..., m] (one of them may be
[B, f], broadcast over the other's middle axes) as NumPy arrays and the
weights as a dict of arrays named like the layer's variables.
"""

import numpy as np

from tests.fusion import references


def signed_sqrt(z):
    return np.sign(z) * np.sqrt(np.abs(z))


def l2_normalize(z, axis=-1):
    norm = np.sqrt(np.sum(z * z, axis=axis, keepdims=True))
    return z / np.maximum(norm, 1e-12)


def count_sketch(v, hashes, signs, d):
    """Ψ(v)[k] = Σ_{i : h(i) = k} s(i)·v(i) over the last axis of v."""
    out = np.zeros(v.shape[:-1] + (d,))
    for i in range(v.shape[-1]):
        out[..., int(hashes[i])] += signs[i] * v[..., i]
    return out


def mcb(
    x,
    y,
    w,
    d,
    signed_sqrt_=False,
    l2=False,
    units=None,
    activation=references.identity,
):
    """MCB as the count sketch of vec(x ⊗ y), computed directly.

    Hash H(i, j) = (h_x(i) + h_y(j)) mod d and sign s_x(i)·s_y(j) (Pham &
    Pagh 2013): the circular convolution of the two sketches.
    """
    x, y = references.pair(x, y)
    n, m = x.shape[-1], y.shape[-1]
    outer = x[..., :, None] * y[..., None, :]  # [B, ..., n, m]
    outer = outer.reshape(outer.shape[:-2] + (n * m,))
    hashes = (w["x_hash"][:, None] + w["y_hash"][None, :]) % d
    signs = w["x_sign"][:, None] * w["y_sign"][None, :]
    z = count_sketch(outer, hashes.ravel(), signs.ravel(), d)
    if signed_sqrt_:
        z = signed_sqrt(z)
    if l2:
        z = l2_normalize(z)
    if units is None:
        return z
    return activation(z @ w["kernel"] + w.get("bias", 0.0))


def mfh(
    x,
    y,
    w,
    units,
    factor,
    order,
    power=True,
    l2=True,
    input_activation=references.identity,
    output_activation=references.identity,
):
    """MFB (order 1) / MFH: z_i = SumPool(e_i, k).

    e_i = (Ũ_iᵀx + b) ∘ (Ṽ_iᵀy + c) ∘ e_{i−1}, e_0 = 1 (no dropout).

    Each output j of block i is Σ_t (xᵀu_{ijt} + b)(yᵀv_{ijt} + c): the sum
    of k rank-one bilinear forms (the factorised W_j = U_j V_jᵀ).
    block.bootstrap's options: `input_activation` f gives
    e_i = f(Ũ_iᵀx + b) ∘ f(Ṽ_iᵀy + c) ∘ e_{i−1}; the output is
    output_activation([z_1; ...; z_p] W_o + b_o) (W_o = w["output_kernel"]
    when w has one, else no projection).
    """
    x, y = references.pair(x, y)
    n, m = x.shape[-1], y.shape[-1]
    shape = (order, units, factor)
    u = w["x_kernel"].reshape((n,) + shape)
    v = w["y_kernel"].reshape((m,) + shape)
    bu = w.get("x_bias", np.zeros(order * units * factor)).reshape(shape)
    bv = w.get("y_bias", np.zeros(order * units * factor)).reshape(shape)
    outputs, previous = [], 1.0
    for i in range(order):
        ux = np.einsum("...n,njt->...jt", x, u[:, i]) + bu[i]  # [.., o, k]
        vy = np.einsum("...m,mjt->...jt", y, v[:, i]) + bv[i]
        ux, vy = input_activation(ux), input_activation(vy)
        e = ux * vy * previous  # expanded product of block i
        previous = e
        z = e.sum(-1)  # sum pooling over the k factors
        if power:
            z = signed_sqrt(z)
        if l2:
            z = l2_normalize(z)
        outputs.append(z)
    out = np.concatenate(outputs, -1)
    if "output_kernel" in w:
        out = out @ w["output_kernel"] + w.get("output_bias", 0.0)
    return output_activation(out)


def mutan(
    x,
    y,
    w,
    rank,
    input_activation=np.tanh,
    normalize=False,
    activation=references.identity,
):
    """MUTAN: z = Σ_r (q̃ᵀM_r + b_r) ∘ (ṽᵀN_r + c_r), out = zᵀW_o + b_o."""
    x, y = references.pair(x, y)
    b = lambda name: w.get(name, 0.0)
    q = input_activation(x @ w["x_kernel"] + b("x_bias"))
    v = input_activation(y @ w["y_kernel"] + b("y_bias"))
    t_q, t_v = q.shape[-1], v.shape[-1]
    t_o = w["output_kernel"].shape[0]
    big_m = w["x_factor"].reshape(t_q, rank, t_o)
    big_n = w["y_factor"].reshape(t_v, rank, t_o)
    zeros = np.zeros(rank * t_o)
    bm = w.get("x_factor_bias", zeros).reshape(rank, t_o)
    bn = w.get("y_factor_bias", zeros).reshape(rank, t_o)
    z = sum(
        (q @ big_m[:, r] + bm[r]) * (v @ big_n[:, r] + bn[r])
        for r in range(rank)
    )
    if normalize:
        z = l2_normalize(signed_sqrt(z))
    return activation(z @ w["output_kernel"] + b("output_bias"))


def mutan_core(w, rank):
    """Tucker core τ_c [t_q, t_v, t_o]: τ_c[:, :, k] = Σ_r m_r^k ⊗ n_r^k."""
    t_o = w["output_kernel"].shape[0]
    big_m = w["x_factor"].reshape(-1, rank, t_o)
    big_n = w["y_factor"].reshape(-1, rank, t_o)
    return np.einsum("irk,jrk->ijk", big_m, big_n)


def block(
    x,
    y,
    w,
    chunks,
    rank,
    normalization="before_concat",
    activation=references.identity,
):
    """BLOCK: per chunk c, z_c = Σ_r (x̃_cᵀA_c^r + a) ∘ (ỹ_cᵀB_c^r + b).

    Chunks as torch.chunk cuts: ⌈d / C⌉ features each, the last the rest;
    a shorter last chunk's weights are `*_last_factor[0]`.
    """
    x, y = references.pair(x, y)
    b = lambda name: w.get(name, 0.0)
    xt = x @ w["x_kernel"] + b("x_bias")  # [.., d]
    yt = y @ w["y_kernel"] + b("y_bias")
    d = xt.shape[-1]
    size = -(-d // chunks)
    zs = []
    for c in range(chunks):
        start = c * size
        s = min(size, d - start)
        xc, yc = xt[..., start : start + s], yt[..., start : start + s]
        last = s < size
        name = "factor" if not last else "last_factor"
        index = 0 if last else c
        a = w[f"x_{name}"][index].reshape(s, rank, s)
        bb = w[f"y_{name}"][index].reshape(s, rank, s)
        zeros = np.zeros(rank * s)
        a_bias = w.get(f"x_{name}_bias", [zeros] * chunks)[index].reshape(
            rank, s
        )
        b_bias = w.get(f"y_{name}_bias", [zeros] * chunks)[index].reshape(
            rank, s
        )
        zc = sum(
            (xc @ a[:, r] + a_bias[r]) * (yc @ bb[:, r] + b_bias[r])
            for r in range(rank)
        )
        if normalization == "before_concat":
            zc = l2_normalize(signed_sqrt(zc))
        zs.append(zc)
    z = np.concatenate(zs, -1)
    if normalization == "after_concat":
        z = l2_normalize(signed_sqrt(z))
    return activation(z @ w["output_kernel"] + b("output_bias"))
