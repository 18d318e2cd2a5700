"""Normalisations shared by the pooling fusions (MCB, MFB/MFH, MUTAN, BLOCK).

These papers follow the bilinear product with a power normalisation (signed
square root) and an L2 normalisation. The helpers compute them in float32
(float64 for float64 inputs), so that under mixed precision a float16 sum of
squares cannot overflow and ε cannot underflow, and with a finite gradient
at 0. (The input checks and broadcasting of the pooling fusions are the MLB
module's `joint_shapes` and `broadcast_pair`.)
"""

import keras
from keras import ops


def wide_dtype(dtype):
    """float64 for float64, float32 for every other (narrower) float."""
    dtype = keras.backend.standardize_dtype(dtype)
    return "float64" if dtype == "float64" else "float32"


def signed_sqrt(z):
    """sign(z)·√|z|, with a zero (not NaN) gradient at z = 0.

    √|z| has an infinite derivative at 0; the inner `where` keeps the
    gradient finite there (the value at 0 is exactly 0).
    """
    a = ops.abs(z)
    nonzero = a > 0
    root = ops.sqrt(ops.where(nonzero, a, ops.ones_like(a)))
    return ops.where(nonzero, ops.sign(z) * root, ops.zeros_like(z))


def l2_normalize(z, axis=-1, epsilon=1e-12):
    """z / max(‖z‖₂, ε) along `axis` (a zero vector stays zero)."""
    squares = ops.sum(ops.square(z), axis=axis, keepdims=True)
    return z * ops.rsqrt(ops.maximum(squares, epsilon * epsilon))


def normalize(z, power, l2, axis=-1):
    """Optional signed square root, then optional L2 normalisation.

    Computed in float32 (float64 for float64 inputs) and cast back, so a
    float16 sum of squares cannot overflow and ε does not underflow.
    """
    if not (power or l2):
        return z
    dtype = keras.backend.standardize_dtype(z.dtype)
    z = ops.cast(z, wide_dtype(dtype))
    if power:
        z = signed_sqrt(z)
    if l2:
        z = l2_normalize(z, axis=axis)
    return ops.cast(z, dtype)
