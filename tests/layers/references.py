"""Float64 NumPy references of the layers, written from the papers' formulas.

Each function takes x [B, ..., n] and z [B, m] or [B, ..., m] as NumPy arrays
and the weights as a dict of arrays named like the layer's variables.
"""

import numpy as np


def _context(x, z):
    """Broadcasts a [B, m] context over x's middle axes: [B, 1.., m]."""
    z = np.asarray(z, np.float64)
    while z.ndim < x.ndim:
        z = z[:, None]
    return z


def multiplicative_interaction(form, x, z, w):
    """f(x, z) = zᵀWx + zᵀU + Vx + b with W, V restricted by `form`."""
    x = np.asarray(x, np.float64)
    z = _context(x, z)  # [B, 1.., m] or [B, ..., m]
    b = w.get("bias", 0.0)
    u = z @ w["context_kernel"]
    if form == "full":
        bilinear = np.einsum("...i,ijk,...j->...k", z, w["kernel"], x)
        return bilinear + u + x @ w["input_kernel"] + b
    if form == "low_rank":
        a, bb, p = w["context_factor"], w["input_factor"], w["output_factor"]
        return ((z @ a) * (x @ bb)) @ p + u + x @ w["input_kernel"] + b
    if form == "diagonal":
        # Hypernetwork emits a vector: (zᵀW_d + v) ∘ x.
        return (z @ w["kernel"] + w["input_kernel"]) * x + u + b
    if form == "scalar":
        # Hypernetwork emits one scalar: (zᵀw + v) · x.
        return (z @ w["kernel"] + w["input_kernel"]) * x + u + b
    raise ValueError(form)


def film(x, z, w, axis=-1):
    """γ(z) ∘ x + β(z), γ = 1 + zᵀW_γ + b_γ, β = zᵀW_β + b_β along `axis`."""
    x = np.asarray(x, np.float64)
    z = np.asarray(z, np.float64)
    gamma = 1.0 + z @ w["gamma_kernel"] + w.get("gamma_bias", 0.0)
    beta = z @ w["beta_kernel"] + w.get("beta_bias", 0.0)
    xm = np.moveaxis(x, axis, -1)  # channels last
    gamma, beta = _context(xm, gamma), _context(xm, beta)
    return np.moveaxis(gamma * xm + beta, -1, axis)


def conditional_bias(x, z, w):
    """Vx + zᵀU + b."""
    z = _context(x, z)
    return x @ w["input_kernel"] + z @ w["context_kernel"] + w.get("bias", 0.0)


def concat_linear(x, z, w):
    """W[x; z] + b, z tiled over x's middle axes before concatenation."""
    x = np.asarray(x, np.float64)
    z = np.broadcast_to(_context(x, z), x.shape[:-1] + (z.shape[-1],))
    return np.concatenate([x, z], -1) @ w["kernel"] + w.get("bias", 0.0)


def conditional_scaling(x, z, w):
    """σ(zᵀW + c) ∘ x."""
    logits = _context(x, z) @ w["kernel"] + w.get("bias", 0.0)
    return x / (1.0 + np.exp(-logits))


def mi_lstm_step(x, h, c, w):
    """One MI-LSTM step (Wu et al. 2016), gate order i, f, g, o."""
    wx, uh = x @ w["kernel"], h @ w["recurrent_kernel"]
    pre = (
        w["alpha"] * wx * uh
        + w["beta_recurrent"] * uh
        + w["beta_input"] * wx
        + w.get("bias", 0.0)
    )
    i, f, g, o = np.split(pre, 4, axis=-1)
    sig = lambda t: 1.0 / (1.0 + np.exp(-t))
    c = sig(f) * c + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c), c
