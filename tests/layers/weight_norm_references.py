"""Float64 NumPy reference of weight normalisation, W = g · V / ‖V‖."""

import numpy as np


def folded(v, g, axes=None):
    """g · V / ‖V‖: the norm of the whole V (axes None, one g), or of each
    V[i] (axes (1, 2), g[i]) for a stack of kernels."""
    v = np.asarray(v, np.float64)
    if axes is None:
        return np.asarray(g).reshape(()) * v / np.sqrt((v**2).sum())
    out = np.empty_like(v)
    for i in range(v.shape[0]):
        out[i] = np.asarray(g).reshape(-1)[i] * v[i] / np.linalg.norm(v[i])
    return out
