"""Float64 NumPy references of BAN and DAN, written from the papers.

Each function works one example at a time with loops over positions, glimpses
and steps, as the papers write them, and takes the weights as a dict of
arrays named like the layer's variables (`path` of the variable, relative to
the layer, e.g. "x_kernel" or "attention/x_kernel"), as `weights_by_path`
returns them.
"""

import numpy as np

from tests.fusion import counter_references
from tests.fusion import references
from tests.layers import test_util


def weights_by_path(layer, seed=0, scale=0.5):
    """Sets every weight of a built layer to random values; returns them
    keyed by path inside the layer ("x_kernel", "attention/x_kernel")."""
    test_util.random_weights(layer, seed, scale)
    return {v.path.split("/", 1)[1]: np.asarray(v) for v in layer.weights}


def _valid(mask, size):
    return np.ones(size, bool) if mask is None else np.asarray(mask, bool)


def ban_logits(x, y, w, act=references.relu, prefix=""):
    """L_g[i, j] = p_gᵀ(σ(Uᵀx_i + b_U) ∘ σ(Vᵀy_j + b_V)) (BAN Eqs. 7, 11).

    x [B, ρ, N], y [B, φ, M] -> [B, G, ρ, φ].
    """
    u, v = w[prefix + "x_kernel"], w[prefix + "y_kernel"]
    bu = w.get(prefix + "x_bias", 0.0)
    bv = w.get(prefix + "y_bias", 0.0)
    p = w[prefix + "glimpse_kernel"]  # [G, K]
    batch, rho, phi, glimpses = x.shape[0], x.shape[1], y.shape[1], p.shape[0]
    out = np.zeros((batch, glimpses, rho, phi))
    for b in range(batch):
        for g in range(glimpses):
            for i in range(rho):
                for j in range(phi):
                    hx = act(x[b, i] @ u + bu)
                    hy = act(y[b, j] @ v + bv)
                    out[b, g, i, j] = np.sum(p[g] * hx * hy)
    return out


def joint_softmax(logits, x_mask=None, y_mask=None):
    """Softmax of each [ρ, φ] slice over its valid pairs; zeros elsewhere."""
    batch, glimpses, rho, phi = logits.shape
    out = np.zeros_like(logits)
    for b in range(batch):
        valid = np.outer(
            _valid(None if x_mask is None else x_mask[b], rho),
            _valid(None if y_mask is None else y_mask[b], phi),
        )
        for g in range(glimpses):
            out[b, g] = references.masked_softmax(logits[b, g], valid)
    return out


def ban_maps(
    x, y, w, act=references.relu, x_mask=None, y_mask=None, prefix=""
):
    """A_g = softmax(((1·p_gᵀ) ∘ σ(XᵀU)) σ(VᵀY)) over all valid pairs."""
    return joint_softmax(ban_logits(x, y, w, act, prefix), x_mask, y_mask)


def ban_network(
    x,
    y,
    w,
    pool_size,
    act=references.relu,
    x_mask=None,
    y_mask=None,
    boxes=None,
    objects=10,
):
    """Residual learning of attention (BAN Eqs. 9, 10) -> (joint, maps).

    f_0 = x; f'_g[k] = Σ_i Σ_j A_g[i, j] σ(f_g,i U'_g + b)_k σ(y_j V'_g + c)_k;
    f_{g+1} = f_g + 1·(P_gᵀ sum_pool(f'_g) + d_g)ᵀ; joint = Σ_{valid i} f_G,i.
    With `boxes` (the counter of the authors' code), glimpse g also adds
    σ(Q_gᵀ c_g + e_g), c_g the count from box j's logit max_i L_g[i, j] + h_g
    over the valid tokens, boxes valid when y_mask and some token is.
    """
    logits = ban_logits(x, y, w, act, prefix="attention/")
    if boxes is not None:
        logits = logits + w["attention/logit_bias"][None, :, None, None]
    maps = joint_softmax(logits, x_mask, y_mask)
    ux, bx = w["feature_x_kernel"], w.get("feature_x_bias")
    vy, by = w["feature_y_kernel"], w.get("feature_y_bias")
    proj, bp = w["projection_kernel"], w.get("projection_bias")
    glimpses, _, rank = ux.shape
    batch, rho = x.shape[:2]
    joint = np.zeros((batch, x.shape[2]))
    for b in range(batch):
        f = x[b].copy()
        for g in range(glimpses):
            feature = np.zeros(rank)
            for k in range(rank):
                for i in range(rho):
                    for j in range(y.shape[1]):
                        hx = act(f[i] @ ux[g] + (0 if bx is None else bx[g]))
                        hy = act(
                            y[b, j] @ vy[g] + (0 if by is None else by[g])
                        )
                        feature[k] += maps[b, g, i, j] * hx[k] * hy[k]
            pooled = np.array(
                [
                    feature[c * pool_size : (c + 1) * pool_size].sum()
                    for c in range(rank // pool_size)
                ]
            )
            glimpse = pooled @ proj[g] + (0 if bp is None else bp[g])
            if boxes is not None:
                tokens = _valid(None if x_mask is None else x_mask[b], rho)
                box_valid = (
                    _valid(None if y_mask is None else y_mask[b], y.shape[1])
                    & tokens.any()
                )
                per_box = np.array(
                    [
                        logits[b, g, tokens, j].max() if tokens.any() else 0
                        for j in range(y.shape[1])
                    ]
                )
                a = np.where(box_valid, 1 / (1 + np.exp(-per_box)), 0.0)
                counts = counter_references.count_one(
                    boxes[b], a, w["counter/functions"], objects
                )
                glimpse = glimpse + act(
                    counts @ w["count_kernel"][g]
                    + w.get("count_bias", np.zeros((glimpses, 1)))[g]
                )
            f = f + glimpse[None, :]
        valid = _valid(None if x_mask is None else x_mask[b], rho)
        joint[b] = f[valid].sum(axis=0)
    return joint, maps


def dual_attention(mode, v, u, w, v_mask=None, u_mask=None):
    """DAN (Nam et al. 2017, Sec. 3.2-3.3), one example at a time.

    Returns (memory m(K), α_v, α_u) for "reasoning" and
    (z_v, z_u, α_v, α_u) for "matching", α with step 0 = the averages.
    """
    get = lambda name, k: 0.0 if name not in w else w[name][k]
    steps = w["visual_kernel"].shape[0]
    outputs = []
    for b in range(v.shape[0]):
        vb, ub = v[b], u[b]
        v_ok = _valid(None if v_mask is None else v_mask[b], len(vb))
        u_ok = _valid(None if u_mask is None else u_mask[b], len(ub))
        v_avg = v_ok / max(v_ok.sum(), 1)
        u_avg = u_ok / max(u_ok.sum(), 1)
        # v(0) = tanh(P(0) (1/N) Σ_n v_n), u(0) = (1/T) Σ_t u_t.
        vk = np.tanh(
            sum(a * vn for a, vn in zip(v_avg, vb))
            @ w["visual_projection_kernel"][0]
            + get("visual_projection_bias", 0)
        )
        uk = sum(a * ut for a, ut in zip(u_avg, ub))
        alphas_v, alphas_u, vs, us = [v_avg], [u_avg], [vk], [uk]
        memory = vk * uk  # r-DAN: m(0) = v(0) ∘ u(0)
        m_v, m_u = vk, uk  # m-DAN: m_v(0) = v(0), m_u(0) = u(0)
        for k in range(steps):
            if mode == "reasoning":
                m_v = m_u = memory
            # Visual attention.
            h_v = [
                np.tanh(vn @ w["visual_kernel"][k] + get("visual_bias", k))
                * np.tanh(
                    m_v @ w["visual_memory_kernel"][k]
                    + get("visual_memory_bias", k)
                )
                for vn in vb
            ]
            alpha_v = references.masked_softmax(
                np.array([h @ w["visual_score_kernel"][k] for h in h_v]), v_ok
            )
            vk = np.tanh(
                sum(a * vn for a, vn in zip(alpha_v, vb))
                @ w["visual_projection_kernel"][k + 1]
                + get("visual_projection_bias", k + 1)
            )
            # Textual attention.
            h_u = [
                np.tanh(ut @ w["textual_kernel"][k] + get("textual_bias", k))
                * np.tanh(
                    m_u @ w["textual_memory_kernel"][k]
                    + get("textual_memory_bias", k)
                )
                for ut in ub
            ]
            alpha_u = references.masked_softmax(
                np.array([h @ w["textual_score_kernel"][k] for h in h_u]), u_ok
            )
            uk = sum(a * ut for a, ut in zip(alpha_u, ub))
            memory = memory + vk * uk  # m(k) = m(k−1) + v(k) ∘ u(k)
            m_v, m_u = m_v + vk, m_u + uk  # m-DAN memories
            alphas_v.append(alpha_v)
            alphas_u.append(alpha_u)
            vs.append(vk)
            us.append(uk)
        if mode == "reasoning":
            outputs.append((memory, alphas_v, alphas_u))
        else:
            outputs.append(
                (np.concatenate(vs), np.concatenate(us), alphas_v, alphas_u)
            )
    return tuple(np.array(list(t), np.float64) for t in zip(*outputs))


def dan_similarity(v_parts, u_parts):
    """S = Σ_k v(k)·u(k) from the lists of per-step vectors."""
    return sum(np.dot(a, b) for a, b in zip(v_parts, u_parts))
