"""Float64 NumPy references of LinearSum, ConcatMLP, Tucker and
Block-Tucker, from the formulas of Ben-younes et al. (MUTAN, ICCV 2017;
BLOCK, AAAI 2019).

Each function takes x [B, ..., n] and y [B, ..., m] (one of them may be
[B, f], broadcast over the other's middle axes) as NumPy arrays and the
weights as a dict of arrays named like the layer's variables (a missing
bias is zero).
"""

import numpy as np

from tests.fusion import pooling_references as pooling
from tests.fusion import references


def _bias(w, name):
    return w.get(name, 0.0)


def _norm(z):
    return pooling.l2_normalize(pooling.signed_sqrt(z))


def linear_sum(
    x,
    y,
    w,
    input_activation=references.relu,
    normalize=False,
    activation=references.identity,
):
    """z = f(W_xᵀx + b_x) + f(W_yᵀy + b_y), out = activation(n(z)ᵀW_o + b_o)."""
    x, y = references.pair(x, y)
    z = input_activation(x @ w["x_kernel"] + _bias(w, "x_bias"))
    z = z + input_activation(y @ w["y_kernel"] + _bias(w, "y_bias"))
    if normalize:
        z = _norm(z)
    return activation(z @ w["output_kernel"] + _bias(w, "output_bias"))


def concat_mlp(
    x,
    y,
    w,
    layers,
    hidden_activation=references.relu,
    activation=references.identity,
):
    """An MLP of `layers` dense layers on the explicit concatenation [x; y]
    (the [B, f] input copied to every position of the other)."""
    x, y = references.pair(x, y)
    lead = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
    h = np.concatenate(
        [
            np.broadcast_to(x, lead + x.shape[-1:]),
            np.broadcast_to(y, lead + y.shape[-1:]),
        ],
        -1,
    )
    for i in range(1, layers + 1):
        if i > 1:
            h = hidden_activation(h)
        h = h @ w[f"mlp_kernel_{i}"] + _bias(w, f"mlp_bias_{i}")
    return activation(h)


def bilinear(a, core, b):
    """z[k] = Σ_{i,j} a[i]·core[i, j, k]·b[j] over the last axes."""
    return np.einsum("...i,ijk,...j->...k", a, core, b)


def block_tucker(
    x,
    y,
    w,
    chunks,
    normalization="before_concat",
    activation=references.identity,
):
    """Per chunk c (cut as torch.chunk cuts), z_c = x̃_cᵀ T_c ỹ_c + t_c.

    A shorter last chunk's weights are `last_core[0]`, `last_core_bias[0]`.
    """
    x, y = references.pair(x, y)
    xt = x @ w["x_kernel"] + _bias(w, "x_bias")  # [.., d]
    yt = y @ w["y_kernel"] + _bias(w, "y_bias")
    d = xt.shape[-1]
    size = -(-d // chunks)
    zs = []
    for c in range(chunks):
        start = c * size
        s = min(size, d - start)
        name, index = ("core", c) if s == size else ("last_core", 0)
        zc = bilinear(
            xt[..., start : start + s],
            w[name][index],
            yt[..., start : start + s],
        )
        if f"{name}_bias" in w:
            zc = zc + w[f"{name}_bias"][index]
        if normalization == "before_concat":
            zc = _norm(zc)
        zs.append(zc)
    z = np.concatenate(zs, -1)
    if normalization == "after_concat":
        z = _norm(z)
    return activation(z @ w["output_kernel"] + _bias(w, "output_bias"))


def tucker(x, y, w, normalize=False, activation=references.identity):
    """z = T ×₁ x̃ ×₂ ỹ + t, out = activation(n(z)ᵀW_o + b_o)."""
    x, y = references.pair(x, y)
    xt = x @ w["x_kernel"] + _bias(w, "x_bias")  # [.., d]
    yt = y @ w["y_kernel"] + _bias(w, "y_bias")
    z = bilinear(xt, w["core"][0], yt) + _bias(w, "core_bias")
    if normalize:
        z = _norm(z)
    return activation(z @ w["output_kernel"] + _bias(w, "output_bias"))
