"""Tests of the Sonnet FiLM against its Keras twin."""

import doctest
import re

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import sonnet as snt
import tensorflow as tf

from mi_zoo import layers
from mi_zoo import sonnet as mi_snt
from mi_zoo.sonnet import film as film_module
from mi_zoo.training import devices

# Before any TF op, so that all test files agree on the logical devices.
devices.split_cpu(2)

C, M = 5, 3  # channels of x, size of z

# (name, axis, x shape, z shape).
CASES = (
    ("last_rank2", -1, (3, C), (3, M)),
    ("last_rank3_broadcast", -1, (3, 4, C), (3, M)),
    ("last_rank3_matching", -1, (3, 4, C), (3, 4, M)),
    ("last_rank4_broadcast", -1, (3, 2, 4, C), (3, M)),
    ("last_rank4_matching", -1, (3, 2, 4, C), (3, 2, 4, M)),
    ("first_rank2", 1, (3, C), (3, M)),
    ("first_rank3", 1, (3, C, 4), (3, M)),
    ("first_rank4", 1, (3, C, 2, 4), (3, M)),
    ("middle_rank4", 2, (3, 2, C, 4), (3, M)),
)


def make_inputs(x_shape, z_shape, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=x_shape).astype(dtype),
        rng.normal(size=z_shape).astype(dtype),
    )


def short_name(variable):
    """'scope/gamma_kernel:0' -> 'gamma_kernel'."""
    return variable.name.split("/")[-1].split(":")[0]


def reference(axis, weights, x, z):
    """float64 NumPy FiLM from the formula, one (example, position) at a time.

    γ(z) = 1 + zᵀW_γ + b_γ and β(z) = zᵀW_β + b_β scale and shift the channel
    vector found at every position of x.
    """
    axis = axis % x.ndim
    xc = np.moveaxis(x, axis, -1)  # channels last: [B, ..., C]
    m = z.shape[-1]
    zc = z.reshape(z.shape[:1] + (1,) * (xc.ndim - z.ndim) + z.shape[1:])
    zc = np.broadcast_to(zc, xc.shape[:-1] + (m,))
    out = np.empty(xc.shape)
    for index in np.ndindex(*xc.shape[:-1]):
        z_row = zc[index]
        gamma = 1.0 + z_row @ weights["gamma_kernel"] + weights["gamma_bias"]
        beta = z_row @ weights["beta_kernel"] + weights["beta_bias"]
        out[index] = gamma * xc[index] + beta
    return np.moveaxis(out, -1, axis)


class TwinTest(parameterized.TestCase):
    """The Sonnet module equals the Keras layer with the same weights."""

    @parameterized.named_parameters(*CASES)
    def test_same_output(self, axis, x_shape, z_shape):
        x, z = make_inputs(x_shape, z_shape)
        keras_layer = layers.FiLM(axis=axis)
        module = mi_snt.FiLM(axis=axis)
        keras_layer(x, z)
        module(x, z)
        rng = np.random.default_rng(1)
        for weight in keras_layer.weights:
            weight.assign(rng.normal(size=weight.shape).astype(np.float32))
        by_name = {short_name(v): v for v in module.variables}
        self.assertEqual(
            {name: tuple(v.shape) for name, v in by_name.items()},
            {w.name: tuple(w.shape) for w in keras_layer.weights},
        )
        for weight in keras_layer.weights:
            by_name[weight.name].assign(weight.numpy())
        expected = keras_layer(x, z)
        actual = module(x, z)
        self.assertEqual(actual.shape, x_shape)
        np.testing.assert_allclose(actual, expected, atol=1e-5, rtol=0)

    @parameterized.parameters(-1, 1)
    def test_same_output_without_bias(self, axis):
        x, z = make_inputs((3, C, C), (3, M))
        keras_layer = layers.FiLM(axis=axis, use_bias=False)
        module = mi_snt.FiLM(axis=axis, with_bias=False)
        keras_layer(x, z)
        module(x, z)
        by_name = {short_name(v): v for v in module.variables}
        self.assertCountEqual(by_name, ["gamma_kernel", "beta_kernel"])
        for weight in keras_layer.weights:
            by_name[weight.name].assign(weight.numpy())
        np.testing.assert_allclose(
            module(x, z), keras_layer(x, z), atol=1e-5, rtol=0
        )


class ReferenceTest(parameterized.TestCase):
    """The module run in float64 equals a NumPy float64 reference."""

    @parameterized.named_parameters(*CASES)
    def test_matches_numpy(self, axis, x_shape, z_shape):
        x, z = make_inputs(x_shape, z_shape, dtype=np.float64, seed=2)
        module = mi_snt.FiLM(axis=axis)
        module(tf.constant(x), tf.constant(z))
        self.assertTrue(all(v.dtype == tf.float64 for v in module.variables))
        rng = np.random.default_rng(3)
        weights = {}
        for variable in module.variables:
            value = rng.normal(size=variable.shape)
            variable.assign(value)
            weights[short_name(variable)] = value
        actual = module(tf.constant(x), tf.constant(z))
        self.assertEqual(actual.dtype, tf.float64)
        np.testing.assert_allclose(
            actual, reference(axis, weights, x, z), atol=1e-10, rtol=1e-10
        )


class BehaviourTest(parameterized.TestCase):
    def test_zero_kernels_and_biases_give_identity(self):
        module = mi_snt.FiLM(w_init=snt.initializers.Zeros())
        x, z = make_inputs((3, 4, C), (3, M))
        np.testing.assert_array_equal(module(x, z), x)

    def test_variables_and_names(self):
        module = mi_snt.FiLM(axis=1)
        module(*make_inputs((3, C, 4), (3, M)))
        self.assertEqual(module.name, "film")
        self.assertEqual(
            sorted(v.name for v in module.variables),
            [
                "film/beta_bias:0",
                "film/beta_kernel:0",
                "film/gamma_bias:0",
                "film/gamma_kernel:0",
            ],
        )
        self.assertEqual(module.gamma_kernel.shape, (M, C))
        self.assertEqual(module.beta_bias.shape, (C,))

    def test_custom_initializers(self):
        module = mi_snt.FiLM(
            w_init=snt.initializers.Ones(),
            b_init=snt.initializers.Constant(0.5),
        )
        module(*make_inputs((3, C), (3, M)))
        np.testing.assert_array_equal(module.beta_kernel.numpy(), 1.0)
        np.testing.assert_array_equal(module.gamma_bias.numpy(), 0.5)

    def test_docstring_example(self):
        result = doctest.testmod(film_module)
        self.assertGreater(result.attempted, 0)
        self.assertEqual(result.failed, 0)


class BadInputTest(parameterized.TestCase):
    def test_batch_axis(self):
        with self.assertRaisesRegex(
            ValueError,
            re.escape("`axis` must not be the batch axis, got axis=0."),
        ):
            mi_snt.FiLM(axis=0)

    @parameterized.parameters(1.0, "1", True)
    def test_non_int_axis(self, axis):
        with self.assertRaisesRegex(
            ValueError,
            re.escape(f"`axis` must be an integer, got axis={axis!r}."),
        ):
            mi_snt.FiLM(axis=axis)

    @parameterized.parameters(3, -3)
    def test_axis_out_of_range(self, axis):
        module = mi_snt.FiLM(axis=axis)
        with self.assertRaisesRegex(
            ValueError,
            re.escape(
                f"FiLM(axis={axis}) is out of range or the batch "
                f"axis for x of shape (3, {C})."
            ),
        ):
            module(tf.ones([3, C]), tf.ones([3, M]))

    def test_b_init_without_bias(self):
        with self.assertRaisesRegex(
            ValueError,
            re.escape("When not using a bias the b_init must be None."),
        ):
            mi_snt.FiLM(with_bias=False, b_init=snt.initializers.Zeros())

    def test_x_of_rank_one(self):
        module = mi_snt.FiLM()
        with self.assertRaisesRegex(
            ValueError,
            re.escape(
                f"FiLM(axis=-1) is out of range or the batch axis "
                f"for x of shape ({C},)."
            ),
        ):
            module(tf.ones([C]), tf.ones([3, M]))

    def test_mismatched_batch_sizes(self):
        module = mi_snt.FiLM(axis=1)
        with self.assertRaisesRegex(
            ValueError,
            re.escape(
                f"FiLM(axis=1): input x has shape (3, 4, {C}) and "
                f"context z has shape (2, {M}); the batch sizes of "
                "x and z differ."
            ),
        ):
            module(tf.ones([3, C, 4]), tf.ones([2, M]))

    def test_matching_context_needs_last_axis(self):
        module = mi_snt.FiLM(axis=1)
        with self.assertRaisesRegex(
            ValueError, re.escape("; z must be [batch, m].")
        ):
            module(tf.ones([3, C, 4]), tf.ones([3, 4, M]))

    def test_sizes_differ_from_first_call(self):
        module = mi_snt.FiLM()
        module(tf.ones([3, C]), tf.ones([3, M]))
        with self.assertRaisesRegex(
            ValueError,
            re.escape(
                f"film was built for x with C={C} and z with m={M}, "
                f"got x of shape (3, {C}) and z of shape "
                f"(3, {M + 1})."
            ),
        ):
            module(tf.ones([3, C]), tf.ones([3, M + 1]))


if __name__ == "__main__":
    absltest.main()
