"""Tests of mi_zoo.layers.ops against float64 NumPy formulas."""

from absl.testing import absltest
from absl.testing import parameterized
from keras import ops
import numpy as np

from mi_zoo.layers import ops as layer_ops
from tests import backend
from tests.backend import as_numpy

N, M, N_IN, K = 5, 4, 3, 2  # rows, context features, input features, units


def operands(seed=0):
    """x [N, n], z [N, m], w [m·n, k] and an upstream gradient dy [N, k]."""
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(N, N_IN)),
        rng.normal(size=(N, M)),
        rng.normal(size=(M * N_IN, K)),
        rng.normal(size=(N, K)),
    )


def formula_and_gradients(x, z, w, dy):
    """y = Σ_ij z_i x_j W_ij and the gradients of Σ dy ∘ y, from the formula."""
    w3 = w.reshape(M, N_IN, K)  # W [m, n, k]
    y = np.einsum("ri,rj,ijk->rk", z, x, w3)
    dx = np.einsum("ri,ijk,rk->rj", z, w3, dy)
    dz = np.einsum("rj,ijk,rk->ri", x, w3, dy)
    dw = np.einsum("ri,rj,rk->ijk", z, x, dy).reshape(M * N_IN, K)
    return y, (dx, dz, dw)


class OuterProductMatmulTest(parameterized.TestCase):
    def test_matches_the_formula_and_its_gradients(self):
        x, z, w, dy = operands()
        y, expected = formula_and_gradients(x, z, w, dy)
        backend.assert_allclose(
            layer_ops.outer_product_matmul(x, z, w), y, **backend.close()
        )
        grads = backend.input_gradients(
            lambda x, z, w: ops.multiply(
                layer_ops.outer_product_matmul(x, z, w), dy
            ),
            x,
            z,
            w,
        )
        for got, want in zip(grads, expected):
            backend.assert_allclose(got, want, **backend.close())

    @parameterized.parameters(False, True)
    @backend.requires_tensorflow
    def test_gradients_in_a_function_of_unknown_rows(self, jit_compile):
        import tensorflow as tf

        x, z, w, dy = operands(seed=1)
        _, expected = formula_and_gradients(x, z, w, dy)

        @tf.function(
            jit_compile=jit_compile,
            input_signature=[
                tf.TensorSpec((None, N_IN), tf.float64),
                tf.TensorSpec((None, M), tf.float64),
            ],
        )
        def gradients(x, z):
            with tf.GradientTape() as tape:
                tape.watch([x, z])
                y = layer_ops.outer_product_matmul(x, z, tf.constant(w))
                loss = tf.reduce_sum(y * dy)
            return tape.gradient(loss, [x, z])

        for got, want in zip(gradients(x, z), expected[:2]):
            np.testing.assert_allclose(as_numpy(got), want, rtol=1e-10)

    def test_kernel_of_the_wrong_size_is_refused(self):
        x, z, w, _ = operands()
        with self.assertRaisesRegex(
            ValueError,
            r"^`w` must have m·n = 4·3 = 12 rows \(context features times "
            r"input features\), got w.shape=\(11, 2\)\.$",
        ):
            layer_ops.outer_product_matmul(x, z, w[:11])

    def test_float32(self):
        x, z, w, _ = (a.astype("float32") for a in operands(seed=2))
        y = layer_ops.outer_product_matmul(x, z, w)
        self.assertEqual(ops.dtype(y), "float32")
        expected = np.einsum("ri,rj,ijk->rk", z, x, w.reshape(M, N_IN, K))
        np.testing.assert_allclose(as_numpy(y), expected, rtol=1e-5, atol=1e-5)


if __name__ == "__main__":
    absltest.main()
