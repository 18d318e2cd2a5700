"""Tests of FactorizedBilinearPooling (MFB / MFH) against the papers."""

import itertools

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.fusion import FactorizedBilinearPooling
from tests import backend
from tests.backend import as_numpy
from tests.fusion import mlb_references
from tests.fusion import pooling_references as ref
from tests.layers import test_util

SHAPES = (
    ((3, 6), (3, 5)),
    ((3, 6), (3, 4, 5)),
    ((3, 2, 6), (3, 5)),
    ((3, 2, 6), (3, 2, 5)),
)


def make(units=4, factor=3, order=1, dtype="float64", **kwargs):
    return FactorizedBilinearPooling(
        units, factor=factor, order=order, dtype=dtype, **kwargs
    )


def run(layer, x, y, seed=0, **call_kwargs):
    layer(x, y)
    weights = test_util.random_weights(layer, seed)
    return as_numpy(layer(x, y, **call_kwargs)), weights


def linear_layer(order=1, **kwargs):
    """No bias, no normalisation, no dropout: a pure polynomial in x, y."""
    return make(
        order=order,
        use_bias=False,
        dropout=0.0,
        power_normalize=False,
        l2_normalize=False,
        **kwargs,
    )


class FormulaTest(parameterized.TestCase):
    @parameterized.product(order=(1, 2, 3), shapes=SHAPES)
    def test_matches_float64_reference(self, order, shapes):
        # Default dropout (0.1) is inactive at inference.
        x, y = test_util.inputs(*shapes)
        z, w = run(make(order=order), x, y)
        expected = ref.mfh(x, y, w, 4, 3, order)
        self.assertEqual(z.shape, expected.shape)
        backend.assert_allclose(z, expected, **backend.close())

    @parameterized.product(
        power=(False, True), l2=(False, True), use_bias=(False, True)
    )
    def test_options(self, power, l2, use_bias):
        x, y = test_util.inputs((4, 6), (4, 3, 5))
        layer = make(
            order=2, power_normalize=power, l2_normalize=l2, use_bias=use_bias
        )
        z, w = run(layer, x, y)
        expected = ref.mfh(x, y, w, 4, 3, 2, power, l2)
        # The signed square root amplifies float32 rounding near zero.
        backend.assert_allclose(
            z, expected, **backend.close(float32=1e-3 if power else 1e-5)
        )
        if l2:
            norms = np.linalg.norm(z.reshape(4, 3, 2, 4), axis=-1)
            backend.assert_allclose(
                norms, 1.0, **backend.close(rtol=1e-12, atol=0)
            )

    @parameterized.parameters(1, 2, 3)
    @backend.requires_float64
    def test_gradients_match_finite_differences(self, order):
        # The stages' blocks are split, not sliced: their gradients must
        # still reach the whole projections.
        layer = make(order=order)
        x, y = test_util.inputs((2, 5), (2, 3, 6))
        run(layer, x, y)
        for got, expected in zip(
            backend.input_gradients(layer, x, y),
            test_util.finite_differences(layer, x, y),
        ):
            backend.assert_allclose(
                got, expected, **backend.close(rtol=1e-6, atol=1e-8)
            )

    def test_mfb_is_the_first_block_of_mfh(self):
        x, y = test_util.inputs((4, 6), (4, 5))
        mfh, w = run(make(order=2), x, y)
        mfb = make(order=1)
        mfb(x, y)
        # Block 0 holds columns [0, o·k) of both kernels.
        for name in ("x_kernel", "y_kernel", "x_bias", "y_bias"):
            getattr(mfb, name).assign(w[name][..., :12])
        backend.assert_allclose(
            mfb(x, y), mfh[:, :4], **backend.close(rtol=1e-12, atol=0)
        )

    def test_dropout_acts_on_the_expanded_product(self):
        # In training, each pooled output is a (rescaled) subset sum of its
        # k expanded products: dropout sits between product and sum pooling.
        x, y = test_util.inputs((1, 6), (1, 5))
        layer = make(
            units=3,
            factor=2,
            dropout=0.5,
            power_normalize=False,
            l2_normalize=False,
            seed=1,
        )
        _, w = run(layer, x, y)
        e = (
            (x @ w["x_kernel"] + w["x_bias"])
            * (y @ w["y_kernel"] + w["y_bias"])
        ).reshape(3, 2)
        sums = (
            np.stack(
                [
                    e @ np.array(mask)
                    for mask in itertools.product((0.0, 1.0), repeat=2)
                ],
                -1,
            )
            / 0.5
        )
        xs, ys = np.repeat(x, 200, 0), np.repeat(y, 200, 0)
        z = as_numpy(layer(xs, ys, training=True))  # [200, 3]
        distance = np.abs(z[:, :, None] - sums[None]).min(-1)
        backend.assert_allclose(
            distance, 0.0, **backend.close(rtol=1e-7, atol=1e-12)
        )
        self.assertGreater(len(np.unique(z[:, 0].round(9))), 2)

    @parameterized.parameters(1, 2)
    def test_dropout_is_unbiased(self, order):
        # E[dropout(e)] = e, and the masks of the blocks are independent.
        x, y = test_util.inputs((1, 6), (1, 5))
        layer = make(
            order=order,
            dropout=0.2,
            power_normalize=False,
            l2_normalize=False,
            seed=2,
        )
        expected, _ = run(layer, x, y)
        xs, ys = np.repeat(x, 20000, 0), np.repeat(y, 20000, 0)
        z = as_numpy(layer(xs, ys, training=True))
        error = z.std(0) / np.sqrt(len(z))
        np.testing.assert_array_less(
            np.abs(z.mean(0) - expected[0]), 5 * error + 1e-12
        )
        self.assertGreater(error.min(), 0)


class StructureTest(parameterized.TestCase):
    """Properties that hold whatever the weights."""

    def test_mfb_is_bilinear(self):
        layer = linear_layer()
        x1, y1 = test_util.inputs((4, 6), (4, 5), seed=2)
        x2, y2 = test_util.inputs((4, 6), (4, 5), seed=3)
        run(layer, x1, y1)
        f = lambda x, y: as_numpy(layer(x, y))
        a, b = 1.7, -0.6
        backend.assert_allclose(
            f(a * x1 + b * x2, y1),
            a * f(x1, y1) + b * f(x2, y1),
            **backend.close(rtol=1e-7, atol=1e-12),
        )
        backend.assert_allclose(
            f(x1, a * y1 + b * y2),
            a * f(x1, y1) + b * f(x1, y2),
            **backend.close(rtol=1e-7, atol=1e-12),
        )

    @parameterized.parameters(1, 2, 3)
    def test_block_i_has_degree_i_in_each_input(self, order):
        # MFH: block i multiplies i bilinear products, so it scales as aⁱ.
        layer = linear_layer(order=order)
        x, y = test_util.inputs((4, 6), (4, 5), seed=2)
        z, _ = run(layer, x, y)
        zx = as_numpy(layer(2.0 * x, y)).reshape(4, order, 4)
        zy = as_numpy(layer(x, -3.0 * y)).reshape(4, order, 4)
        z = z.reshape(4, order, 4)
        for i in range(order):
            backend.assert_allclose(
                zx[:, i], 2.0 ** (i + 1) * z[:, i], **backend.close(atol=0)
            )
            backend.assert_allclose(
                zy[:, i], (-3.0) ** (i + 1) * z[:, i], **backend.close(atol=0)
            )

    @parameterized.parameters(1, 2, 4)
    def test_each_bilinear_form_has_rank_at_most_factor(self, factor):
        # zⱼ = xᵀWⱼy with Wⱼ = Σ_t u_{jt} v_{jt}ᵀ: rank(Wⱼ) <= k.
        layer = linear_layer(units=3, factor=factor)
        run(layer, *test_util.inputs((1, 6), (1, 5)))
        xs = np.repeat(np.eye(6), 5, 0)
        ys = np.tile(np.eye(5), (6, 1))
        forms = as_numpy(layer(xs, ys)).reshape(6, 5, 3)
        for j in range(3):
            self.assertEqual(backend.matrix_rank(forms[:, :, j], 1e-9), factor)

    @parameterized.parameters(1, 2)
    def test_broadcast_equals_a_call_per_position(self, order):
        layer = make(order=order)
        x, y = test_util.inputs((3, 6), (3, 4, 5))
        z, _ = run(layer, x, y)
        for s in range(4):
            backend.assert_allclose(
                z[:, s],
                layer(x, y[:, s]),
                **backend.close(rtol=1e-12, atol=1e-12),
            )


class KerasApiTest(parameterized.TestCase):
    def test_config_round_trip(self):
        layer = make(
            order=2,
            dropout=0.3,
            seed=4,
            power_normalize=False,
            kernel_regularizer="l2",
            name="mfh",
        )
        clone = FactorizedBilinearPooling.from_config(layer.get_config())
        self.assertEqual(clone.get_config(), layer.get_config())
        for key in (
            "units",
            "factor",
            "order",
            "dropout",
            "power_normalize",
            "l2_normalize",
            "seed",
            "use_bias",
            "kernel_initializer",
            "bias_initializer",
            "kernel_regularizer",
            "bias_regularizer",
            "activity_regularizer",
            "kernel_constraint",
            "bias_constraint",
        ):
            self.assertIn(key, layer.get_config())
        self.assertNotIn("activation", layer.get_config())

    @parameterized.product(order=(1, 2), shapes=SHAPES)
    def test_compute_output_shape(self, order, shapes):
        layer = make(order=order)
        x, y = test_util.inputs(*shapes)
        self.assertEqual(
            layer.compute_output_shape(x.shape, y.shape), layer(x, y).shape
        )

    def test_symbolic_call_with_unknown_batch(self):
        x, y = keras.Input((6,)), keras.Input((4, 5))
        z = FactorizedBilinearPooling(3, order=2)(x, y)
        self.assertEqual(tuple(z.shape), (None, 4, 6))

    def test_builds_lazily(self):
        layer = make()
        self.assertFalse(layer.built)
        self.assertEmpty(layer.weights)
        layer(*test_util.inputs((2, 6), (2, 5)))
        self.assertEqual(
            sorted(v.name for v in layer.weights),
            ["x_bias", "x_kernel", "y_bias", "y_kernel"],
        )

    @parameterized.parameters(
        # p·k·o·(n + m + 2), without the 2 when use_bias=False.
        (1, True, 1 * 3 * 4 * (6 + 5 + 2)),
        (2, True, 2 * 3 * 4 * (6 + 5 + 2)),
        (2, False, 2 * 3 * 4 * (6 + 5)),
    )
    def test_parameter_count(self, order, use_bias, count):
        layer = make(order=order, use_bias=use_bias)
        layer(*test_util.inputs((2, 6), (2, 3, 5)))
        self.assertEqual(layer.count_params(), count)

    def test_paper_defaults(self):
        layer = FactorizedBilinearPooling()
        self.assertEqual(
            (layer.units, layer.factor, layer.order, layer.dropout),
            (1000, 5, 1, 0.1),
        )
        layer(*test_util.inputs((2, 8), (2, 7), dtype="float32"))
        self.assertEqual(layer.count_params(), 5000 * (8 + 7 + 2))


class BadInputTest(parameterized.TestCase):
    @parameterized.parameters(
        (dict(units=0), r"`units` must be a positive integer, got units=0"),
        (
            dict(factor=2.0),
            r"`factor` must be a positive integer, got "
            r"factor=2.0",
        ),
        (dict(order=0), r"`order` must be a positive integer, got order=0"),
        (dict(order=True), r"got order=True"),
        (
            dict(dropout=1.0),
            r"`dropout` must be a number in \[0, 1\), got "
            r"dropout=1.0",
        ),
        (dict(dropout=-0.1), r"got dropout=-0.1"),
        (
            dict(power_normalize="yes"),
            r"`power_normalize` must be a bool, "
            r"got power_normalize='yes'",
        ),
        (dict(l2_normalize=None), r"got l2_normalize=None"),
        (dict(seed="a"), r"`seed` must be an integer, got seed='a'"),
        (
            dict(dropout=0.0, seed=3),
            r"`seed` only seeds the dropout, which "
            r"is off; got seed=3 with dropout=0.0",
        ),
        (
            dict(activation="relu"),
            r"FactorizedBilinearPooling has no output "
            r"activation, got activation='relu'",
        ),
        (dict(use_bias=1), r"got use_bias=1"),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            FactorizedBilinearPooling(**kwargs)

    def test_unknown_argument(self):
        with self.assertRaisesRegex(
            ValueError, r"Unrecognized keyword arguments.*'k'"
        ):
            FactorizedBilinearPooling(k=5)

    @parameterized.parameters(
        (
            (6,),
            (3, 4),
            r"FactorizedBilinearPooling: x has shape \(6,\) and "
            r"y has shape \(3, 4\); x must have rank >= 2",
        ),
        ((3, 6), (5, 4), r"the batch sizes of x and y differ"),
        ((3, 5, 6), (3, 4, 4), r"the leading axes of x and y differ"),
        ((3, 2, 5, 6), (3, 5, 4), r"inputs of different ranks need"),
    )
    def test_bad_shapes(self, x_shape, y_shape, message):
        layer = FactorizedBilinearPooling(4)
        with self.assertRaisesRegex(ValueError, message):
            layer(np.zeros(x_shape, "float32"), np.zeros(y_shape, "float32"))

    def test_unknown_feature_size(self):
        with self.assertRaisesRegex(
            ValueError,
            r"the last axes of x and y "
            r"must be known",
        ):
            FactorizedBilinearPooling(4).build((None, 3), (None, None))


# block.bootstrap.pytorch's MFH: ReLU in and out, an output projection.
BLOCK_OPTIONS = dict(
    input_activation="relu",
    dropout_input=0.1,
    output_units=3,
    output_activation="relu",
    dropout_output=0.2,
)


class BlockOptionsTest(parameterized.TestCase):
    """block.bootstrap's options: the projections' activation and dropout,
    the output projection, its activation and the output dropout."""

    @parameterized.product(
        order=(1, 2),
        shapes=SHAPES,
        output_units=(None, 3),
        activations=(("relu", "sigmoid"), ("tanh", None)),
    )
    def test_matches_float64_reference(
        self, order, shapes, output_units, activations
    ):
        x, y = test_util.inputs(*shapes)
        layer = make(
            order=order,
            input_activation=activations[0],
            output_units=output_units,
            output_activation=activations[1],
        )
        z, w = run(layer, x, y)
        expected = ref.mfh(
            x,
            y,
            w,
            4,
            3,
            order,
            input_activation=mlb_references.ACTIVATIONS[activations[0]],
            output_activation=mlb_references.ACTIVATIONS[activations[1]],
        )
        self.assertEqual(z.shape, expected.shape)
        self.assertEqual(z.shape[-1], output_units or order * 4)
        # The signed square root amplifies float32 rounding near zero.
        backend.assert_allclose(z, expected, **backend.close(float32=1e-3))

    def test_block_configuration_at_inference(self):
        # The three dropouts are the identity at inference.
        x, y = test_util.inputs((4, 6), (4, 3, 5))
        z, w = run(make(order=2, **BLOCK_OPTIONS), x, y, training=False)
        relu = mlb_references.ACTIVATIONS["relu"]
        expected = ref.mfh(x, y, w, 4, 3, 2, True, True, relu, relu)
        backend.assert_allclose(z, expected, **backend.close(float32=1e-3))

    def test_dropout_input_drops_each_projection_after_its_activation(self):
        # factor 1, one block, no normalisation: zⱼ = σ(aⱼ)·σ(bⱼ), so each
        # output is 0 or z/(1 - r)² (dropping before the sigmoid would give
        # σ(0) = 1/2), kept with probability (1 - r)² = 0.25: independent
        # masks for x and y (one shared mask would keep half).
        rate = 0.5
        layer = make(
            units=8,
            factor=1,
            dropout=0.0,
            power_normalize=False,
            l2_normalize=False,
            input_activation="sigmoid",
            dropout_input=rate,
        )
        x, y = test_util.inputs((100, 6), (100, 5))
        z, _ = run(layer, x, y, training=False)
        dropped = as_numpy(layer(x, y, training=True))
        zero = dropped == 0.0
        kept = np.isclose(dropped, z / (1 - rate) ** 2, rtol=1e-10, atol=0)
        self.assertTrue((zero | kept).all())
        self.assertBetween(kept.mean(), 0.18, 0.32)

    def test_dropout_output_drops_after_the_output_activation(self):
        rate = 0.5
        layer = make(
            order=2,
            dropout=0.0,
            output_units=6,
            output_activation="sigmoid",
            dropout_output=rate,
        )
        x, y = test_util.inputs((50, 6), (50, 5))
        z, _ = run(layer, x, y, training=False)
        dropped = as_numpy(layer(x, y, training=True))
        zero = dropped == 0.0
        kept = np.isclose(dropped, z / (1 - rate), rtol=1e-10, atol=0)
        self.assertTrue((zero | kept).all())
        self.assertBetween(kept.mean(), 0.4, 0.6)

    def test_seed_makes_the_dropouts_repeatable(self):
        x, y = test_util.inputs((8, 6), (8, 3, 5))
        outputs = []
        for seed in (7, 7, 8):
            layer = make(order=2, seed=seed, **BLOCK_OPTIONS)
            run(layer, x, y)
            outputs.append(as_numpy(layer(x, y, training=True)))
        backend.assert_array_equal(outputs[0], outputs[1])
        self.assertFalse(np.array_equal(outputs[0], outputs[2]))

    @parameterized.parameters(
        # p·k·o·(n + m + 2) + (p·o + 1)·u, without the biases' terms when
        # use_bias=False.
        (1, True, 1 * 3 * 4 * (6 + 5 + 2) + (1 * 4 + 1) * 7),
        (2, True, 2 * 3 * 4 * (6 + 5 + 2) + (2 * 4 + 1) * 7),
        (2, False, 2 * 3 * 4 * (6 + 5) + 2 * 4 * 7),
    )
    def test_parameter_count_with_output_units(self, order, use_bias, count):
        layer = make(order=order, use_bias=use_bias, output_units=7)
        layer(*test_util.inputs((2, 6), (2, 3, 5)))
        self.assertEqual(layer.count_params(), count)
        self.assertEqual(
            sorted(v.name for v in layer.trainable_weights),
            sorted(
                ["x_kernel", "y_kernel", "output_kernel"]
                + use_bias * ["x_bias", "y_bias", "output_bias"]
            ),
        )

    @parameterized.product(shapes=SHAPES, output_units=(None, 2))
    def test_compute_output_shape(self, shapes, output_units):
        layer = make(order=2, output_units=output_units)
        x, y = test_util.inputs(*shapes)
        self.assertEqual(
            layer.compute_output_shape(x.shape, y.shape), layer(x, y).shape
        )

    def test_config_round_trip(self):
        layer = make(order=2, seed=5, **BLOCK_OPTIONS)
        config = layer.get_config()
        self.assertEqual(
            {key: config[key] for key in BLOCK_OPTIONS}, BLOCK_OPTIONS
        )
        clone = FactorizedBilinearPooling.from_config(config)
        self.assertEqual(clone.get_config(), config)
        x, y = test_util.inputs((4, 6), (4, 3, 5))
        z, w = run(layer, x, y)
        clone(x, y)
        for variable in clone.weights:
            variable.assign(w[variable.name])
        backend.assert_array_equal(clone(x, y), z)

    @parameterized.parameters(
        (
            dict(output_units=0),
            r"`output_units` must be a positive integer, got "
            r"output_units=0\.$",
        ),
        (dict(output_units=2.0), r"got output_units=2.0\.$"),
        (
            dict(dropout_input=1.0),
            r"`dropout_input` must be a number in \[0, 1\), got "
            r"dropout_input=1.0\.$",
        ),
        (
            dict(dropout_output="0.5"),
            r"`dropout_output` must be a number in \[0, 1\), got "
            r"dropout_output='0.5'\.$",
        ),
        (
            dict(input_activation="nope"),
            r"Could not interpret activation function identifier: nope$",
        ),
        (
            dict(output_activation="nope"),
            r"Could not interpret activation function identifier: nope$",
        ),
        (
            dict(dropout=0.0, seed=3),
            r"`seed` only seeds the dropout, which is off; got seed=3 with "
            r"dropout=0.0 and dropout_input=0.0 and dropout_output=0.0\.$",
        ),
    )
    def test_bad_options(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            FactorizedBilinearPooling(**kwargs)


if __name__ == "__main__":
    absltest.main()
