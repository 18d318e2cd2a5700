"""Tests of BilinearAttentionNetwork: BAN with residual attention learning."""

import doctest
import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.fusion import BilinearAttention
from mi_zoo.fusion import BilinearAttentionNetwork
from mi_zoo.fusion import bilinear_attention_network as network_module
from tests import backend
from tests.backend import as_numpy
from tests.fusion import attention_references as refs
from tests.fusion import references
from tests.layers import test_util
from tests.layers.weight_norm_references import folded

X_SHAPE, Y_SHAPE = (3, 4, 6), (3, 5, 7)
X_MASK = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], bool)
Y_MASK = np.array([[1, 0, 1, 1, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], bool)


def built(glimpses=2, rank=6, seed=0, **kwargs):
    kwargs.setdefault("dtype", "float64")
    layer = BilinearAttentionNetwork(glimpses, rank, **kwargs)
    boxes = boxes_for() if layer.counter else None
    layer(*test_util.inputs(X_SHAPE, Y_SHAPE), boxes=boxes)
    return layer, refs.weights_by_path(layer, seed)


def call(layer, x, y, x_mask=None, y_mask=None):
    joint, maps = layer(x, y, x_mask=x_mask, y_mask=y_mask)
    return as_numpy(joint), as_numpy(maps)


class FormulaTest(parameterized.TestCase):
    @parameterized.product(
        pool_size=(1, 3),
        glimpses=(1, 3),
        use_bias=(True, False),
        masked=("", "xy"),
    )
    def test_matches_float64_reference(
        self, pool_size, glimpses, use_bias, masked
    ):
        layer, w = built(
            glimpses,
            6,
            pool_size=pool_size,
            use_bias=use_bias,
            attention_rank=4,
        )
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=2)
        x_mask, y_mask = (X_MASK, Y_MASK) if masked else (None, None)
        joint, maps = call(layer, x, y, x_mask, y_mask)
        ref_joint, ref_maps = refs.ban_network(
            x, y, w, pool_size, references.relu, x_mask, y_mask
        )
        self.assertEqual(joint.shape, (3, 6))
        self.assertEqual(maps.shape, (3, glimpses, 4, 5))
        backend.assert_allclose(maps, ref_maps, **backend.close(atol=1e-12))
        backend.assert_allclose(joint, ref_joint, **backend.close())

    def test_no_activation(self):
        layer, w = built(2, 6, activation=None)
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=3)
        joint, _ = call(layer, x, y)
        ref_joint, _ = refs.ban_network(x, y, w, 3, references.identity)
        backend.assert_allclose(joint, ref_joint, **backend.close())

    def test_maps_are_those_of_the_attention_layer(self):
        # Eq. 8: the maps come from x (f_0) and y with shared U, V.
        layer, w = built(3, 6)
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=4)
        _, maps = call(layer, x, y, X_MASK, Y_MASK)
        attention = BilinearAttention(3, 6, dtype="float64")
        attention(x, y)
        for v in attention.weights:
            v.assign(w["attention/" + v.name])
        backend.assert_allclose(
            maps,
            attention(x, y, x_mask=X_MASK, y_mask=Y_MASK),
            **backend.close(rtol=1e-12, atol=0),
        )

    @parameterized.parameters(
        # (G, K, K', k, use_bias): attention (N + M + G)K' (+ 2K') and per
        # glimpse U' [N, K], V' [M, K], P [K/k, N] (+ K + K + N).
        (
            2,
            6,
            None,
            3,
            True,
            (6 + 7 + 2) * 6 + 2 * 6 + 2 * (6 * 6 + 7 * 6 + 2 * 6 + 6 + 6 + 6),
        ),
        (
            3,
            6,
            4,
            2,
            True,
            (6 + 7 + 3) * 4 + 2 * 4 + 3 * (6 * 6 + 7 * 6 + 3 * 6 + 6 + 6 + 6),
        ),
        (1, 4, 5, 1, False, (6 + 7 + 1) * 5 + (6 * 4 + 7 * 4 + 4 * 6)),
    )
    def test_parameter_count(
        self, glimpses, rank, attention_rank, pool_size, use_bias, count
    ):
        layer, _ = built(
            glimpses,
            rank,
            attention_rank=attention_rank,
            pool_size=pool_size,
            use_bias=use_bias,
        )
        self.assertEqual(layer.count_params(), count)


class StructureTest(parameterized.TestCase):
    """Properties that hold whatever the weights."""

    @parameterized.parameters(
        dict(glimpses=3, use_bias=True),
        dict(glimpses=2, use_bias=False, weight_norm=True),
    )
    @backend.requires_float64
    def test_gradients_match_finite_differences(self, **kwargs):
        # The per-glimpse kernels, biases, maps and region features are
        # unstacked, not indexed: their gradients must still sum right.
        layer, _ = built(pool_size=3, **kwargs)
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=4)

        def joint(x, y):
            return layer(x, y, x_mask=X_MASK, y_mask=Y_MASK)[0]

        for got, expected in zip(
            backend.input_gradients(joint, x, y),
            test_util.finite_differences(joint, x, y),
        ):
            backend.assert_allclose(
                got, expected, **backend.close(rtol=1e-6, atol=1e-8)
            )

    def test_zero_projection_leaves_the_sum_of_tokens(self):
        # With P_g = 0 and d_g = 0 every glimpse adds nothing: f_G = x.
        layer, _ = built(3)
        layer.projection_kernel.assign(np.zeros(layer.projection_kernel.shape))
        layer.projection_bias.assign(np.zeros(layer.projection_bias.shape))
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=5)
        joint, _ = call(layer, x, y, X_MASK)
        backend.assert_allclose(
            joint,
            (x * X_MASK[..., None]).sum(1),
            **backend.close(rtol=1e-12, atol=0),
        )

    def test_matrix_form_of_one_glimpse(self):
        # Eq. 3 f'_k = σ(XᵀU')ᵀ_k A σ(YᵀV')_k, f = Pᵀ sum_pool(f') + d and
        # Eq. 9 f_1 = f·1ᵀ + X with X = xᵀ [N, ρ]: joint = Σ_i x_i + ρ f.
        layer, w = built(1, 6, pool_size=2)
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=6)
        joint, maps = call(layer, x, y)
        for b in range(3):
            big_x, big_y = x[b].T, y[b].T
            hx = references.relu(
                big_x.T @ w["feature_x_kernel"][0] + w["feature_x_bias"][0]
            )  # [ρ, K]
            hy = references.relu(
                big_y.T @ w["feature_y_kernel"][0] + w["feature_y_bias"][0]
            )  # [φ, K]
            f_prime = np.array(
                [hx[:, k] @ maps[b, 0] @ hy[:, k] for k in range(6)]
            )
            f = (
                f_prime.reshape(3, 2).sum(-1) @ w["projection_kernel"][0]
                + w["projection_bias"][0]
            )
            f_1 = np.outer(f, np.ones(4)) + big_x  # [N, ρ]
            backend.assert_allclose(
                joint[b], f_1.sum(axis=1), **backend.close(atol=0)
            )

    def test_no_valid_box_adds_only_the_biases(self):
        # Example 2 has no valid box: zero maps, f' = 0, each glimpse adds
        # d_g; with no valid token at all the joint vector is zero.
        layer, w = built(3)
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=11)
        joint, maps = call(layer, x, y, X_MASK, Y_MASK)
        self.assertTrue(np.isfinite(joint).all())
        backend.assert_array_equal(maps[2], 0.0)
        valid = X_MASK[2]
        expected = (x[2][valid] + w["projection_bias"].sum(0)).sum(0)
        backend.assert_allclose(
            joint[2], expected, **backend.close(rtol=1e-12, atol=0)
        )
        no_token = X_MASK.copy()
        no_token[1] = False
        joint, _ = call(layer, x, y, no_token, Y_MASK)
        backend.assert_array_equal(joint[1], 0.0)

    def test_padding_invariance(self):
        # Appended masked tokens and boxes of any content change nothing.
        layer, _ = built(2)
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=7)
        junk_x, junk_y = test_util.inputs((3, 3, 6), (3, 2, 7), seed=8)
        joint, maps = call(
            layer,
            np.concatenate([x, 10 * junk_x], 1),
            np.concatenate([y, 10 * junk_y], 1),
            np.concatenate([X_MASK, np.zeros((3, 3), bool)], 1),
            np.concatenate([Y_MASK, np.zeros((3, 2), bool)], 1),
        )
        ref_joint, ref_maps = call(layer, x, y, X_MASK, Y_MASK)
        backend.assert_allclose(
            joint, ref_joint, **backend.close(rtol=1e-12, atol=1e-12)
        )
        backend.assert_allclose(
            maps[:, :, :4, :5],
            ref_maps,
            **backend.close(rtol=1e-12, atol=1e-15),
        )

    def test_joint_is_invariant_to_permutations(self):
        layer, _ = built(2)
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=9)
        px, py = np.array([3, 1, 0, 2]), np.array([1, 4, 2, 0, 3])
        joint, maps = call(layer, x, y)
        joint_p, maps_p = call(layer, x[:, px], y[:, py])
        backend.assert_allclose(joint_p, joint, **backend.close(atol=0))
        backend.assert_allclose(
            maps_p,
            maps[:, :, px][:, :, :, py],
            **backend.close(rtol=1e-12, atol=0),
        )

    def test_maps_are_distributions(self):
        layer, _ = built(3)
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=10)
        _, maps = call(layer, x, y, X_MASK, Y_MASK)
        self.assertTrue((maps >= 0).all())
        backend.assert_allclose(
            maps.sum((-2, -1))[:2], 1.0, **backend.close(rtol=1e-12, atol=0)
        )
        backend.assert_array_equal(maps[2], 0.0)  # no valid box
        backend.assert_array_equal(maps[0][:, 2:], 0.0)
        backend.assert_array_equal(maps[0][:, :, [1, 4]], 0.0)


class KerasApiTest(parameterized.TestCase):
    def test_attention_shares_the_weight_arguments(self):
        layer = BilinearAttentionNetwork(
            2,
            6,
            kernel_initializer="ones",
            kernel_regularizer="l2",
            kernel_constraint="non_neg",
        )
        layer(*test_util.inputs(X_SHAPE, Y_SHAPE, dtype="float32"))
        inner = layer.attention
        self.assertIsInstance(
            inner.kernel_regularizer, type(layer.kernel_regularizer)
        )
        self.assertIsInstance(
            inner.kernel_constraint, type(layer.kernel_constraint)
        )
        inner_kernels = [
            w for w in inner.trainable_weights if "bias" not in w.name
        ]
        self.assertNotEmpty(inner_kernels)
        for weight in inner_kernels:
            backend.assert_array_equal(weight, 1.0)
        self.assertLen(inner.losses, len(inner_kernels))  # one L2 each

    def test_config_round_trip(self):
        layer = BilinearAttentionNetwork(
            4,
            12,
            attention_rank=9,
            pool_size=4,
            activation="tanh",
            use_bias=False,
            bias_regularizer="l2",
            name="ban",
        )
        config = layer.get_config()
        clone = BilinearAttentionNetwork.from_config(config)
        self.assertEqual(clone.get_config(), config)
        for key in (
            "glimpses",
            "rank",
            "attention_rank",
            "pool_size",
            "activation",
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
        self.assertEqual(clone.attention.rank, 9)

    def test_compute_output_shape(self):
        layer = BilinearAttentionNetwork(2, 6)
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, dtype="float32")
        joint, maps = layer(x, y, y_mask=Y_MASK)
        self.assertEqual(
            layer.compute_output_shape(x.shape, y.shape),
            (tuple(joint.shape), tuple(maps.shape)),
        )
        self.assertEqual(tuple(joint.shape), (3, 6))

    def test_symbolic_call_with_unknown_sizes(self):
        x, y = keras.Input((None, 6)), keras.Input((None, 7))
        y_mask = keras.Input((None,), dtype="bool")
        joint, maps = BilinearAttentionNetwork(3, 6)(x, y, y_mask=y_mask)
        self.assertEqual(tuple(joint.shape), (None, 6))
        self.assertEqual(tuple(maps.shape), (None, 3, None, None))

    def test_builds_lazily(self):
        layer = BilinearAttentionNetwork(2, 6)
        self.assertFalse(layer.built)
        self.assertEmpty(layer.weights)
        layer(*test_util.inputs(X_SHAPE, Y_SHAPE, dtype="float32"))
        self.assertEqual(
            sorted(v.path.split("/", 1)[1] for v in layer.weights),
            [
                "attention/glimpse_kernel",
                "attention/x_bias",
                "attention/x_kernel",
                "attention/y_bias",
                "attention/y_kernel",
                "feature_x_bias",
                "feature_x_kernel",
                "feature_y_bias",
                "feature_y_kernel",
                "projection_bias",
                "projection_kernel",
            ],
        )

    def test_keras_mask_is_used_as_x_mask(self):
        ids = keras.Input((4,), dtype="int32")
        boxes = keras.Input((5, 7))
        tokens = keras.layers.Embedding(9, 6, mask_zero=True)(ids)
        joint, _ = BilinearAttentionNetwork(2, 6)(tokens, boxes)
        model = keras.Model([ids, boxes], [tokens, joint])
        id_values = np.array([[3, 1, 0, 0], [2, 2, 5, 8], [4, 0, 0, 0]])
        box_values = test_util.inputs((3, 5, 7), (1,), dtype="float32")[0]
        emb, got = model.predict([id_values, box_values], verbose=0)
        expected, _ = model.layers[-1](emb, box_values, x_mask=id_values > 0)
        backend.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)

    def test_docstring_example(self):
        result = doctest.testmod(network_module)
        self.assertGreater(result.attempted, 0)
        self.assertEqual(result.failed, 0)


def boxes_for(shape=Y_SHAPE, seed=7):
    """Random (x1, y1, x2, y2) boxes [B, φ, 4] that overlap at random."""
    rng = np.random.default_rng(seed)
    corner = rng.uniform(0, 0.6, size=shape[:2] + (2,))
    return np.concatenate(
        [corner, corner + rng.uniform(0.1, 0.4, size=shape[:2] + (2,))], -1
    )


class CounterTest(parameterized.TestCase):
    """counter=True: the counting module joins each glimpse (ban-vqa)."""

    @parameterized.product(
        objects=(3, 10), masked=("", "xy"), use_bias=(True, False)
    )
    def test_matches_float64_reference(self, objects, masked, use_bias):
        layer, w = built(
            2,
            6,
            attention_rank=4,
            pool_size=1,
            counter=True,
            counter_objects=objects,
            use_bias=use_bias,
        )
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=2)
        boxes = boxes_for()
        x_mask, y_mask = (X_MASK, Y_MASK) if masked else (None, None)
        joint, maps = layer(x, y, x_mask=x_mask, y_mask=y_mask, boxes=boxes)
        ref_joint, ref_maps = refs.ban_network(
            x,
            y,
            w,
            1,
            references.relu,
            x_mask,
            y_mask,
            boxes=boxes,
            objects=objects,
        )
        backend.assert_allclose(maps, ref_maps, **backend.close(atol=1e-12))
        backend.assert_allclose(joint, ref_joint, **backend.close())

    def plain_and_counting(self):
        """The same BAN without and with the counter, shared weights."""
        counting, w = built(3, 6, counter=True, counter_objects=4)
        plain, _ = built(3, 6)
        for v in plain.weights:
            v.assign(w[v.path.split("/", 1)[1]])
        return plain, counting

    def test_logit_bias_leaves_the_maps(self):
        plain, counting = self.plain_and_counting()
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=3)
        args = dict(x_mask=X_MASK, y_mask=Y_MASK)
        backend.assert_allclose(
            counting(x, y, boxes=boxes_for(), **args)[1],
            plain(x, y, **args)[1],
            **backend.close(rtol=1e-12, atol=1e-14),
        )

    def test_zero_count_projection_is_the_plain_network(self):
        # σ(0·c_g + 0) = ReLU(0) = 0: the counter then adds nothing.
        plain, counting = self.plain_and_counting()
        counting.count_kernel.assign(np.zeros(counting.count_kernel.shape))
        counting.count_bias.assign(np.zeros(counting.count_bias.shape))
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=4)
        backend.assert_allclose(
            counting(x, y, x_mask=X_MASK, boxes=boxes_for())[0],
            plain(x, y, x_mask=X_MASK)[0],
            **backend.close(rtol=1e-12, atol=1e-12),
        )

    def test_parameter_count(self):
        # Plain BAN + h_g per glimpse + f_1..f_8 (16 weights each) + per
        # glimpse Q_g [n+1, N] and e_g [N].
        plain, counting = self.plain_and_counting()
        g, n, objects = 3, 6, 4
        self.assertEqual(
            counting.count_params(),
            plain.count_params() + g + 8 * 16 + g * ((objects + 1) * n + n),
        )

    def test_keras_file_round_trip(self):
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, dtype="float32")
        boxes = boxes_for().astype("float32")
        inputs = [keras.Input(X_SHAPE[1:]), keras.Input(Y_SHAPE[1:])]
        box_input = keras.Input(Y_SHAPE[1:2] + (4,))
        layer = BilinearAttentionNetwork(2, 6, counter=True, name="ban")
        joint, _ = layer(*inputs, boxes=box_input)
        model = keras.Model(inputs + [box_input], joint)
        test_util.random_weights(layer, 5)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "ban.keras")
            model.save(path)
            clone = keras.models.load_model(path)
        self.assertEqual(
            clone.get_layer("ban").get_config(), layer.get_config()
        )
        backend.assert_array_equal(
            clone.predict([x, y, boxes], verbose=0),
            model.predict([x, y, boxes], verbose=0),
        )

    def test_config(self):
        layer = BilinearAttentionNetwork(2, 6, counter=True, counter_objects=7)
        config = layer.get_config()
        self.assertEqual(
            (config["counter"], config["counter_objects"]), (True, 7)
        )
        clone = BilinearAttentionNetwork.from_config(config)
        self.assertEqual(clone.count_layer.objects, 7)
        self.assertTrue(clone.attention.use_logit_bias)
        self.assertFalse(
            BilinearAttentionNetwork(2, 6).get_config()["counter"]
        )

    def test_boxes_required(self):
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, dtype="float32")
        with self.assertRaisesRegex(
            ValueError,
            r"BilinearAttentionNetwork\(counter=True\) needs the regions' "
            r"`boxes` \[batch, regions, 4\], got boxes=None\.",
        ):
            BilinearAttentionNetwork(2, 6, counter=True)(x, y)

    def test_boxes_refused_without_counter(self):
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, dtype="float32")
        with self.assertRaisesRegex(
            ValueError,
            r"BilinearAttentionNetwork: `boxes` are read by the counter only, "
            r"which is off \(counter=False\), got boxes of shape "
            r"\(3, 5, 4\)\.",
        ):
            BilinearAttentionNetwork(2, 6)(x, y, boxes=boxes_for())

    def test_bad_boxes_shape(self):
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, dtype="float32")
        with self.assertRaisesRegex(
            ValueError,
            r"BilinearAttentionNetwork: boxes must be \[batch, regions, 4\] "
            r"= \(3, 5, 4\) for y of shape \(3, 5, 7\), got boxes of shape "
            r"\(3, 4, 4\)\.",
        ):
            BilinearAttentionNetwork(2, 6, counter=True)(
                x, y, boxes=np.zeros((3, 4, 4), "float32")
            )

    @parameterized.parameters(
        (
            dict(counter=1),
            r"`counter` must be a bool, got counter=1\.",
        ),
        (
            dict(counter=True, counter_objects=0),
            r"`counter_objects` must be a positive integer, "
            r"got counter_objects=0\.",
        ),
    )
    def test_bad_counter_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            BilinearAttentionNetwork(2, 6, **kwargs)


class WeightNormTest(parameterized.TestCase):
    """weight_norm=True is the plain layer with W = g·V/‖V‖ folded in."""

    def pair(self, counter):
        normed, w = built(
            3, 6, attention_rank=4, counter=counter, weight_norm=True
        )
        plain, _ = built(3, 6, attention_rank=4, counter=counter)
        for v in plain.weights:
            path = v.path.split("/", 1)[1]
            value = w[path]
            if path + "_scale" in w:  # one g per kernel, per glimpse here
                axes = None if path.startswith("attention/") else (1, 2)
                value = folded(value, w[path + "_scale"], axes)
            v.assign(value)
        return normed, plain

    @parameterized.parameters(False, True)
    def test_equals_the_plain_layer_with_folded_weights(self, counter):
        normed, plain = self.pair(counter)
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=6)
        kwargs = dict(x_mask=X_MASK, y_mask=Y_MASK)
        if counter:
            kwargs["boxes"] = boxes_for()
        for got, want in zip(normed(x, y, **kwargs), plain(x, y, **kwargs)):
            backend.assert_allclose(
                got, want, **backend.close(rtol=1e-12, atol=1e-12)
            )

    @parameterized.parameters(False, True)
    def test_parameter_count(self, counter):
        # One g for each of U, V, p (p of all glimpses together) and one
        # per glimpse for U'_g, V'_g, P_g (and Q_g).
        normed, plain = self.pair(counter)
        per_glimpse = 4 if counter else 3
        self.assertEqual(
            normed.count_params(), plain.count_params() + 3 + 3 * per_glimpse
        )
        self.assertEqual(
            tuple(normed.attention.glimpse_kernel_scale.shape), (1, 1)
        )
        self.assertEqual(tuple(normed.feature_x_kernel_scale.shape), (3, 1, 1))

    def test_initially_the_plain_layer_of_v(self):
        # g starts at ‖V‖ (torch's weight_norm): same outputs as without it.
        normed = BilinearAttentionNetwork(
            2, 6, weight_norm=True, dtype="float64"
        )
        plain = BilinearAttentionNetwork(2, 6, dtype="float64")
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, seed=7)
        normed(x, y)
        plain(x, y)
        for v in plain.weights:
            v.assign(
                as_numpy(
                    {u.path.split("/", 1)[1]: u for u in normed.weights}[
                        v.path.split("/", 1)[1]
                    ]
                )
            )
        backend.assert_allclose(
            normed(x, y)[0],
            plain(x, y)[0],
            **backend.close(rtol=1e-12, atol=1e-12),
        )

    def test_config_and_bad_argument(self):
        config = BilinearAttentionNetwork(2, 6, weight_norm=True).get_config()
        self.assertTrue(config["weight_norm"])
        clone = BilinearAttentionNetwork.from_config(config)
        self.assertTrue(clone.attention.weight_norm)
        with self.assertRaisesRegex(
            ValueError,
            r"`weight_norm` must be a bool, got weight_norm='yes'\.",
        ):
            BilinearAttentionNetwork(2, 6, weight_norm="yes")


class BadInputTest(parameterized.TestCase):
    @parameterized.parameters(
        (
            dict(glimpses=-1, rank=6),
            r"`glimpses` must be a positive integer, "
            r"got glimpses=-1\.",
        ),
        (dict(glimpses=2, rank=0), r"got rank=0"),
        (
            dict(glimpses=2, rank=6, attention_rank=0),
            r"`attention_rank` must be a positive integer, got attention_rank=0",
        ),
        (
            dict(glimpses=2, rank=6, pool_size=0),
            r"`pool_size` must be a positive integer, got pool_size=0",
        ),
        (
            dict(glimpses=2, rank=7, pool_size=3),
            r"`rank` must be a multiple of `pool_size` \(the k-sum pooling sums "
            r"windows of pool_size features\), got rank=7 and pool_size=3\.",
        ),
        (dict(glimpses=2, rank=6, use_bias="no"), r"got use_bias='no'"),
        (
            dict(glimpses=2, rank=6, return_logits=True),
            r"Unrecognized keyword arguments passed to BilinearAttentionNetwork: "
            r"\{'return_logits': True\}",
        ),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            BilinearAttentionNetwork(**kwargs)

    @parameterized.parameters(
        (
            (3, 4),
            (3, 5, 7),
            r"BilinearAttentionNetwork: x has shape \(3, 4\) "
            r"and y has shape \(3, 5, 7\); x must have rank 3",
        ),
        ((3, 4, 6), (4, 5, 7), r"the batch sizes differ"),
    )
    def test_bad_shapes(self, x_shape, y_shape, message):
        with self.assertRaisesRegex(ValueError, message):
            BilinearAttentionNetwork(2, 6)(
                np.zeros(x_shape, "float32"), np.zeros(y_shape, "float32")
            )

    def test_bad_mask_shape(self):
        x, y = test_util.inputs(X_SHAPE, Y_SHAPE, dtype="float32")
        with self.assertRaisesRegex(
            ValueError,
            r"BilinearAttentionNetwork: y_mask has shape "
            r"\(3, 4\) and y has shape \(3, 5, 7\); y_mask must be "
            r"\[batch, positions\] = \(3, 5\)\.",
        ):
            BilinearAttentionNetwork(2, 6)(x, y, y_mask=np.ones((3, 4), bool))


if __name__ == "__main__":
    absltest.main()
