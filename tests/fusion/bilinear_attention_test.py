"""Tests of BilinearAttention (BAN maps) against the paper and structure."""

import doctest

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.fusion import BilinearAttention
from mi_zoo.fusion import bilinear_attention as ban_module
from tests import backend
from tests.backend import as_numpy
from tests.fusion import attention_references as refs
from tests.fusion import references
from tests.layers import test_util
from tests.layers.weight_norm_references import folded

# x [B, ρ, N] tokens, y [B, φ, M] boxes.
X_SHAPE, Y_SHAPE = (3, 4, 6), (3, 5, 7)
# Masks: a partly padded example, a full one, one with no valid box.
X_MASK = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], bool)
Y_MASK = np.array([[1, 0, 1, 1, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], bool)


def built(glimpses=2, rank=3, seed=0, **kwargs):
    kwargs.setdefault("dtype", "float64")
    layer = BilinearAttention(glimpses, rank, **kwargs)
    x, y = test_util.inputs(X_SHAPE, Y_SHAPE)
    layer(x, y)
    return layer, refs.weights_by_path(layer, seed)


def masks(which):
    return (X_MASK if "x" in which else None, Y_MASK if "y" in which else None)


def call(layer, x, y, x_mask=None, y_mask=None):
    out = layer(x, y, x_mask=x_mask, y_mask=y_mask)
    return (
        tuple(as_numpy(t) for t in out)
        if isinstance(out, tuple)
        else (as_numpy(out))
    )


class FormulaTest(parameterized.TestCase):
    @parameterized.product(
        activation=("relu", None),
        use_bias=(True, False),
        masked=("", "x", "y", "xy"),
        glimpses=(1, 3),
    )
    def test_matches_float64_reference(
        self, activation, use_bias, masked, glimpses
    ):
        layer, w = built(
            glimpses,
            activation=activation,
            use_bias=use_bias,
            return_logits=True,
        )
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=2)
        x_mask, y_mask = masks(masked)
        maps, logits = call(layer, x, y, x_mask, y_mask)
        act = references.relu if activation else references.identity
        backend.assert_allclose(
            logits, refs.ban_logits(x, y, w, act), **backend.close(atol=1e-12)
        )
        backend.assert_allclose(
            maps,
            refs.ban_maps(x, y, w, act, x_mask, y_mask),
            **backend.close(atol=1e-12),
        )
        self.assertEqual(maps.shape, (3, glimpses, 4, 5))

    def test_matrix_form_of_the_paper(self):
        # A_g = softmax(((1·p_gᵀ) ∘ σ(XᵀU)) σ(VᵀY)), X = xᵀ [N, ρ], Y = yᵀ.
        layer, w = built(3)
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=3)
        maps = call(layer, x, y)
        for b in range(3):
            big_x, big_y = x[b].T, y[b].T
            relu = references.relu
            hx = relu(big_x.T @ w["x_kernel"] + w["x_bias"])  # [ρ, K]
            hy = relu(w["y_kernel"].T @ big_y + w["y_bias"][:, None])
            for g in range(3):
                ones_p = np.outer(np.ones(4), w["glimpse_kernel"][g])
                logits = (ones_p * hx) @ hy
                expected = np.exp(logits) / np.exp(logits).sum()
                backend.assert_allclose(
                    maps[b, g], expected, **backend.close(atol=0)
                )

    @parameterized.parameters(
        (True, 6 * 3 + 3 + 7 * 3 + 3 + 2 * 3), (False, 6 * 3 + 7 * 3 + 2 * 3)
    )
    def test_parameter_count(self, use_bias, count):
        # U [N, K], V [M, K], p_g [G, K] and the biases b_U, b_V [K].
        layer, _ = built(2, 3, use_bias=use_bias)
        self.assertEqual(layer.count_params(), count)


class StructureTest(parameterized.TestCase):
    """Properties that hold whatever the weights."""

    @parameterized.parameters("", "x", "y", "xy")
    def test_maps_are_distributions_over_valid_pairs(self, masked):
        layer, _ = built(3)
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=4)
        x_mask, y_mask = masks(masked)
        maps = call(layer, x, y, x_mask, y_mask)
        valid = np.ones((3, 1, 4, 5), bool)
        if x_mask is not None:
            valid &= x_mask[:, None, :, None]
        if y_mask is not None:
            valid &= y_mask[:, None, None, :]
        self.assertTrue((maps >= 0).all())
        invalid = ~np.broadcast_to(valid, maps.shape)
        backend.assert_array_equal(maps[invalid], 0.0)
        total = maps.sum(axis=(-2, -1))
        expected = valid.any(axis=(-2, -1)).astype(float)  # 0 if all masked
        backend.assert_allclose(
            total,
            np.broadcast_to(expected, total.shape),
            **backend.close(rtol=1e-12, atol=0),
        )

    def test_fully_masked_example_gives_zeros_not_nan(self):
        layer, _ = built(2)
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=5)
        maps = call(layer, x, y, np.zeros((3, 4), bool), Y_MASK)
        self.assertTrue(np.isfinite(maps).all())
        backend.assert_array_equal(maps, 0.0)

    def test_softmax_is_joint_over_all_pairs(self):
        # Not per row or per column: rows do not each sum to one.
        layer, _ = built(1)
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=6)
        maps = call(layer, x, y)
        backend.assert_allclose(
            maps.sum(axis=(-2, -1)), 1.0, **backend.close(rtol=1e-12, atol=0)
        )
        self.assertGreater(np.abs(maps.sum(-1) - 1.0).max(), 0.1)

    def test_logits_are_bilinear_without_activation_and_bias(self):
        layer, _ = built(
            2, activation=None, use_bias=False, return_logits=True
        )
        x1, y1 = test_util.inputs(X_SHAPE, Y_SHAPE, seed=7)
        x2, y2 = test_util.inputs(X_SHAPE, Y_SHAPE, seed=8)
        a, b = 1.3, -0.7
        logits = lambda x, y: call(layer, x, y)[1]
        backend.assert_allclose(
            logits(a * x1 + b * x2, y1),
            a * logits(x1, y1) + b * logits(x2, y1),
            **backend.close(),
        )
        backend.assert_allclose(
            logits(x1, a * y1 + b * y2),
            a * logits(x1, y1) + b * logits(x1, y2),
            **backend.close(),
        )

    def test_padding_does_not_change_the_valid_block(self):
        # Appending masked tokens and boxes of any content changes nothing.
        layer, _ = built(2)
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=9)
        junk_x, junk_y = test_util.inputs((3, 2, 6), (3, 3, 7), seed=10)
        padded = call(
            layer,
            np.concatenate([x, 10 * junk_x], 1),
            np.concatenate([y, 10 * junk_y], 1),
            np.concatenate([X_MASK, np.zeros((3, 2), bool)], 1),
            np.concatenate([Y_MASK, np.zeros((3, 3), bool)], 1),
        )
        backend.assert_allclose(
            padded[:, :, :4, :5],
            call(layer, x, y, X_MASK, Y_MASK),
            **backend.close(rtol=1e-12, atol=1e-15),
        )
        backend.assert_array_equal(padded[:, :, 4:], 0.0)
        backend.assert_array_equal(padded[:, :, :, 5:], 0.0)

    def test_permuting_positions_permutes_the_maps(self):
        layer, _ = built(2)
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=11)
        px, py = np.array([2, 0, 3, 1]), np.array([4, 1, 0, 3, 2])
        maps = call(layer, x, y)
        permuted = call(layer, x[:, px], y[:, py])
        backend.assert_allclose(
            permuted,
            maps[:, :, px][:, :, :, py],
            **backend.close(rtol=1e-12, atol=0),
        )

    def test_keras_mask_is_used_as_x_mask(self):
        # Token ids with 0 = padding: Embedding(mask_zero=True) feeds x_mask.
        ids = keras.Input((4,), dtype="int32")
        boxes = keras.Input((5, 7))
        tokens = keras.layers.Embedding(9, 6, mask_zero=True)(ids)
        maps = BilinearAttention(2, 3)(tokens, boxes)
        model = keras.Model([ids, boxes], [tokens, maps])
        id_values = np.array([[3, 1, 0, 0], [2, 2, 5, 8], [4, 0, 0, 0]])
        box_values = test_util.inputs((3, 5, 7), (1,), dtype="float32")[0]
        emb, got = model.predict([id_values, box_values], verbose=0)
        layer = model.layers[-1]
        expected = as_numpy(layer(emb, box_values, x_mask=id_values > 0))
        backend.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
        backend.assert_array_equal(got[0, :, 2:], 0.0)


class LogitBiasTest(parameterized.TestCase):
    """use_logit_bias: the h_g of the authors' code (ban-vqa's h_bias)."""

    def test_logits_shift_by_the_bias_and_maps_stay(self):
        layer, w = built(3, use_logit_bias=True, return_logits=True)
        plain, _ = built(3, return_logits=True)
        for v in plain.weights:
            v.assign(w[v.path.split("/", 1)[1]])
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=5)
        maps, logits = call(layer, x, y, X_MASK, Y_MASK)
        plain_maps, plain_logits = call(plain, x, y, X_MASK, Y_MASK)
        bias = w["logit_bias"][None, :, None, None]
        self.assertEqual(w["logit_bias"].shape, (3,))
        self.assertGreater(np.abs(bias).min(), 0.0)
        backend.assert_allclose(
            logits,
            refs.ban_logits(x, y, w) + bias,
            **backend.close(atol=1e-12),
        )
        backend.assert_allclose(
            logits - bias, plain_logits, **backend.close(atol=1e-12)
        )
        backend.assert_allclose(
            maps, plain_maps, **backend.close(rtol=1e-12, atol=1e-14)
        )

    def test_parameter_count_and_config(self):
        layer, _ = built(2, 3, use_logit_bias=True)
        self.assertEqual(
            layer.count_params(), 6 * 3 + 3 + 7 * 3 + 3 + 2 * 3 + 2
        )
        config = layer.get_config()
        self.assertTrue(config["use_logit_bias"])
        clone = BilinearAttention.from_config(config)
        self.assertEqual(clone.get_config(), config)
        self.assertFalse(
            BilinearAttention(2, 3).get_config()["use_logit_bias"]
        )

    def test_bad_argument(self):
        with self.assertRaisesRegex(
            ValueError,
            r"`use_logit_bias` must be a bool, got use_logit_bias='yes'\.",
        ):
            BilinearAttention(2, 3, use_logit_bias="yes")


class WeightNormTest(parameterized.TestCase):
    def test_equals_the_plain_layer_with_folded_weights(self):
        # U, V and p each get one g and the norm of the whole kernel (p of
        # all glimpses together: ban-vqa's weight_norm(h_mat, dim=None)).
        layer, w = built(
            3, weight_norm=True, use_logit_bias=True, return_logits=True
        )
        plain, _ = built(3, use_logit_bias=True, return_logits=True)
        for v in plain.weights:
            name = v.path.split("/", 1)[1]
            scale = w.get(name + "_scale")
            v.assign(w[name] if scale is None else folded(w[name], scale))
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=8)
        for got, want in zip(
            call(layer, x, y, X_MASK, Y_MASK),
            call(plain, x, y, X_MASK, Y_MASK),
        ):
            backend.assert_allclose(
                got, want, **backend.close(rtol=1e-12, atol=1e-12)
            )
        self.assertEqual(layer.count_params(), plain.count_params() + 3)
        self.assertTrue(layer.get_config()["weight_norm"])

    def test_bad_argument(self):
        with self.assertRaisesRegex(
            ValueError, r"`weight_norm` must be a bool, got weight_norm=0\."
        ):
            BilinearAttention(2, 3, weight_norm=0)


class KerasApiTest(parameterized.TestCase):
    def test_config_round_trip(self):
        layer = BilinearAttention(
            4,
            8,
            activation="tanh",
            use_bias=False,
            return_logits=True,
            kernel_regularizer="l2",
            name="ban",
        )
        config = layer.get_config()
        clone = BilinearAttention.from_config(config)
        self.assertEqual(clone.get_config(), config)
        for key in (
            "glimpses",
            "rank",
            "activation",
            "use_bias",
            "return_logits",
            "kernel_initializer",
            "bias_initializer",
            "kernel_regularizer",
            "bias_regularizer",
            "activity_regularizer",
            "kernel_constraint",
            "bias_constraint",
        ):
            self.assertIn(key, config)

    @parameterized.parameters(False, True)
    def test_compute_output_shape(self, return_logits):
        layer = BilinearAttention(2, 3, return_logits=return_logits)
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, dtype="float32")
        out = layer(x, y, x_mask=X_MASK)
        shapes = (
            tuple(tuple(t.shape) for t in out)
            if return_logits
            else (tuple(out.shape))
        )
        self.assertEqual(layer.compute_output_shape(x.shape, y.shape), shapes)

    def test_symbolic_call_with_unknown_sizes(self):
        x, y = keras.Input((None, 6)), keras.Input((5, 7))
        x_mask = keras.Input((None,), dtype="bool")
        maps = BilinearAttention(3, 2)(x, y, x_mask)
        self.assertEqual(tuple(maps.shape), (None, 3, None, 5))

    def test_builds_lazily(self):
        layer = BilinearAttention(2, 3)
        self.assertFalse(layer.built)
        self.assertEmpty(layer.weights)
        layer(*test_util.inputs(X_SHAPE, Y_SHAPE, dtype="float32"))
        self.assertEqual(
            sorted(v.name for v in layer.weights),
            ["glimpse_kernel", "x_bias", "x_kernel", "y_bias", "y_kernel"],
        )

    def test_docstring_example(self):
        result = doctest.testmod(ban_module)
        self.assertGreater(result.attempted, 0)
        self.assertEqual(result.failed, 0)


class BadInputTest(parameterized.TestCase):
    @parameterized.parameters(
        (
            dict(glimpses=0, rank=2),
            r"`glimpses` must be a positive integer, "
            r"got glimpses=0\.",
        ),
        (dict(glimpses=2.0, rank=2), r"got glimpses=2\.0"),
        (
            dict(glimpses=2, rank=None),
            r"`rank` must be a positive integer, "
            r"got rank=None\.",
        ),
        (dict(glimpses=2, rank=True), r"got rank=True"),
        (
            dict(glimpses=2, rank=2, return_logits="yes"),
            r"`return_logits` must be a bool, got return_logits='yes'\.",
        ),
        (dict(glimpses=2, rank=2, use_bias=1), r"got use_bias=1"),
        (
            dict(glimpses=2, rank=2, pool_size=3),
            r"Unrecognized keyword arguments passed to BilinearAttention: "
            r"\{'pool_size': 3\}",
        ),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            BilinearAttention(**kwargs)

    @parameterized.parameters(
        (
            (3, 6),
            (3, 5, 7),
            r"x has shape \(3, 6\) and y has shape "
            r"\(3, 5, 7\); x must have rank 3",
        ),
        ((3, 4, 6), (3, 5, 2, 7), r"y must have rank 3"),
        (
            (3, 4, 6),
            (2, 5, 7),
            r"BilinearAttention: x has shape \(3, 4, 6\) "
            r"and y has shape \(2, 5, 7\); the batch sizes differ\.",
        ),
    )
    def test_bad_shapes(self, x_shape, y_shape, message):
        with self.assertRaisesRegex(ValueError, message):
            BilinearAttention(2, 3)(
                np.zeros(x_shape, "float32"), np.zeros(y_shape, "float32")
            )

    def test_unknown_feature_size(self):
        with self.assertRaisesRegex(
            ValueError,
            r"x has shape \(None, 4, None\) .*the feature "
            r"\(last\) axes must be known",
        ):
            BilinearAttention(2, 3).build((None, 4, None), (None, 5, 7))

    @parameterized.parameters(
        (
            "x_mask",
            (3, 5),
            r"x_mask has shape \(3, 5\) and x has shape "
            r"\(3, 4, 6\); x_mask must be \[batch, positions\] = \(3, 4\)\.",
        ),
        (
            "y_mask",
            (3, 5, 1),
            r"y_mask has shape \(3, 5, 1\) and y has "
            r"shape \(3, 5, 7\)",
        ),
    )
    def test_bad_mask_shapes(self, name, shape, message):
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, dtype="float32")
        with self.assertRaisesRegex(ValueError, message):
            BilinearAttention(2, 3)(x, y, **{name: np.ones(shape, bool)})


if __name__ == "__main__":
    absltest.main()
