"""Helpers for the layer tests."""

import numpy as np


def random_weights(layer, seed=0, scale=0.5):
    """Sets every weight of a built layer to random values; returns them by
    variable name (so tests see non-trivial biases and gates, not the init)."""
    rng = np.random.default_rng(seed)
    values = {}
    for v in layer.weights:
        values[v.name] = rng.normal(scale=scale, size=v.shape)
        v.assign(values[v.name].astype(v.dtype))
    return values


def inputs(x_shape, z_shape, seed=1, dtype="float64"):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=x_shape).astype(dtype),
        rng.normal(size=z_shape).astype(dtype),
    )
