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


def tiled_call(layer):
    """fn(x, y) = layer(x, y) with the lower-rank input ([B, f]) first
    repeated over the other's middle axes, so both have the same rank:
    the call without broadcasting, for tests that compare a layer's
    broadcasting path with its row-by-row one (values and gradients)."""
    from keras import ops  # noqa: PLC0415

    def tile(small, big):
        lead = tuple(big.shape[:-1])
        small = ops.reshape(small, lead[:1] + (1,) * (len(lead) - 1) + (-1,))
        return ops.broadcast_to(small, lead + (small.shape[-1],))

    def call(x, y):
        if len(x.shape) < len(y.shape):
            x = tile(x, y)
        elif len(y.shape) < len(x.shape):
            y = tile(y, x)
        return layer(x, y)

    return call


def finite_differences(fn, *inputs, step=1e-6):
    """d sum(fn(*inputs)) / d inputs by central differences, in float64:
    a reference for `tests.backend.input_gradients` that knows nothing of
    how the layer computes (use small inputs: two calls per element; only
    where float64 layers compute in float64: `backend.requires_float64`)."""
    from tests.backend import as_numpy  # noqa: PLC0415

    inputs = [np.array(t, dtype="float64") for t in inputs]
    grads = []
    for t in inputs:
        grad = np.zeros_like(t)
        for index in np.ndindex(t.shape):
            value = t[index]
            t[index] = value + step
            up = as_numpy(fn(*inputs)).sum()
            t[index] = value - step
            down = as_numpy(fn(*inputs)).sum()
            t[index] = value
            grad[index] = (up - down) / (2 * step)
        grads.append(grad)
    return grads


def assert_matches_tiled_call(layer, x, y, tolerance=1e-12):
    """Asserts that layer(x, y), one input broadcast over the other's
    middle axes, equals `tiled_call(layer)(x, y)` in its values and in its
    gradients with respect to x and y (float64 tests)."""
    from tests import backend  # noqa: PLC0415

    tiled = tiled_call(layer)
    close = backend.close(rtol=tolerance, atol=tolerance)
    backend.assert_allclose(layer(x, y), tiled(x, y), **close)
    # Where float64 layers compute in float32 (JAX, PyTorch), gradients
    # through a signed square root and L2 norm magnify the two orders'
    # rounding differences (6e-5 relative seen under PyTorch).
    close = backend.close(rtol=tolerance, atol=tolerance, float32=1e-3)
    for got, expected in zip(
        backend.input_gradients(layer, x, y),
        backend.input_gradients(tiled, x, y),
    ):
        backend.assert_allclose(got, expected, **close)
