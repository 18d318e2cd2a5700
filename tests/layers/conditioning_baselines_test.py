"""Tests of the conditioning baselines: ConcatLinear, ConditionalBias and
ConditionalScaling."""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from mi_zoo.layers import ConcatLinear
from mi_zoo.layers import ConditionalBias
from mi_zoo.layers import ConditionalScaling
from tests import backend
from tests.backend import as_numpy
from tests.layers import references
from tests.layers import test_util

SHAPES = (
    ((3, 6), (3, 4)),
    ((3, 5, 6), (3, 4)),
    ((2, 3, 5, 6), (2, 4)),
    ((3, 5, 6), (3, 5, 4)),
)
LAYERS = (
    (lambda **kw: ConcatLinear(7, **kw), references.concat_linear),
    (lambda **kw: ConditionalBias(7, **kw), references.conditional_bias),
    (lambda **kw: ConditionalScaling(**kw), references.conditional_scaling),
)


class BaselinesTest(parameterized.TestCase):
    @parameterized.product(layer_and_reference=LAYERS, shapes=SHAPES)
    def test_matches_float64_reference(self, layer_and_reference, shapes):
        make, reference = layer_and_reference
        layer = make(dtype="float64")
        x, z = test_util.inputs(*shapes)
        layer(x, z)
        w = test_util.random_weights(layer)
        y = as_numpy(layer(x, z))
        backend.assert_allclose(y, reference(x, z, w), **backend.close())
        self.assertEqual(layer.compute_output_shape(x.shape, z.shape), y.shape)

    def test_concat_linear_equals_conditional_bias(self):
        # W[x; z] + b == Vx + zᵀU + b with W = [V; U].
        x, z = test_util.inputs((3, 5, 6), (3, 4))
        concat = ConcatLinear(7, dtype="float64")
        concat(x, z)
        w = test_util.random_weights(concat)
        bias = ConditionalBias(7, dtype="float64")
        bias(x, z)
        bias.input_kernel.assign(w["kernel"][:6])
        bias.context_kernel.assign(w["kernel"][6:])
        bias.bias.assign(w["bias"])
        backend.assert_allclose(
            concat(x, z), bias(x, z), **backend.close(rtol=1e-12, atol=0)
        )

    def test_concat_linear_has_one_kernel_of_concatenated_size(self):
        layer = ConcatLinear(7)
        layer(*test_util.inputs((2, 6), (2, 4), dtype="float32"))
        self.assertEqual(tuple(layer.kernel.shape), (10, 7))

    def test_conditional_scaling_only_shrinks(self):
        # 0 < σ(·) < 1, so |f| < |x| elementwise and signs are kept.
        layer = ConditionalScaling(dtype="float64")
        x, z = test_util.inputs((4, 6), (4, 3))
        layer(x, z)
        test_util.random_weights(layer, scale=3.0)
        y = as_numpy(layer(x, z))
        self.assertTrue((np.abs(y) < np.abs(x)).all())
        self.assertTrue((np.sign(y) == np.sign(x)).all())

    @parameterized.parameters(ConcatLinear, ConditionalBias)
    def test_activation_and_config(self, cls):
        layer = cls(5, activation="relu", use_bias=False, name="c")
        config = layer.get_config()
        self.assertEqual(cls.from_config(config).get_config(), config)
        y = layer(*test_util.inputs((4, 6), (4, 3)))
        self.assertTrue((as_numpy(y) >= 0).all())
        self.assertEqual(len(layer.weights), 1 if cls is ConcatLinear else 2)

    def test_scaling_has_no_activation(self):
        with self.assertRaisesRegex(
            ValueError,
            r"ConditionalScaling has no output activation, "
            r"got activation='tanh'",
        ):
            ConditionalScaling(activation="tanh")

    def test_scaling_config(self):
        layer = ConditionalScaling(use_bias=False)
        config = layer.get_config()
        self.assertEqual(
            ConditionalScaling.from_config(config).get_config(), config
        )

    @parameterized.parameters(ConcatLinear, ConditionalBias)
    def test_bad_units(self, cls):
        with self.assertRaisesRegex(
            ValueError,
            r"`units` must be a positive integer, got "
            r"units=0",
        ):
            cls(0)

    @parameterized.parameters(
        (lambda: ConcatLinear(3), "ConcatLinear"),
        (lambda: ConditionalBias(3), "ConditionalBias"),
        (ConditionalScaling, "ConditionalScaling"),
    )
    def test_bad_shapes_name_the_layer(self, make, name):
        with self.assertRaisesRegex(
            ValueError,
            rf"{name}: input x has shape \(3, 6\) and context "
            r"z has shape \(2, 4\); the batch sizes of x and z differ",
        ):
            make()(np.zeros((3, 6), "float32"), np.zeros((2, 4), "float32"))


if __name__ == "__main__":
    absltest.main()
