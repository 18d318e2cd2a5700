"""Float64 NumPy references of the MLB family, written from the papers.

MLB: Kim et al., "Hadamard Product for Low-rank Bilinear Pooling", ICLR 2017.
MRN: Kim et al., "Multimodal Residual Learning for Visual QA", NeurIPS 2016.
Weights are dicts of arrays named like the layers' variables; a missing bias
is zero.
"""

import numpy as np

from tests.fusion import pooling_references
from tests.fusion import references

ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": references.relu,
    "sigmoid": lambda t: 1.0 / (1.0 + np.exp(-t)),
    None: references.identity,
}


def mlb(
    x,
    y,
    w,
    activation="tanh",
    position="before",
    shortcut=False,
    normalize=False,
    output_activation=None,
):
    """f = Pᵀ(σ(Uᵀx + b_x) ∘ σ(Vᵀy + b_y)) + b ("before"),
    f = Pᵀσ((Uᵀx + b_x) ∘ (Vᵀy + b_y)) + b ("after"), plus W_xᵀx + W_yᵀy
    with shortcuts; without P (w has no "output_kernel") f is the joint
    vector. x, y: [B, ..., n], [B, ..., m], either may be [B, features].
    block.bootstrap's options: `normalize` replaces the joint vector j by
    sign(j)·√|j| / ‖sign(j)·√|j|‖₂ before P, and `output_activation` (a
    name of ACTIVATIONS) is applied to f last."""
    x, y = references.float64(x, y)
    rank = max(x.ndim, y.ndim)
    sigma = ACTIVATIONS[activation]
    ux = x @ w["x_kernel"] + w.get("x_bias", 0.0)
    vy = y @ w["y_kernel"] + w.get("y_bias", 0.0)
    ux, vy = references.pair(ux, vy)
    if position == "before":
        joint = sigma(ux) * sigma(vy)
    else:
        joint = sigma(ux * vy)
    if normalize:
        joint = pooling_references.l2_normalize(
            pooling_references.signed_sqrt(joint)
        )
    f = joint
    if "output_kernel" in w:
        f = joint @ w["output_kernel"] + w.get("bias", 0.0)
    if shortcut:
        f = (
            f
            + references.lift(x @ w["x_shortcut_kernel"], rank)
            + references.lift(y @ w["y_shortcut_kernel"], rank)
        )
    return ACTIVATIONS[output_activation](f)


def mlb_as_bilinear_forms(w):
    """The [k, n, m] bilinear forms W_i = U diag(P_i) Vᵀ of a linear MLB
    without biases: f_i = xᵀ W_i y (the paper's Eq. 3 factorisation)."""
    u, v, p = w["x_kernel"], w["y_kernel"], w["output_kernel"]
    return np.einsum("nd,dk,md->knm", u, p, v)


def mlb_attention(
    q, features, w, glimpses, mask=None, activation="tanh", glimpse_units=None
):
    """α = softmax_S(P_αᵀ(σ(U_qᵀq + b_q) ∘ σ(V_Fᵀ F_s + b_F))) per glimpse,
    v̂ = ‖_g Σ_s α_{g,s} F_s (or ‖_g σ(W_gᵀ(Σ_s α_{g,s} F_s) + c_g)).

    Computed position by position with explicit loops over the batch and the
    glimpses. Masked positions are left out of the softmax; a fully masked
    example gives α = 0. Returns (v̂ [B, G·C|G·u], α [B, G, *spatial]).
    """
    q, features = references.float64(q, features)
    sigma = ACTIVATIONS[activation]
    batch, spatial, c = (
        features.shape[0],
        features.shape[1:-1],
        features.shape[-1],
    )
    flat = features.reshape(batch, -1, c)  # [B, S, C]
    s = flat.shape[1]
    valid = (
        np.ones((batch, s), bool)
        if mask is None
        else np.asarray(mask, bool).reshape(batch, s)
    )
    alpha = np.zeros((batch, glimpses, s))
    out = []
    for b in range(batch):
        hq = sigma(q[b] @ w["question_kernel"] + w.get("question_bias", 0.0))
        pieces = []
        for g in range(glimpses):
            logits = np.array(
                [
                    (
                        hq
                        * sigma(
                            flat[b, i] @ w["feature_kernel"]
                            + w.get("feature_bias", 0.0)
                        )
                    )
                    @ w["attention_kernel"][:, g]
                    for i in range(s)
                ]
            )
            alpha[b, g] = references.masked_softmax(logits, valid[b])
            attended = sum(alpha[b, g, i] * flat[b, i] for i in range(s))
            attended = attended + np.zeros(c)
            if glimpse_units:
                attended = sigma(
                    attended @ w["glimpse_kernel"][g]
                    + (w["glimpse_bias"][g] if "glimpse_bias" in w else 0.0)
                )
            pieces.append(attended)
        out.append(np.concatenate(pieces))
    return np.stack(out), alpha.reshape((batch, glimpses) + spatial)


def mrn(q, v, w, num_layers, activation="tanh", shortcut="linear"):
    """H_0 = q; H_l = S_l(H_{l-1}) + σ(W_qᵀH_{l-1} + b_q) ∘
    σ(W_2ᵀσ(W_1ᵀv + b_1) + b_2), S_l linear (W_{q'}, b') where the weights
    have a shortcut kernel for block l, else the identity."""
    q, v = references.float64(q, v)
    rank = max(q.ndim, v.ndim)
    sigma = ACTIVATIONS[activation]
    h = q
    for l in range(1, num_layers + 1):
        get = lambda name: w.get(f"{name}_{l}", 0.0)
        gq = sigma(h @ w[f"question_kernel_{l}"] + get("question_bias"))
        gv = sigma(
            sigma(
                v @ w[f"visual_hidden_kernel_{l}"] + get("visual_hidden_bias")
            )
            @ w[f"visual_kernel_{l}"]
            + get("visual_bias")
        )
        residual = references.lift(gq, rank) * references.lift(gv, rank)
        if f"shortcut_kernel_{l}" in w:
            h = h @ w[f"shortcut_kernel_{l}"] + get("shortcut_bias")
        h = references.lift(h, rank) + residual
    return h


def mrn_unrolled(q, v, w, num_layers, activation="tanh"):
    """The paper's unrolled form for linear shortcuts without biases:
    H_L = W_{q'} q + Σ_l W_{F_l} F_l(H_{l-1}, v), W_{q'} = Π_l W_{q'}^{(l)},
    W_{F_l} = Π_{m>l} W_{q'}^{(m)} (row-vector convention: products left to
    right). The H_{l-1} inside F_l come from the recursion."""
    q, v = references.float64(q, v)
    sigma = ACTIVATIONS[activation]
    hs = [q]
    residuals = []
    for l in range(1, num_layers + 1):
        f = sigma(hs[-1] @ w[f"question_kernel_{l}"]) * sigma(
            sigma(v @ w[f"visual_hidden_kernel_{l}"]) @ w[f"visual_kernel_{l}"]
        )
        residuals.append(f)
        hs.append(hs[-1] @ w[f"shortcut_kernel_{l}"] + f)

    def chain(first, last):
        m = None
        for l in range(first, last + 1):
            k = w[f"shortcut_kernel_{l}"]
            m = k if m is None else m @ k
        return m

    total = q @ chain(1, num_layers)
    for l in range(1, num_layers + 1):
        tail = chain(l + 1, num_layers)
        f = residuals[l - 1]
        total = total + (f if tail is None else f @ tail)
    return total
