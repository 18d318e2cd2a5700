"""Float64 NumPy helpers shared by the references of the fusion layers.

The activations, the broadcasting of a [B, f] input over the middle axes of
the other one, and the softmax over the valid positions of a row.
"""

import numpy as np


def relu(t):
    return np.maximum(t, 0.0)


def identity(t):
    return t


def float64(*arrays):
    """The arrays as float64 NumPy arrays (a list)."""
    return [np.asarray(a, np.float64) for a in arrays]


def lift(a, rank):
    """[B, f] -> [B, 1, ..., 1, f] of the given rank (NumPy broadcasting)."""
    while a.ndim < rank:
        a = a[:, None]
    return a


def pair(x, y):
    """x, y as float64, the lower-rank one lifted to the other's rank."""
    x, y = float64(x, y)
    rank = max(x.ndim, y.ndim)
    return lift(x, rank), lift(y, rank)


def masked_softmax(scores, valid):
    """Softmax of `scores` over its valid entries (any shape, jointly);
    zeros at the others, all zeros when none is valid."""
    if not valid.any():
        return np.zeros_like(scores)
    e = np.where(valid, np.exp(scores - scores[valid].max()), 0.0)
    return e / e.sum()
