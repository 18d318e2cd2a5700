"""The Keras backend the tests run under, and what differs between backends.

The layer, fusion and conformance suites run under every Keras backend
(`.ci/backends` runs them with `KERAS_BACKEND=jax` and `KERAS_BACKEND=torch`
in environments without TensorFlow). Tests of TensorFlow-only features
(SavedModel, `tf.function`, `tf.distribute`) take `requires_tensorflow`,
tests that need float64 arithmetic throughout `requires_float64`;
gradients go through `input_gradients`, which works under each backend.
"""

import unittest

import keras
import numpy as np

BACKEND = keras.backend.backend()

requires_tensorflow = unittest.skipUnless(
    BACKEND == "tensorflow",
    f"a TensorFlow feature (SavedModel, tf.function or tf.distribute); "
    f"the Keras backend is {BACKEND}",
)

requires_float64 = unittest.skipUnless(
    BACKEND == "tensorflow",
    f"float64 arithmetic throughout (finite differences); the Keras backend "
    f"{BACKEND} computes float64 layers partly in float32 (see close)",
)


def input_gradients(fn, *inputs):
    """d sum(fn(*inputs)) / d inputs, as float NumPy arrays, on any backend.

    Args:
      fn: maps backend tensors to a tensor (e.g. a Keras layer call).
      *inputs: NumPy arrays, the points at which to differentiate.

    Returns:
      A list of NumPy arrays shaped like `inputs`.
    """
    if BACKEND == "tensorflow":
        import tensorflow as tf

        tensors = [tf.constant(x) for x in inputs]
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            loss = tf.reduce_sum(fn(*tensors))
        return [np.asarray(g) for g in tape.gradient(loss, tensors)]
    if BACKEND == "jax":
        import jax

        grads = jax.grad(
            lambda *xs: fn(*xs).sum(), argnums=tuple(range(len(inputs)))
        )(*inputs)
        return [np.asarray(g) for g in grads]
    if BACKEND == "torch":
        import torch

        tensors = [torch.tensor(x, requires_grad=True) for x in inputs]
        fn(*tensors).sum().backward()
        return [t.grad.detach().cpu().numpy() for t in tensors]
    raise NotImplementedError(f"no gradient for backend {BACKEND!r}")


def close(rtol=1e-10, atol=1e-10, float32=1e-5):
    """assert_allclose's tolerances for a float64 test, by backend.

    Under TensorFlow, (rtol, atol) as given. Under JAX and PyTorch, Keras's
    type promotion turns float64 into float32 (BIT64_TO_BIT32_DTYPE in
    keras/src/backend/common/dtypes.py): ops whose dtype comes from
    result_type compute a float64 layer in float32 (keras.ops.tanh under
    JAX; keras.ops.matmul of two float64 tensors under PyTorch), so there a
    float64 layer matches its reference to float32 precision: rtol and atol
    are at least `float32`.

    Example: `np.testing.assert_allclose(got, want, **backend.close())`.
    """
    if BACKEND == "tensorflow":
        return dict(rtol=rtol, atol=atol)
    return dict(rtol=max(rtol, float32), atol=max(atol, float32))


def matrix_rank(m, tol):
    """np.linalg.matrix_rank(m, tol) for a float64 test: `tol` under
    TensorFlow, at least 1e-4 where float64 layers compute in float32 (see
    close)."""
    return np.linalg.matrix_rank(
        m, tol=tol if BACKEND == "tensorflow" else max(tol, 1e-4)
    )


def as_numpy(t):
    """A backend tensor, variable or NumPy value as a NumPy array.

    np.asarray for NumPy and Python values (their dtype kept); for backend
    tensors keras.ops.convert_to_numpy, which also detaches a PyTorch tensor
    that requires grad (np.asarray refuses it).
    """
    if isinstance(t, (np.ndarray, np.generic, float, int, bool, list, tuple)):
        return np.asarray(t)
    return keras.ops.convert_to_numpy(t)


def assert_allclose(actual, desired, **kwargs):
    """np.testing.assert_allclose on backend tensors or NumPy values."""
    np.testing.assert_allclose(as_numpy(actual), as_numpy(desired), **kwargs)


def assert_array_equal(actual, desired, **kwargs):
    """np.testing.assert_array_equal on backend tensors or NumPy values."""
    np.testing.assert_array_equal(
        as_numpy(actual), as_numpy(desired), **kwargs
    )
