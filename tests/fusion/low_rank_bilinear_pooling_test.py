"""Tests of LowRankBilinearPooling (MLB) against the paper and its structure."""

import doctest

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.fusion import LowRankBilinearPooling
from mi_zoo.fusion import low_rank_bilinear_pooling as mlb_module
from tests import backend
from tests.backend import as_numpy
from tests.fusion import mlb_references as references
from tests.layers import test_util

# (x shape, y shape): plain vectors, a question against S regions (and a
# grid), matching leading axes, and the broadcast the other way round.
SHAPES = (
    ((3, 6), (3, 4)),
    ((3, 6), (3, 5, 4)),
    ((3, 6), (3, 2, 5, 4)),
    ((3, 5, 6), (3, 5, 4)),
    ((3, 5, 6), (3, 4)),
)


def make(joint_size=5, dtype="float64", **kwargs):
    return LowRankBilinearPooling(joint_size, dtype=dtype, **kwargs)


def run(layer, x, y, seed=0, **call_kwargs):
    layer(x, y)
    weights = test_util.random_weights(layer, seed)
    return as_numpy(layer(x, y, **call_kwargs)), weights


class FormulaTest(parameterized.TestCase):
    @parameterized.product(
        shapes=SHAPES,
        position=("before", "after"),
        shortcut=(False, True),
        units=(None, 3),
    )
    def test_matches_float64_reference(
        self, shapes, position, shortcut, units
    ):
        x, y = test_util.inputs(*shapes)
        layer = make(
            units=units, activation_position=position, use_shortcut=shortcut
        )
        f, w = run(layer, x, y)
        expected = references.mlb(x, y, w, "tanh", position, shortcut)
        self.assertEqual(f.shape, expected.shape)
        backend.assert_allclose(f, expected, **backend.close())

    @parameterized.parameters("relu", "sigmoid", None)
    def test_other_activations(self, activation):
        x, y = test_util.inputs((4, 6), (4, 3, 5))
        f, w = run(make(units=2, activation=activation), x, y)
        expected = references.mlb(x, y, w, activation)
        backend.assert_allclose(f, expected, **backend.close())

    def test_without_biases(self):
        x, y = test_util.inputs((4, 6), (4, 5))
        f, w = run(make(units=3, use_bias=False), x, y)
        self.assertEqual(sorted(w), ["output_kernel", "x_kernel", "y_kernel"])
        backend.assert_allclose(f, references.mlb(x, y, w), **backend.close())

    @parameterized.parameters(
        # n·d + m·d + 2d, + d·k + k with units, + (n + m)·out with shortcuts.
        (dict(), 6 * 5 + 4 * 5 + 2 * 5),
        (dict(units=3), 6 * 5 + 4 * 5 + 2 * 5 + 5 * 3 + 3),
        (dict(units=3, use_bias=False), 6 * 5 + 4 * 5 + 5 * 3),
        (
            dict(units=3, use_shortcut=True),
            6 * 5 + 4 * 5 + 2 * 5 + 5 * 3 + 3 + (6 + 4) * 3,
        ),
        (dict(use_shortcut=True), 6 * 5 + 4 * 5 + 2 * 5 + (6 + 4) * 5),
        (dict(units=3, dropout=0.5), 6 * 5 + 4 * 5 + 2 * 5 + 5 * 3 + 3),
    )
    def test_parameter_count(self, kwargs, count):
        layer = make(**kwargs)
        layer(*test_util.inputs((2, 6), (2, 4)))
        self.assertEqual(layer.count_params(), count)


class StructureTest(parameterized.TestCase):
    """Properties that hold whatever the weights."""

    def linear_layer(self, units=4, joint_size=3):
        layer = make(joint_size, units=units, activation=None, use_bias=False)
        run(layer, *test_util.inputs((2, 6), (2, 5)))
        return layer

    def test_linear_mlb_is_bilinear(self):
        layer = self.linear_layer()
        f = lambda x, y: as_numpy(layer(x, y))
        x1, y1 = test_util.inputs((4, 6), (4, 5), seed=2)
        x2, y2 = test_util.inputs((4, 6), (4, 5), seed=3)
        a, b = 1.3, -0.7
        backend.assert_allclose(
            f(a * x1 + b * x2, y1),
            a * f(x1, y1) + b * f(x2, y1),
            **backend.close(rtol=1e-9, atol=1e-9),
        )
        backend.assert_allclose(
            f(x1, a * y1 + b * y2),
            a * f(x1, y1) + b * f(x1, y2),
            **backend.close(rtol=1e-9, atol=1e-9),
        )

    def test_linear_mlb_is_the_low_rank_bilinear_form(self):
        # f_i = xᵀ W_i y with W_i = U diag(P_i) Vᵀ of rank <= d.
        layer = self.linear_layer(units=4, joint_size=3)
        w = {v.name: as_numpy(v) for v in layer.weights}
        forms = references.mlb_as_bilinear_forms(w)  # [k, n, m]
        x, y = test_util.inputs((4, 6), (4, 5), seed=4)
        backend.assert_allclose(
            layer(x, y),
            np.einsum("bn,knm,bm->bk", x, forms, y),
            **backend.close(),
        )
        for form in forms:
            self.assertEqual(backend.matrix_rank(form, 1e-8), 3)

    def test_jacobian_rank_is_at_most_joint_size(self):
        # ∂f/∂x at fixed y = Pᵀ diag(Vᵀy) Uᵀ has rank <= d.
        layer = self.linear_layer(units=7, joint_size=2)
        _, y = test_util.inputs((6, 6), (1, 5), seed=5)
        jac = as_numpy(layer(np.eye(6), np.repeat(y, 6, axis=0))).T
        self.assertEqual(jac.shape, (7, 6))
        self.assertEqual(backend.matrix_rank(jac, 1e-8), 2)

    @parameterized.parameters(
        ((3, 6), (3, 5, 4)), ((3, 6), (3, 2, 5, 4)), ((3, 5, 6), (3, 4))
    )
    def test_broadcast_equals_calling_per_position(self, x_shape, y_shape):
        layer = make(units=3, use_shortcut=True)
        x, y = test_util.inputs(x_shape, y_shape)
        f, _ = run(layer, x, y)
        if len(x_shape) == 2:
            rows = y.reshape(3, -1, 4)
            per = [
                as_numpy(layer(x, rows[:, i])) for i in range(rows.shape[1])
            ]
        else:
            per = [as_numpy(layer(x[:, i], y)) for i in range(5)]
        backend.assert_allclose(
            f.reshape(3, -1, 3),
            np.stack(per, 1),
            **backend.close(rtol=1e-12, atol=1e-12),
        )

    def test_zero_projection_of_y_gives_shortcut_plus_bias(self):
        # σ(0) = 0 for tanh: with V = 0, b_y = 0 only b + h_x + h_y remain.
        layer = make(units=3, use_shortcut=True)
        x, y = test_util.inputs((3, 6), (3, 4))
        f, w = run(layer, x, y)
        layer.y_kernel.assign(np.zeros((4, 5)))
        layer.y_bias.assign(np.zeros(5))
        expected = (
            w["bias"] + x @ w["x_shortcut_kernel"] + y @ w["y_shortcut_kernel"]
        )
        backend.assert_allclose(
            layer(x, y), expected, **backend.close(rtol=1e-12, atol=0)
        )


class DropoutTest(parameterized.TestCase):
    def test_inference_ignores_dropout(self):
        x, y = test_util.inputs((4, 6), (4, 3, 5))
        layer = make(units=3, dropout=0.5, use_shortcut=True)
        f, w = run(layer, x, y, training=False)
        backend.assert_allclose(
            f, references.mlb(x, y, w, shortcut=True), **backend.close()
        )
        backend.assert_allclose(layer(x, y), f, rtol=0, atol=0)

    def test_drops_the_projections_before_the_product(self):
        # units=None: f = drop(σ(Uᵀx+b_x)) ∘ drop(σ(Vᵀy+b_y)), so every entry
        # is 0 or z/(1-r)² with z the entry without dropout, and a question
        # unit dropped once is zero at all S positions of its example.
        rate = 0.5
        layer = make(6, dropout=rate)
        x, y = test_util.inputs((40, 6), (40, 8, 4))
        z, _ = run(layer, x, y, training=False)
        f = as_numpy(layer(x, y, training=True))  # [40, 8, 6]
        zero = np.isclose(f, 0.0, atol=1e-14)
        kept = np.isclose(f, z / (1 - rate) ** 2, rtol=1e-10, atol=0)
        self.assertTrue((zero | kept).all())
        # Entries are kept with probability (1 - r)² = 0.25 ...
        self.assertBetween(kept.mean(), 0.15, 0.35)
        # ... and a whole [S] column is zero when the question unit is
        # dropped (probability ≈ r), not (1 - (1 - r)²)^S ≈ 0.1 as for
        # independent entries.
        self.assertBetween(zero.all(axis=1).mean(), 0.35, 0.65)


class KerasApiTest(parameterized.TestCase):
    def test_config_round_trip(self):
        layer = make(
            7,
            units=3,
            activation="relu",
            activation_position="after",
            use_shortcut=True,
            dropout=0.25,
            kernel_regularizer="l2",
            bias_initializer="ones",
            name="mlb",
        )
        config = layer.get_config()
        clone = LowRankBilinearPooling.from_config(config)
        self.assertEqual(clone.get_config(), config)
        for key in (
            "joint_size",
            "units",
            "activation",
            "activation_position",
            "use_shortcut",
            "dropout",
            "use_bias",
            "kernel_initializer",
            "bias_initializer",
            "kernel_regularizer",
            "bias_regularizer",
            "activity_regularizer",
            "kernel_constraint",
            "bias_constraint",
        ):
            self.assertIn(key, config)
        self.assertEqual(
            (
                config["joint_size"],
                config["units"],
                config["activation_position"],
                config["use_shortcut"],
                config["dropout"],
            ),
            (7, 3, "after", True, 0.25),
        )

    @parameterized.product(shapes=SHAPES, units=(None, 3))
    def test_compute_output_shape(self, shapes, units):
        layer = make(units=units)
        x, y = test_util.inputs(*shapes)
        self.assertEqual(
            layer.compute_output_shape(x.shape, y.shape), layer(x, y).shape
        )

    def test_symbolic_call_with_unknown_batch_and_positions(self):
        x, y = keras.Input((6,)), keras.Input((None, 4))
        f = LowRankBilinearPooling(5, units=3)(x, y)
        self.assertEqual(tuple(f.shape), (None, None, 3))

    def test_builds_lazily_with_named_weights(self):
        layer = make(units=3, use_shortcut=True)
        self.assertFalse(layer.built)
        self.assertEmpty(layer.weights)
        layer(*test_util.inputs((2, 6), (2, 4)))
        self.assertEqual(
            sorted(v.name for v in layer.weights),
            [
                "bias",
                "output_kernel",
                "x_bias",
                "x_kernel",
                "x_shortcut_kernel",
                "y_bias",
                "y_kernel",
                "y_shortcut_kernel",
            ],
        )

    def test_docstring_example(self):
        result = doctest.testmod(mlb_module)
        self.assertGreater(result.attempted, 0)
        self.assertEqual(result.failed, 0)


class BadInputTest(parameterized.TestCase):
    @parameterized.parameters(
        (
            dict(joint_size=0),
            r"`joint_size` must be a positive integer, got joint_size=0",
        ),
        (dict(joint_size=2.5), r"got joint_size=2.5"),
        (dict(joint_size=None), r"got joint_size=None"),
        (
            dict(joint_size=4, units=0),
            r"`units` must be a positive integer, got units=0",
        ),
        (dict(joint_size=4, units=True), r"got units=True"),
        (
            dict(joint_size=4, activation_position="middle"),
            r"`activation_position` must be one of \('before', 'after'\), got "
            r"activation_position='middle'",
        ),
        (
            dict(joint_size=4, use_shortcut=1),
            r"`use_shortcut` must be a bool, got use_shortcut=1",
        ),
        (
            dict(joint_size=4, dropout=1.0),
            r"`dropout` must be a number in \[0, 1\), got dropout=1.0",
        ),
        (dict(joint_size=4, dropout=-0.1), r"got dropout=-0.1"),
        (dict(joint_size=4, dropout="0.5"), r"got dropout='0.5'"),
        (dict(joint_size=4, use_bias="yes"), r"got use_bias='yes'"),
        (
            dict(joint_size=4, activation=None, activation_position="after"),
            r"`activation_position` only applies with an activation, got "
            r"activation_position='after' with activation=None",
        ),
        (
            dict(
                joint_size=4, activation="linear", activation_position="after"
            ),
            r"with activation='linear'",
        ),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            LowRankBilinearPooling(**kwargs)

    def test_unknown_argument(self):
        with self.assertRaisesRegex(
            ValueError,
            r"Unrecognized keyword arguments passed to "
            r"LowRankBilinearPooling: \{'rank': 2\}",
        ):
            LowRankBilinearPooling(4, rank=2)

    @parameterized.parameters(
        (
            (6,),
            (3, 4),
            r"LowRankBilinearPooling: x has shape \(6,\) and y has "
            r"shape \(3, 4\); x must have rank >= 2",
        ),
        ((3, 6), (4,), r"y must have rank >= 2"),
        (
            (3, 6),
            (5, 4),
            r"x has shape \(3, 6\) and y has shape \(5, 4\); "
            r"the batch sizes of x and y differ",
        ),
        ((3, 5, 6), (3, 4, 4), r"the leading axes of x and y differ"),
        (
            (3, 2, 5, 6),
            (3, 5, 4),
            r"y has shape \(3, 5, 4\); inputs of "
            r"different ranks need the lower-rank one to be \[batch, features\]",
        ),
    )
    def test_bad_shapes(self, x_shape, y_shape, message):
        layer = LowRankBilinearPooling(4)
        with self.assertRaisesRegex(ValueError, message):
            layer(np.zeros(x_shape, "float32"), np.zeros(y_shape, "float32"))
        with self.assertRaisesRegex(ValueError, message):
            layer.compute_output_shape(x_shape, y_shape)

    def test_unknown_feature_size(self):
        with self.assertRaisesRegex(
            ValueError, r"the last axes of x and y must be known"
        ):
            LowRankBilinearPooling(4).build((None, None), (None, 3))


# block.bootstrap.pytorch's MLB: ReLU in and out, normalised joint vector.
BLOCK_OPTIONS = dict(
    activation="relu",
    normalize=True,
    output_activation="relu",
    dropout=0.1,
    dropout_pre_lin=0.2,
    dropout_output=0.3,
)


class BlockOptionsTest(parameterized.TestCase):
    """block.bootstrap's options: normalisation, output activation and the
    dropouts before P and after the output activation."""

    @parameterized.product(
        shapes=SHAPES, units=(None, 3), position=("before", "after")
    )
    def test_normalize_matches_float64_reference(
        self, shapes, units, position
    ):
        x, y = test_util.inputs(*shapes)
        layer = make(units=units, activation_position=position, normalize=True)
        f, w = run(layer, x, y)
        expected = references.mlb(x, y, w, "tanh", position, normalize=True)
        self.assertEqual(f.shape, expected.shape)
        # The signed square root amplifies float32 rounding near zero.
        backend.assert_allclose(f, expected, **backend.close(float32=1e-3))
        if units is None:  # the joint vector itself: unit L2 norm
            backend.assert_allclose(
                np.linalg.norm(f, axis=-1),
                1.0,
                **backend.close(rtol=1e-12, atol=0),
            )

    @parameterized.product(
        output_activation=("relu", "sigmoid", "tanh"), shortcut=(False, True)
    )
    def test_output_activation_matches_float64_reference(
        self, output_activation, shortcut
    ):
        x, y = test_util.inputs((4, 6), (4, 3, 4))
        layer = make(
            units=3, use_shortcut=shortcut, output_activation=output_activation
        )
        f, w = run(layer, x, y)
        expected = references.mlb(
            x, y, w, shortcut=shortcut, output_activation=output_activation
        )
        backend.assert_allclose(f, expected, **backend.close())

    def test_block_configuration_at_inference(self):
        # The dropouts are the identity at inference.
        x, y = test_util.inputs((4, 6), (4, 3, 4))
        f, w = run(make(units=3, **BLOCK_OPTIONS), x, y, training=False)
        expected = references.mlb(
            x, y, w, "relu", normalize=True, output_activation="relu"
        )
        backend.assert_allclose(f, expected, **backend.close(float32=1e-3))

    def test_dropout_output_drops_after_the_output_activation(self):
        # Each output is 0 or f/(1-r), f the output at inference; dropping
        # before the sigmoid would give σ(0) = 1/2, before P a mixture.
        rate = 0.5
        layer = make(units=6, output_activation="sigmoid", dropout_output=rate)
        x, y = test_util.inputs((50, 6), (50, 4))
        f, _ = run(layer, x, y, training=False)
        dropped = as_numpy(layer(x, y, training=True))
        zero = dropped == 0.0
        kept = np.isclose(dropped, f / (1 - rate), rtol=1e-10, atol=0)
        self.assertTrue((zero | kept).all())
        self.assertBetween(kept.mean(), 0.4, 0.6)

    def test_dropout_pre_lin_drops_the_normalised_joint_vector(self):
        # f = (m ∘ j / (1 - r)) P + b with j the normalised joint vector: P
        # [d, k] has full row rank (d <= k), so m ∘ j = (1 - r)(f - b) P⁺,
        # whose entries must be 0 or j (dropping before the normalisation
        # would rescale the kept ones, after P would not factor).
        rate = 0.5
        layer = make(4, units=7, normalize=True, dropout_pre_lin=rate)
        x, y = test_util.inputs((50, 6), (50, 4))
        _, w = run(layer, x, y)
        joint_weights = {
            k: v for k, v in w.items() if k not in ("output_kernel", "bias")
        }
        j = references.mlb(x, y, joint_weights, normalize=True)  # [50, 4]
        f = as_numpy(layer(x, y, training=True))
        masked = (
            (1 - rate) * (f - w["bias"]) @ np.linalg.pinv(w["output_kernel"])
        )
        tol = backend.close(rtol=1e-8, atol=1e-8, float32=1e-4)["atol"]
        zero = np.isclose(masked, 0.0, rtol=0, atol=tol)
        kept = np.isclose(masked, j, rtol=0, atol=tol)
        self.assertTrue((zero | kept).all())
        self.assertBetween(kept.mean(), 0.35, 0.65)

    def test_seed_makes_the_dropouts_repeatable(self):
        x, y = test_util.inputs((8, 6), (8, 3, 4))
        outputs = []
        for seed in (7, 7, 8):
            layer = make(units=3, seed=seed, **BLOCK_OPTIONS)
            run(layer, x, y)
            outputs.append(as_numpy(layer(x, y, training=True)))
        backend.assert_array_equal(outputs[0], outputs[1])
        self.assertFalse(np.array_equal(outputs[0], outputs[2]))

    def test_options_add_no_weights(self):
        plain, options = make(units=3), make(units=3, **BLOCK_OPTIONS)
        for layer in (plain, options):
            layer(*test_util.inputs((2, 6), (2, 4)))
        self.assertEqual(options.count_params(), plain.count_params())
        self.assertEqual(
            sorted(v.name for v in options.trainable_weights),
            sorted(v.name for v in plain.trainable_weights),
        )

    def test_config_round_trip(self):
        layer = make(units=3, seed=5, **BLOCK_OPTIONS)
        config = layer.get_config()
        self.assertEqual(
            {key: config[key] for key in BLOCK_OPTIONS},
            dict(BLOCK_OPTIONS, activation="relu"),
        )
        self.assertEqual(config["seed"], 5)
        clone = LowRankBilinearPooling.from_config(config)
        self.assertEqual(clone.get_config(), config)
        x, y = test_util.inputs((4, 6), (4, 3, 4))
        f, w = run(layer, x, y)
        clone(x, y)
        for variable in clone.weights:
            variable.assign(w[variable.name])
        backend.assert_array_equal(clone(x, y), f)

    @parameterized.parameters(
        (dict(normalize=1), r"`normalize` must be a bool, got normalize=1"),
        (
            dict(units=3, dropout_pre_lin=1.0),
            r"`dropout_pre_lin` must be a number in \[0, 1\), got "
            r"dropout_pre_lin=1.0\.$",
        ),
        (
            dict(dropout_output=-0.1),
            r"`dropout_output` must be a number in \[0, 1\), got "
            r"dropout_output=-0.1\.$",
        ),
        (
            dict(dropout_pre_lin=0.2),
            r"`dropout_pre_lin` drops the joint vector before the output "
            r"projection P, which units=None leaves out; got units=None "
            r"with dropout_pre_lin=0.2\.$",
        ),
        (
            dict(output_activation="nope"),
            r"Could not interpret activation function identifier: nope$",
        ),
        (
            dict(seed="a", dropout=0.1),
            r"`seed` must be an integer, got "
            r"seed='a'\.$",
        ),
        (
            dict(units=3, seed=3),
            r"`seed` only seeds the dropout, which is off; got seed=3 with "
            r"dropout=0.0 and dropout_pre_lin=0.0 and "
            r"dropout_output=0.0\.$",
        ),
    )
    def test_bad_options(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            LowRankBilinearPooling(4, **kwargs)


if __name__ == "__main__":
    absltest.main()
