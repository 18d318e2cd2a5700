"""Tests of FiLM."""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from mi_zoo.layers import FiLM
from mi_zoo.layers import MultiplicativeInteraction
from tests import backend
from tests.backend import as_numpy
from tests.layers import references
from tests.layers import test_util


class FiLMTest(parameterized.TestCase):
    @parameterized.parameters(
        ((3, 6), (3, 4), -1),
        ((3, 5, 6), (3, 4), -1),
        ((3, 5, 6), (3, 5, 4), -1),
        ((2, 3, 4, 6), (2, 4), -1),
        ((2, 3, 4, 6), (2, 4), 3),
        ((2, 6, 3, 4), (2, 4), 1),  # channels first
        ((2, 3, 6, 4), (2, 4), 2),
        ((2, 3, 6, 4), (2, 4), -2),
    )
    def test_matches_float64_reference(self, x_shape, z_shape, axis):
        layer = FiLM(axis=axis, dtype="float64")
        x, z = test_util.inputs(x_shape, z_shape)
        layer(x, z)
        w = test_util.random_weights(layer)
        y = as_numpy(layer(x, z))
        backend.assert_allclose(
            y, references.film(x, z, w, axis), **backend.close()
        )
        self.assertEqual(layer.compute_output_shape(x.shape, z.shape), y.shape)

    def test_identity_with_zero_weights(self):
        layer = FiLM(kernel_initializer="zeros", dtype="float64")
        x, z = test_util.inputs((2, 3, 4, 6), (2, 5))
        backend.assert_array_equal(layer(x, z), x)

    def test_equals_diagonal_multiplicative_interaction(self):
        # γ = 1 + zᵀW_γ + b_γ, β = zᵀW_β + b_β is the diagonal MI with
        # W_d = W_γ, v = 1 + b_γ, U = W_β, b = b_β.
        x, z = test_util.inputs((3, 5, 6), (3, 4))
        film = FiLM(dtype="float64")
        film(x, z)
        w = test_util.random_weights(film)
        mi = MultiplicativeInteraction(form="diagonal", dtype="float64")
        mi(x, z)
        mi.kernel.assign(w["gamma_kernel"])
        mi.input_kernel.assign(1.0 + w["gamma_bias"])
        mi.context_kernel.assign(w["beta_kernel"])
        mi.bias.assign(w["beta_bias"])
        backend.assert_allclose(
            film(x, z), mi(x, z), **backend.close(rtol=1e-12, atol=0)
        )

    def test_no_bias(self):
        layer = FiLM(use_bias=False)
        layer(*test_util.inputs((2, 6), (2, 3), dtype="float32"))
        self.assertEqual(
            sorted(v.name for v in layer.weights),
            ["beta_kernel", "gamma_kernel"],
        )

    def test_config_round_trip(self):
        layer = FiLM(axis=1, use_bias=False, kernel_initializer="zeros")
        config = layer.get_config()
        self.assertEqual(FiLM.from_config(config).get_config(), config)
        self.assertEqual(config["axis"], 1)
        self.assertNotIn("activation", config)

    @parameterized.parameters(
        (dict(axis=0), r"`axis` must not be the batch axis, got axis=0"),
        (
            dict(axis="channels"),
            r"`axis` must be an integer, got "
            r"axis='channels'",
        ),
        (dict(axis=1.0), r"got axis=1.0"),
        (
            dict(activation="relu"),
            r"FiLM has no output activation, got "
            r"activation='relu'",
        ),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            FiLM(**kwargs)

    @parameterized.parameters(
        (
            (2, 6),
            (2, 4),
            3,
            r"FiLM\(axis=3\) is out of range or the batch "
            r"axis for x of shape \(2, 6\)",
        ),
        ((2, 6), (2, 4), -2, r"FiLM\(axis=-2\) is out of range"),
        ((2, 6, 5), (2, 6, 4), 1, r"z must be \[batch, m\]\.$"),
        ((2, 6), (3, 4), -1, r"the batch sizes of x and z differ"),
        ((6,), (2, 4), -1, r"out of range"),
    )
    def test_bad_shapes(self, x_shape, z_shape, axis, message):
        with self.assertRaisesRegex(ValueError, message):
            FiLM(axis=axis)(
                np.zeros(x_shape, "float32"), np.zeros(z_shape, "float32")
            )


if __name__ == "__main__":
    absltest.main()
