"""Tests of RelationNetwork (RN) against the paper's naive pairwise form."""

import doctest

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.fusion import RelationNetwork
from mi_zoo.fusion import relation_network as rn_module
from tests import backend
from tests.backend import as_numpy
from tests.layers import test_util

FUSIONS = ("concat", "film", "mi")


def relu(x):
    return np.maximum(x, 0.0)


def weights_of(layer):
    """{weight path relative to the layer: float64 value}."""
    prefix = layer.name + "/"
    return {
        w.path[len(prefix) :]: as_numpy(w).astype(np.float64)
        for w in layer.weights
    }


def mi_reference(x, q, w, prefix, use_bias):
    """The MI of one sublayer, from the MI paper's formula, x [.., n]."""
    if f"{prefix}/kernel" in w:  # full: qᵀWx + qᵀU + Vx (+ b)
        y = np.einsum("...m,mnk,...n->...k", q, w[f"{prefix}/kernel"], x)
    else:  # low rank: Pᵀ((Aᵀq) ∘ (Bᵀx)) + qᵀU + Vx (+ b)
        y = (
            (q @ w[f"{prefix}/context_factor"])
            * (x @ w[f"{prefix}/input_factor"])
        ) @ w[f"{prefix}/output_factor"]
    y = y + q @ w[f"{prefix}/context_kernel"] + x @ w[f"{prefix}/input_kernel"]
    return y + w[f"{prefix}/bias"] if use_bias else y


def reference(objects, question, w, fusion, g_layers, f_layers, mask=None):
    """RN(O, q) = f(Σ_{i,j} g(o_i, o_j, q)), pair by pair, in float64."""
    batch, n, d = objects.shape
    out = []
    for b in range(batch):
        q = question[b]
        total = 0.0
        for i in range(n):
            for j in range(n):
                if mask is not None and not (mask[b, i] and mask[b, j]):
                    continue
                pair = np.concatenate([objects[b, i], objects[b, j]])
                if fusion == "concat":
                    h = (
                        np.concatenate([pair, q]) @ w["pair_kernel"]
                        + w["pair_bias"]
                    )
                elif fusion == "film":
                    h = pair @ w["pair_kernel"] + w["pair_bias"]
                    gamma = (
                        1 + q @ w["film/gamma_kernel"] + w["film/gamma_bias"]
                    )
                    beta = q @ w["film/beta_kernel"] + w["film/beta_bias"]
                    h = gamma * h + beta
                else:  # one MI of [o_i; o_j]: the sum of its two halves
                    h = mi_reference(
                        objects[b, i], q, w, "mi_first", True
                    ) + mi_reference(objects[b, j], q, w, "mi_second", False)
                g = relu(h)
                for l in range(2, g_layers + 1):
                    g = relu(g @ w[f"g_kernel_{l}"] + w[f"g_bias_{l}"])
                total = total + g
        x = total
        for l in range(1, f_layers + 1):
            x = relu(x @ w[f"f_kernel_{l}"] + w[f"f_bias_{l}"])
        out.append(x)
    return np.stack(out)


def data(batch=3, n=4, d=5, m=3, seed=1, dtype="float64"):
    objects, question = test_util.inputs(
        (batch, n, d), (batch, m), seed, dtype
    )
    mask = np.random.default_rng(seed).random((batch, n)) < 0.6
    mask[:, 0] = True
    return objects, question, mask


def built(fusion, dtype="float64", seed=0, **kwargs):
    kwargs = {"g_units": [6, 4], "f_units": [3], **kwargs}
    layer = RelationNetwork(question_fusion=fusion, dtype=dtype, **kwargs)
    objects, question, _ = data(dtype=dtype)
    layer(objects, question)
    test_util.random_weights(layer, seed, scale=0.4)
    return layer


class FormulaTest(parameterized.TestCase):
    @parameterized.product(fusion=FUSIONS, masked=(False, True))
    def test_matches_float64_pairwise_reference(self, fusion, masked):
        layer = built(fusion)
        objects, question, mask = data()
        mask = mask if masked else None
        got = as_numpy(layer(objects, question, mask))
        expected = reference(
            objects, question, weights_of(layer), fusion, 2, 1, mask
        )
        self.assertEqual(got.shape, (3, 3))
        backend.assert_allclose(got, expected, **backend.close())

    @parameterized.parameters(
        (dict(f_units=[]),),
        (dict(g_units=[5], f_units=[4, 2]),),
        (dict(g_units=[3, 4, 5, 2]),),
    )
    def test_depths_of_g_and_f(self, kwargs):
        layer = built("concat", **kwargs)
        objects, question, mask = data()
        got = as_numpy(layer(objects, question, mask))
        expected = reference(
            objects,
            question,
            weights_of(layer),
            "concat",
            len(layer.g_units),
            len(layer.f_units),
            mask,
        )
        backend.assert_allclose(got, expected, **backend.close())

    def test_low_rank_mi(self):
        layer = built("mi", mi_rank=2)
        objects, question, mask = data()
        got = as_numpy(layer(objects, question, mask))
        expected = reference(
            objects, question, weights_of(layer), "mi", 2, 1, mask
        )
        backend.assert_allclose(got, expected, **backend.close())

    def test_mi_is_one_mi_of_the_concatenated_pair(self):
        # MI([o_i; o_j], q) with W = [W_1; W_2] (input axis), U = U_1 + U_2,
        # V = [V_1; V_2], b = b_1: the layer's split computes exactly it.
        layer = built("mi", g_units=[4], f_units=[])
        w = weights_of(layer)
        objects, question, _ = data(batch=1, n=2)
        a, c, e = (
            as_numpy(t) for t in layer.first_layer_terms(objects, question)
        )
        pair = np.concatenate([objects[0, 0], objects[0, 1]])
        whole = (
            np.einsum(
                "m,mnk,n->k",
                question[0],
                np.concatenate(
                    [w["mi_first/kernel"], w["mi_second/kernel"]], 1
                ),
                pair,
            )
            + question[0]
            @ (w["mi_first/context_kernel"] + w["mi_second/context_kernel"])
            + pair
            @ np.concatenate(
                [w["mi_first/input_kernel"], w["mi_second/input_kernel"]]
            )
            + w["mi_first/bias"]
        )
        backend.assert_allclose(
            a[0, 0] + c[0, 1] + e[0], whole, **backend.close(atol=0)
        )

    @parameterized.parameters(*FUSIONS)
    def test_float32_equals_the_naive_pairwise_concat_form(self, fusion):
        # The N² concatenations [o_i; o_j(; q)] through one dense layer, as
        # the paper (and its peer code) computes g's first layer.
        layer = built(fusion, dtype="float32", g_units=[8, 8], f_units=[])
        objects, question, _ = data(n=5, dtype="float32")
        n = objects.shape[1]
        pairs = keras.ops.concatenate(
            [
                keras.ops.repeat(objects[:, :, None], n, axis=2),
                keras.ops.repeat(objects[:, None], n, axis=1),
            ],
            -1,
        )  # [B,N,N,2d]
        if fusion == "concat":
            qs = keras.ops.broadcast_to(
                question[:, None, None], (3, n, n, question.shape[-1])
            )
            h = (
                keras.ops.matmul(
                    keras.ops.concatenate([pairs, qs], -1), layer.pair_kernel
                )
                + layer.pair_bias
            )
        elif fusion == "film":
            h = layer.film(
                keras.ops.matmul(pairs, layer.pair_kernel) + layer.pair_bias,
                question,
            )
        else:
            d = objects.shape[-1]
            h = layer.mi_first(pairs[..., :d], question) + layer.mi_second(
                pairs[..., d:], question
            )
        g = keras.ops.relu(h)
        g = keras.ops.relu(
            keras.ops.matmul(g, layer.g_kernels[0]) + layer.g_biases[0]
        )
        naive = keras.ops.sum(g, axis=(1, 2))
        backend.assert_allclose(
            layer(objects, question), naive, rtol=1e-5, atol=1e-4
        )


class MaskTest(parameterized.TestCase):
    @parameterized.parameters(*FUSIONS)
    def test_masked_objects_contribute_nothing(self, fusion):
        layer = built(fusion)
        objects, question, mask = data()
        changed = objects.copy()
        changed[~mask] = 1e3 * np.random.default_rng(5).normal(
            size=changed[~mask].shape
        )
        backend.assert_array_equal(
            layer(objects, question, mask), layer(changed, question, mask)
        )

    @parameterized.parameters(*FUSIONS)
    def test_masked_set_equals_the_set_of_its_objects(self, fusion):
        layer = built(fusion)
        objects, question, mask = data()
        got = as_numpy(layer(objects, question, mask))
        for b in range(objects.shape[0]):
            alone = layer(objects[b : b + 1, mask[b]], question[b : b + 1])
            backend.assert_allclose(
                got[b], as_numpy(alone)[0], **backend.close(atol=0)
            )

    def test_all_masked_gives_f_of_zero(self):
        layer = built("concat")
        objects, question, _ = data()
        none = np.zeros(objects.shape[:2], bool)
        w = weights_of(layer)
        backend.assert_allclose(
            layer(objects, question, none),
            np.broadcast_to(relu(w["f_bias_1"]), (3, 3)),
            **backend.close(rtol=1e-12, atol=0),
        )


class StructureTest(parameterized.TestCase):
    def test_the_sum_is_over_all_ordered_pairs(self):
        # Without f: permuting the objects changes nothing, and an object
        # taken twice gives its pair (o, o) four times (i = j included).
        layer = built("concat", g_units=[4, 2], f_units=[])
        objects, question, _ = data()
        backend.assert_allclose(
            layer(objects, question),
            layer(objects[:, ::-1], question),
            **backend.close(rtol=1e-12, atol=0),
        )
        one = objects[:, :1]
        backend.assert_allclose(
            layer(np.concatenate([one, one], 1), question),
            4 * as_numpy(layer(one, question)),
            **backend.close(rtol=1e-12, atol=0),
        )

    @parameterized.parameters(
        ("concat", 2 * 5 * 6 + 3 * 6 + 6),
        ("film", 2 * 5 * 6 + 6 + 2 * (3 * 6 + 6)),
        ("mi", 2 * (3 * 5 * 6 + 3 * 6 + 5 * 6) + 6),
    )
    def test_parameter_count_of_the_first_layer(self, fusion, count):
        layer = built(fusion, g_units=[6], f_units=[])
        self.assertEqual(layer.count_params(), count)

    @parameterized.parameters(*FUSIONS)
    def test_config_round_trip(self, fusion):
        layer = built(
            fusion, dtype="float32", mi_rank=2 if fusion == "mi" else None
        )
        config = layer.get_config()
        self.assertEqual(config["g_units"], [6, 4])
        clone = RelationNetwork.from_config(config)
        objects, question, mask = data(dtype="float32")
        clone(objects, question)
        clone.set_weights(layer.get_weights())
        backend.assert_array_equal(
            clone(objects, question, mask), layer(objects, question, mask)
        )

    def test_compute_output_shape(self):
        self.assertEqual(
            RelationNetwork([4, 5], [7]).compute_output_shape(
                (None, 9, 3), (None, 2)
            ),
            (None, 7),
        )
        self.assertEqual(
            RelationNetwork([4, 5]).compute_output_shape(
                (None, 9, 3), (None, 2)
            ),
            (None, 5),
        )

    def test_docstring_example(self):
        results = doctest.testmod(rn_module, verbose=False)
        self.assertGreater(results.attempted, 0)
        self.assertEqual(results.failed, 0)


class ErrorTest(parameterized.TestCase):
    @parameterized.parameters(
        (
            dict(g_units=[]),
            r"`g_units` must be a non-empty list of positive "
            r"ints, got g_units=\[\]\.",
        ),
        (dict(g_units=4), r"got g_units=4\."),
        (
            dict(g_units=[4], f_units=[0]),
            r"`f_units` must be a list of "
            r"positive ints, got f_units=\[0\]\.",
        ),
        (
            dict(g_units=[4], question_fusion="add"),
            r"got question_fusion='add'",
        ),
        (dict(g_units=[4], mi_rank=0), r"got mi_rank=0"),
        (
            dict(g_units=[4], mi_rank=2),
            r"`mi_rank` is only used by "
            r"question_fusion='mi', got mi_rank=2 with question_fusion="
            r"'concat'\.",
        ),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            RelationNetwork(**kwargs)

    def test_bad_shapes(self):
        with self.assertRaisesRegex(
            ValueError,
            r"objects \[batch, N, d\] and a question "
            r"\[batch, m\] with known d and m, got objects shape "
            r"\(2, 5\) and question shape \(2, 3\)\.",
        ):
            RelationNetwork([4])(np.ones((2, 5)), np.ones((2, 3)))

    def test_bad_mask(self):
        with self.assertRaisesRegex(
            ValueError,
            r"mask has shape \(2, 3\) and objects has shape "
            r"\(2, 4, 5\)",
        ):
            RelationNetwork([4])(
                np.ones((2, 4, 5)), np.ones((2, 3)), np.ones((2, 3), bool)
            )


if __name__ == "__main__":
    absltest.main()
