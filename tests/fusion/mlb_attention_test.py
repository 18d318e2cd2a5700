"""Tests of MLBAttention against the paper and the laws of attention."""

import doctest
import re

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.fusion import MLBAttention
from mi_zoo.fusion import mlb_attention as attention_module
from tests import backend
from tests.backend import as_numpy
from tests.fusion import mlb_references as references
from tests.layers import test_util

# (q shape, features shape): S regions, an H×W grid, one position.
SHAPES = (
    ((3, 6), (3, 5, 4)),
    ((3, 6), (3, 2, 3, 4)),
    ((3, 6), (3, 1, 4)),
)


def make(joint_size=5, glimpses=2, dtype="float64", **kwargs):
    return MLBAttention(joint_size, glimpses=glimpses, dtype=dtype, **kwargs)


def random_mask(shape, seed=0, rate=0.4):
    """Padding mask [B, ...] with the first position valid and the first
    example fully valid."""
    mask = np.random.default_rng(seed).random(shape) > rate
    mask.reshape(shape[0], -1)[:, 0] = True
    mask[0] = True
    return mask


def run(layer, q, features, mask=None, seed=0, **kwargs):
    layer(q, features)
    weights = test_util.random_weights(layer, seed)
    v, alpha = layer(q, features, mask, **kwargs)
    return as_numpy(v), as_numpy(alpha), weights


class FormulaTest(parameterized.TestCase):
    @parameterized.product(
        shapes=SHAPES,
        glimpses=(1, 3),
        glimpse_units=(None, 2),
        masked=(False, True),
    )
    def test_matches_float64_reference(
        self, shapes, glimpses, glimpse_units, masked
    ):
        q, features = test_util.inputs(*shapes)
        mask = random_mask(shapes[1][:-1]) if masked else None
        layer = make(glimpses=glimpses, glimpse_units=glimpse_units)
        v, alpha, w = run(layer, q, features, mask)
        ev, ealpha = references.mlb_attention(
            q, features, w, glimpses, mask, glimpse_units=glimpse_units
        )
        self.assertEqual(v.shape, ev.shape)
        self.assertEqual(alpha.shape, ealpha.shape)
        backend.assert_allclose(alpha, ealpha, **backend.close())
        backend.assert_allclose(v, ev, **backend.close())

    def test_without_biases_and_with_relu(self):
        q, features = test_util.inputs((2, 6), (2, 4, 3))
        layer = make(glimpse_units=3, use_bias=False, activation="relu")
        v, alpha, w = run(layer, q, features)
        self.assertEqual(
            sorted(w),
            [
                "attention_kernel",
                "feature_kernel",
                "glimpse_kernel",
                "question_kernel",
            ],
        )
        ev, ealpha = references.mlb_attention(
            q, features, w, 2, activation="relu", glimpse_units=3
        )
        backend.assert_allclose(alpha, ealpha, **backend.close())
        backend.assert_allclose(v, ev, **backend.close())

    @parameterized.parameters(
        # n·d + d + C·d + d + d·G, + G·C·u + G·u with glimpse_units.
        (dict(), 6 * 5 + 5 + 4 * 5 + 5 + 5 * 2),
        (dict(glimpses=3), 6 * 5 + 5 + 4 * 5 + 5 + 5 * 3),
        (
            dict(glimpse_units=7),
            6 * 5 + 5 + 4 * 5 + 5 + 5 * 2 + 2 * 4 * 7 + 2 * 7,
        ),
        (
            dict(glimpse_units=7, use_bias=False),
            6 * 5 + 4 * 5 + 5 * 2 + 2 * 4 * 7,
        ),
        (dict(dropout=0.3), 6 * 5 + 5 + 4 * 5 + 5 + 5 * 2),
    )
    def test_parameter_count(self, kwargs, count):
        layer = make(**kwargs)
        layer(*test_util.inputs((2, 6), (2, 3, 3, 4)))
        self.assertEqual(layer.count_params(), count)


class AttentionLawsTest(parameterized.TestCase):
    """Properties that hold whatever the weights."""

    def built(self, seed=0, **kwargs):
        layer = make(**kwargs)
        layer(*test_util.inputs((2, 6), (2, 5, 4)))
        test_util.random_weights(layer, seed, scale=1.5)
        return layer

    @parameterized.parameters(*SHAPES)
    def test_maps_are_distributions_zero_on_masked_positions(
        self, q_shape, features_shape
    ):
        q, features = test_util.inputs(q_shape, features_shape, seed=3)
        mask = random_mask(features_shape[:-1], seed=4)
        layer = make(glimpses=3)
        _, alpha, _ = run(layer, q, features, mask, seed=1)
        flat = alpha.reshape(3, 3, -1)
        self.assertTrue((flat >= 0).all())
        backend.assert_allclose(
            flat.sum(-1), 1.0, **backend.close(rtol=1e-12, atol=0)
        )
        masked = ~mask.reshape(3, 1, -1) & np.ones_like(flat, bool)
        self.assertTrue((flat[masked] == 0).all())

    def test_attended_features_are_the_alpha_weighted_sums(self):
        layer = self.built(glimpses=3)
        q, features = test_util.inputs((2, 6), (2, 5, 4), seed=5)
        v, alpha = (as_numpy(t) for t in layer(q, features))
        per_glimpse = np.einsum("bgs,bsc->bgc", alpha, features)
        backend.assert_allclose(
            v, per_glimpse.reshape(2, 12), **backend.close(rtol=1e-12, atol=0)
        )

    def test_identical_positions_give_that_feature(self):
        # A convex combination of equal vectors is that vector, whatever q.
        layer = self.built()
        q, _ = test_util.inputs((2, 6), (2, 4), seed=6)
        feature = np.random.default_rng(7).normal(size=(2, 1, 4))
        v, alpha = layer(q, np.repeat(feature, 5, axis=1))
        backend.assert_allclose(
            alpha, 0.2, **backend.close(rtol=1e-12, atol=0)
        )
        backend.assert_allclose(
            v,
            np.tile(feature[:, 0], (1, 2)),
            **backend.close(rtol=1e-12, atol=0),
        )

    def test_permuting_positions_permutes_alpha_and_keeps_v(self):
        layer = self.built()
        q, features = test_util.inputs((2, 6), (2, 5, 4), seed=8)
        mask = random_mask((2, 5), seed=9)
        perm = np.array([3, 0, 4, 1, 2])
        v, alpha = layer(q, features, mask)
        pv, palpha = layer(q, features[:, perm], mask[:, perm])
        backend.assert_allclose(pv, v, **backend.close(rtol=1e-12, atol=0))
        backend.assert_allclose(
            palpha,
            as_numpy(alpha)[..., perm],
            **backend.close(rtol=1e-12, atol=0),
        )

    def test_masked_positions_do_not_matter(self):
        layer = self.built()
        q, features = test_util.inputs((2, 6), (2, 5, 4), seed=10)
        mask = np.array([[1, 0, 1, 0, 1], [0, 1, 1, 1, 0]], bool)
        changed = features.copy()
        changed[~mask] = 1e3
        v, alpha = layer(q, features, mask)
        cv, calpha = layer(q, changed, mask)
        backend.assert_allclose(cv, v, **backend.close(rtol=1e-12, atol=0))
        backend.assert_allclose(
            calpha, alpha, **backend.close(rtol=1e-12, atol=0)
        )

    def test_mask_of_ones_equals_no_mask(self):
        layer = self.built()
        q, features = test_util.inputs((2, 6), (2, 5, 4), seed=11)
        v, alpha = layer(q, features)
        mv, malpha = layer(q, features, np.ones((2, 5), bool))
        backend.assert_allclose(mv, v, **backend.close(rtol=1e-12, atol=0))
        backend.assert_allclose(
            malpha, alpha, **backend.close(rtol=1e-12, atol=0)
        )

    @parameterized.parameters(None, 3)
    def test_fully_masked_example_gives_zero_attention(self, glimpse_units):
        layer = self.built(glimpse_units=glimpse_units)
        q, features = test_util.inputs((2, 6), (2, 5, 4), seed=12)
        mask = np.ones((2, 5), bool)
        mask[1] = False
        v, alpha = (as_numpy(t) for t in layer(q, features, mask))
        self.assertTrue(np.isfinite(v).all() and np.isfinite(alpha).all())
        backend.assert_array_equal(alpha[1], 0.0)
        if glimpse_units is None:
            backend.assert_array_equal(v[1], 0.0)
        else:  # σ(c_g): the glimpse maps of a zero vector.
            bias = np.tanh(as_numpy(layer.glimpse_bias)).reshape(-1)
            backend.assert_allclose(v[1], bias, **backend.close())
        backend.assert_allclose(
            alpha[0].sum(-1), 1.0, **backend.close(rtol=1e-12, atol=0)
        )

    def test_grid_equals_flattened_positions(self):
        layer = self.built(glimpses=2)
        q, grid = test_util.inputs((2, 6), (2, 2, 3, 4), seed=13)
        mask = random_mask((2, 2, 3), seed=14)
        v, alpha = layer(q, grid, mask)
        fv, falpha = layer(q, grid.reshape(2, 6, 4), mask.reshape(2, 6))
        backend.assert_allclose(v, fv, **backend.close(rtol=1e-12, atol=0))
        backend.assert_allclose(
            as_numpy(alpha).reshape(2, 2, 6),
            falpha,
            **backend.close(rtol=1e-12, atol=0),
        )

    def test_each_example_attends_on_its_own(self):
        layer = self.built()
        q, features = test_util.inputs((3, 6), (3, 5, 4), seed=15)
        v, alpha = layer(q, features)
        for b in range(3):
            bv, balpha = layer(q[b : b + 1], features[b : b + 1])
            backend.assert_allclose(
                bv[0], as_numpy(v)[b], **backend.close(rtol=1e-12, atol=0)
            )
            backend.assert_allclose(
                balpha[0],
                as_numpy(alpha)[b],
                **backend.close(rtol=1e-12, atol=0),
            )

    def test_mixed_precision_with_large_logits_and_masks(self):
        keras.mixed_precision.set_dtype_policy("mixed_float16")
        try:
            layer = MLBAttention(8, glimpses=2)
            q, features = test_util.inputs(
                (2, 6), (2, 5, 4), seed=16, dtype="float32"
            )
            layer(q, features)
            test_util.random_weights(layer, seed=2, scale=30.0)
            mask = np.array([[1, 0, 1, 1, 0], [0, 0, 0, 0, 0]], bool)
            v, alpha = (as_numpy(t) for t in layer(q, features, mask))
            self.assertEqual(alpha.dtype, np.float16)
            self.assertTrue(np.isfinite(v).all() and np.isfinite(alpha).all())
            backend.assert_array_equal(alpha[0][:, ~mask[0]], 0.0)
            backend.assert_array_equal(alpha[1], 0.0)
            backend.assert_allclose(alpha[0].sum(-1), 1.0, atol=2e-3)
        finally:
            keras.mixed_precision.set_dtype_policy("float32")


class DropoutTest(parameterized.TestCase):
    def test_inference_ignores_dropout_and_training_keeps_distributions(self):
        q, features = test_util.inputs((4, 6), (4, 5, 4))
        layer = make(dropout=0.5)
        v, alpha, w = run(layer, q, features)
        ev, ealpha = references.mlb_attention(q, features, w, 2)
        backend.assert_allclose(v, ev, **backend.close())
        tv, talpha = (as_numpy(t) for t in layer(q, features, training=True))
        self.assertFalse(np.allclose(talpha, alpha))
        backend.assert_allclose(
            talpha.sum(-1), 1.0, **backend.close(rtol=1e-12, atol=0)
        )


class KerasApiTest(parameterized.TestCase):
    def test_config_round_trip(self):
        layer = make(
            7,
            glimpses=3,
            activation="relu",
            glimpse_units=4,
            dropout=0.1,
            kernel_regularizer="l2",
            name="att",
        )
        config = layer.get_config()
        clone = MLBAttention.from_config(config)
        self.assertEqual(clone.get_config(), config)
        for key in (
            "joint_size",
            "glimpses",
            "activation",
            "glimpse_units",
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
                config["glimpses"],
                config["glimpse_units"],
                config["dropout"],
            ),
            (7, 3, 4, 0.1),
        )

    @parameterized.product(shapes=SHAPES, glimpse_units=(None, 3))
    def test_compute_output_shape(self, shapes, glimpse_units):
        layer = make(glimpse_units=glimpse_units)
        q, features = test_util.inputs(*shapes)
        v, alpha = layer(q, features)
        self.assertEqual(
            layer.compute_output_shape(q.shape, features.shape),
            (v.shape, alpha.shape),
        )

    def test_symbolic_call_with_unknown_positions(self):
        q, features = keras.Input((6,)), keras.Input((None, 4))
        mask = keras.Input((None,), dtype="bool")
        v, alpha = MLBAttention(5, glimpses=3)(q, features, mask)
        self.assertEqual(tuple(v.shape), (None, 12))
        self.assertEqual(tuple(alpha.shape), (None, 3, None))
        model = keras.Model([q, features, mask], [v, alpha])
        out_v, out_alpha = model.predict(
            [np.ones((2, 6)), np.ones((2, 7, 4)), np.ones((2, 7), bool)],
            verbose=0,
        )
        self.assertEqual((out_v.shape, out_alpha.shape), ((2, 12), (2, 3, 7)))

    def test_builds_lazily_with_named_weights(self):
        layer = make(glimpse_units=3)
        self.assertFalse(layer.built)
        layer(*test_util.inputs((2, 6), (2, 5, 4)))
        self.assertEqual(
            sorted(v.name for v in layer.weights),
            [
                "attention_kernel",
                "feature_bias",
                "feature_kernel",
                "glimpse_bias",
                "glimpse_kernel",
                "question_bias",
                "question_kernel",
            ],
        )

    def test_docstring_example(self):
        result = doctest.testmod(attention_module)
        self.assertGreater(result.attempted, 0)
        self.assertEqual(result.failed, 0)


class BadInputTest(parameterized.TestCase):
    @parameterized.parameters(
        (
            dict(joint_size=0),
            r"`joint_size` must be a positive integer, got joint_size=0",
        ),
        (
            dict(joint_size=4, glimpses=0),
            r"`glimpses` must be a positive integer, got glimpses=0",
        ),
        (dict(joint_size=4, glimpses=1.0), r"got glimpses=1.0"),
        (
            dict(joint_size=4, glimpse_units=-2),
            r"`glimpse_units` must be a positive integer, got glimpse_units=-2",
        ),
        (
            dict(joint_size=4, dropout=1.5),
            r"`dropout` must be a number in \[0, 1\), got dropout=1.5",
        ),
        (dict(joint_size=4, use_bias=None), r"got use_bias=None"),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            MLBAttention(**kwargs)

    def test_unknown_argument(self):
        with self.assertRaisesRegex(
            ValueError,
            r"Unrecognized keyword arguments passed to "
            r"MLBAttention: \{'activation_position': 'after'\}",
        ):
            MLBAttention(4, activation_position="after")

    @parameterized.parameters(
        (
            (3, 2, 6),
            (3, 5, 4),
            r"MLBAttention: q has shape \(3, 2, 6\) and "
            r"features has shape \(3, 5, 4\); q must be \[batch, n\]",
        ),
        (
            (3, 6),
            (3, 4),
            r"features has shape \(3, 4\); features must be "
            r"\[batch, S, C\] or \[batch, H, W, C\]",
        ),
        ((3, 6), (2, 5, 4), r"the batch sizes of q and features differ"),
    )
    def test_bad_shapes(self, q_shape, features_shape, message):
        layer = MLBAttention(4)
        with self.assertRaisesRegex(ValueError, message):
            layer(
                np.zeros(q_shape, "float32"),
                np.zeros(features_shape, "float32"),
            )
        with self.assertRaisesRegex(ValueError, message):
            layer.compute_output_shape(q_shape, features_shape)

    @parameterized.parameters(((3, 4),), ((3, 5, 1),), ((3, 5, 4),))
    def test_bad_mask_shape(self, mask_shape):
        layer = MLBAttention(4)
        message = (
            r"features has shape \(3, 5, 4\) and mask has shape "
            + re.escape(str(mask_shape))
            + r"; mask must have the "
            r"leading axes of features, \(3, 5\)"
        )
        with self.assertRaisesRegex(ValueError, message):
            layer(
                np.zeros((3, 6), "float32"),
                np.zeros((3, 5, 4), "float32"),
                np.ones(mask_shape, bool),
            )

    def test_unknown_feature_size(self):
        with self.assertRaisesRegex(
            ValueError, r"the last axes of q and features must be known"
        ):
            MLBAttention(4).build((None, 6), (None, 5, None))


if __name__ == "__main__":
    absltest.main()
