"""Kim & Zhang's Hadamard explanation against float64 NumPy references
written from the formula, on hand-built models."""

from absl.testing import absltest
import keras
import numpy as np

from mi_zoo import explain
from mi_zoo import fusion
from mi_zoo import layers as mi_layers
from mi_zoo.core import specs
from mi_zoo.models import vqa as vqa_models

B, T, E, P, C, H, D = 3, 4, 5, 6, 2, 7, 8
QUESTION = np.array([[1, 2, 3, 0], [4, 4, 1, 2], [2, 0, 0, 0]], np.int32)


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "question": QUESTION,
        "image": rng.normal(size=(B, P, C)).astype(np.float32),
    }


def _trunks():
    """question -> embeddings [B, T·E]; image [B, P, C] (P positions of C
    channels) -> flattened -> ReLU layer [B, H]."""
    question = keras.Input((T,), dtype="int32", name="question")
    image = keras.Input((P, C), name="image")
    embedded = keras.layers.Embedding(6, E, name="word_embedding")(question)
    q = keras.layers.Flatten()(embedded)  # [B, T·E]
    h = keras.layers.Dense(H, activation="relu", name="image_layer")(
        keras.layers.Flatten()(image)
    )
    return question, image, q, h


def _weights(model, name):
    return [
        np.asarray(w, np.float64) for w in model.get_layer(name).get_weights()
    ]


def _token_zscores(gradient):
    """Reference: z-scores over the real tokens of Σ_e |∇_q|."""
    scores = np.abs(gradient).sum(-1)
    out = np.zeros_like(scores)
    for i, row in enumerate(QUESTION):
        real = row != 0
        s = scores[i][real]
        out[i][real] = (s - s.mean()) / max(s.std(), 1e-12)
    return out


def _image_backward(model, inputs, g_h, guided):
    """From ∂/∂h back to the image through Dense + ReLU (guided or not)."""
    w1, b1 = _weights(model, "image_layer")
    pre = _flat(inputs) @ w1 + b1
    upstream = np.maximum(g_h, 0.0) if guided else g_h
    return ((pre > 0) * upstream) @ w1.T, np.maximum(pre, 0.0)


def _flat(inputs):
    return inputs["image"].astype(np.float64).reshape(B, P * C)


class MlbReferenceTest(absltest.TestCase):
    """Q = tanh(Uᵀq + b_x), V = tanh(Vᵀh + b_y), F = Q ∘ V (MLB)."""

    def setUp(self):
        super().setUp()
        keras.utils.set_random_seed(1)
        question, image, q, h = _trunks()
        joint = fusion.LowRankBilinearPooling(D, units=None, name="fusion")(
            q, h
        )
        logits = keras.layers.Dense(3)(joint)
        self.model = keras.Model(
            {"question": question, "image": image}, logits
        )

    def _reference(self, inputs, guided):
        emb = _weights(self.model, "word_embedding")[0]
        ux, bx, uy, by = (_weights(self.model, "fusion")[i] for i in range(4))
        e = emb[inputs["question"]].reshape(B, T * E)
        w1, b1 = _weights(self.model, "image_layer")
        h = np.maximum(_flat(inputs) @ w1 + b1, 0.0)
        qq, vv = np.tanh(e @ ux + bx), np.tanh(h @ uy + by)
        f = qq * vv
        g_h = ((vv - f) * (1 - vv**2)) @ uy.T
        g_image, _ = _image_backward(self.model, inputs, g_h, guided)
        g_q = (((qq - f) * (1 - qq**2)) @ ux.T).reshape(B, T, E)
        return g_image.reshape(B, P, C), g_q

    def test_matches_the_formula_guided_and_plain(self):
        inputs = _inputs()
        self.assertEqual(
            [w.shape for w in self.model.get_layer("fusion").get_weights()][
                :4
            ],
            [(T * E, D), (D,), (H, D), (D,)],
        )
        for guided in (True, False):
            result = explain.hadamard_explanation(
                self.model, inputs, guided=guided
            )
            g_image, g_q = self._reference(inputs, guided)
            self.assertEqual(result.layer, "fusion")
            self.assertEqual(result.guided, guided)
            np.testing.assert_allclose(
                result.image_gradient, g_image, rtol=1e-4, atol=1e-6
            )
            np.testing.assert_allclose(
                result.token_gradient, g_q, rtol=1e-4, atol=1e-6
            )
            np.testing.assert_allclose(
                result.token_scores, _token_zscores(g_q), atol=1e-4
            )
        # Guided differs from plain back-propagation on these weights.
        plain = explain.hadamard_explanation(self.model, inputs, guided=False)
        guided = explain.hadamard_explanation(self.model, inputs)
        self.assertGreater(
            np.abs(plain.image_gradient - guided.image_gradient).max(), 1e-4
        )

    def test_maps_and_scores(self):
        result = explain.hadamard_explanation(self.model, _inputs())
        z = result.image_zscores  # [B, P, C]: per channel over positions.
        g = result.image_gradient
        reference = (g - g.mean(1, keepdims=True)) / g.std(1, keepdims=True)
        np.testing.assert_allclose(z, reference, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(
            result.image_map, np.abs(reference).mean(-1), atol=1e-4
        )
        self.assertEqual(result.image_map.shape, (B, P))
        self.assertTrue(np.all(result.image_map >= 0))
        # Padding scores 0; the real tokens' scores are z-scores.
        np.testing.assert_array_equal(result.token_mask, QUESTION != 0)
        self.assertTrue(np.all(result.token_scores[QUESTION == 0] == 0))
        for i in range(2):
            real = result.token_scores[i][QUESTION[i] != 0]
            self.assertAlmostEqual(real.mean(), 0.0, places=5)
            self.assertAlmostEqual(real.std(), 1.0, places=4)


class KnownAnswerTest(absltest.TestCase):
    """Identity projections, no activation, one token: Q = q, V = image,
    F = q ∘ image, so ∇_v = image ∘ (1 − q) and ∇_q = q ∘ (1 − image)."""

    def test_identity_mlb(self):
        question = keras.Input((1,), dtype="int32", name="question")
        image = keras.Input((D,), name="image")
        q = keras.layers.Flatten()(
            keras.layers.Embedding(3, D, name="word_embedding")(question)
        )
        mlb = fusion.LowRankBilinearPooling(
            D, units=None, activation=None, use_bias=False, name="fusion"
        )
        model = keras.Model(
            {"question": question, "image": image}, mlb(q, image)
        )
        mlb.set_weights([np.eye(D), np.eye(D)])
        rng = np.random.default_rng(3)
        embeddings = rng.normal(size=(3, D))
        model.get_layer("word_embedding").set_weights([embeddings])
        tokens = np.array([[1], [2]], np.int32)
        pixels = rng.normal(size=(2, D)).astype(np.float32)
        result = explain.hadamard_explanation(
            model, {"question": tokens, "image": pixels}
        )
        self.assertFalse(result.guided)  # No ReLU in this model.
        e = embeddings[tokens[:, 0]]
        np.testing.assert_allclose(
            result.image_gradient, pixels * (1 - e), rtol=1e-5, atol=1e-6
        )
        np.testing.assert_allclose(
            result.token_gradient[:, 0], e * (1 - pixels), rtol=1e-5, atol=1e-6
        )


class MiLayerTest(absltest.TestCase):
    """The MI low-rank form takes the image first (x) and the question as
    context (z): the side that depends on the image is V whatever its
    position."""

    def test_image_as_first_input(self):
        keras.utils.set_random_seed(2)
        question, image, q, h = _trunks()
        mi = mi_layers.MultiplicativeInteraction(
            3, form="low_rank", rank=D, name="fusion"
        )
        model = keras.Model({"question": question, "image": image}, mi(h, q))
        inputs = _inputs(1)
        result = explain.hadamard_explanation(model, inputs)
        w1, b1 = _weights(model, "image_layer")
        emb = _weights(model, "word_embedding")[0]
        a = np.asarray(mi.context_factor, np.float64)
        b = np.asarray(mi.input_factor, np.float64)
        e = emb[inputs["question"]].reshape(B, T * E)
        h = np.maximum(_flat(inputs) @ w1 + b1, 0.0)
        vv, qq = h @ b, e @ a
        f = vv * qq
        g_image, _ = _image_backward(model, inputs, (vv - f) @ b.T, True)
        np.testing.assert_allclose(
            result.image_gradient,
            g_image.reshape(B, P, C),
            rtol=1e-4,
            atol=1e-6,
        )
        np.testing.assert_allclose(
            result.token_gradient,
            ((qq - f) @ a.T).reshape(B, T, E),
            rtol=1e-4,
            atol=1e-6,
        )


#: The zoo's models with a Hadamard fusion, and that fusion's layer name.
HADAMARD_MODELS = {
    "mlb": "fusion",
    "marn": "fusion",
    "mi": "fusion",
    "ban": "bilinear_attention",
    "mfb": "fusion",
    "mfh": "fusion",
}


def _zoo_spec_and_inputs():
    """A small pixel VQA spec and a batch of two for it."""
    rng = np.random.default_rng(0)
    return specs.VqaSpec(20, 5, "pixels", (16, 16, 3), 4), {
        "question": np.array([[3, 4, 0, 0, 0]] * 2, np.int32),
        "image": rng.random((2, 16, 16, 3)).astype(np.float32),
    }


class ZooModelsTest(absltest.TestCase):
    def test_every_hadamard_model_and_the_others(self):
        spec, inputs = _zoo_spec_and_inputs()
        expected = HADAMARD_MODELS
        for name in vqa_models.VQA_MODELS.names():
            model = vqa_models.VQA_MODELS.build(name, spec, size="small")
            if name in expected:
                result = explain.hadamard_explanation(model, inputs)
                self.assertEqual(result.layer, expected[name], name)
                self.assertTrue(result.guided, name)  # The pixel CNN.
                self.assertEqual(result.image_map.shape, (2, 16, 16))
                self.assertGreater(
                    np.abs(result.image_gradient).sum(), 0, name
                )
            else:
                with self.assertRaisesRegex(
                    ValueError, f"Model '{name}' has no Hadamard"
                ):
                    explain.hadamard_explanation(model, inputs)

    def test_mixed_precision_models_as_their_float32_twins(self):
        # Under --mixed_precision the layers before the fusion compute in
        # bfloat16 and the fusion's variables stay float32: the terms are
        # computed in float32 outside the layer's call (BAN and MFH raised
        # a dtype mismatch before), and the explanation is the float32
        # model's up to bfloat16 rounding.
        spec, inputs = _zoo_spec_and_inputs()
        for name in HADAMARD_MODELS:
            keras.utils.set_random_seed(0)
            model = vqa_models.VQA_MODELS.build(name, spec, size="small")
            keras.config.set_dtype_policy("mixed_bfloat16")
            try:
                mixed = vqa_models.VQA_MODELS.build(name, spec, size="small")
            finally:
                keras.config.set_dtype_policy("float32")
            mixed.set_weights(model.get_weights())
            expected = explain.hadamard_explanation(model, inputs)
            got = explain.hadamard_explanation(mixed, inputs)
            self.assertEqual(got.layer, expected.layer, name)
            # Relative errors: the tokens' gradient (from the embedding
            # straight into the terms) 0.006-0.007, bfloat16's rounding;
            # the image's, back through the bfloat16 pixel CNN, 0.03-0.07.
            for field, tolerance in (
                ("token_gradient", 0.02),
                ("image_gradient", 0.15),
            ):
                want = getattr(expected, field)
                diff = np.linalg.norm(getattr(got, field) - want)
                self.assertGreater(np.linalg.norm(want), 0, (name, field))
                self.assertLess(
                    diff / np.linalg.norm(want), tolerance, (name, field)
                )


class TermsTest(absltest.TestCase):
    """`hadamard_terms` returns the factors the layer really multiplies."""

    def test_terms_rebuild_the_outputs(self):
        rng = np.random.default_rng(5)
        x = rng.normal(size=(2, 3, 6)).astype(np.float32)  # [B, S, n]
        z = rng.normal(size=(2, 4)).astype(np.float32)  # [B, m]
        mlb = fusion.LowRankBilinearPooling(5, units=None)
        y = np.asarray(mlb(z, x))  # Builds the layer.
        ((a, b),) = mlb.hadamard_terms(z, x)
        np.testing.assert_allclose(
            y, np.asarray(a) * np.asarray(b), rtol=1e-5, atol=1e-6
        )
        mi = mi_layers.MultiplicativeInteraction(2, form="low_rank", rank=3)
        y = np.asarray(mi(x, z))
        ((a, b),) = mi.hadamard_terms(x, z)
        rebuilt = (
            (np.asarray(a) * np.asarray(b)) @ np.asarray(mi.output_factor)
            + x @ np.asarray(mi.input_kernel)
            + (z @ np.asarray(mi.context_kernel))[:, None]
            + np.asarray(mi.bias)
        )
        np.testing.assert_allclose(y, rebuilt, rtol=1e-4, atol=1e-5)
        mfh = fusion.FactorizedBilinearPooling(
            2, factor=3, order=2, power_normalize=False, l2_normalize=False
        )
        y = np.asarray(mfh(z, x))  # [B, S, 2·2]
        terms = mfh.hadamard_terms(z, x)
        self.assertLen(terms, 2)
        for i, (a, b) in enumerate(terms):
            pooled = (
                (np.asarray(a) * np.asarray(b)).reshape(2, 3, 2, 3).sum(-1)
            )
            np.testing.assert_allclose(
                y[..., 2 * i : 2 * i + 2], pooled, rtol=1e-4, atol=1e-5
            )


class ErrorsTest(absltest.TestCase):
    def test_bad_layer_name(self):
        question, image, q, h = _trunks()
        model = keras.Model(
            {"question": question, "image": image},
            fusion.LowRankBilinearPooling(D, name="fusion")(q, h),
        )
        with self.assertRaisesRegex(
            ValueError, r"one of \['fusion'\], got layer='image_layer'"
        ):
            explain.hadamard_explanation(model, _inputs(), layer="image_layer")

    def test_full_mi_form_is_no_hadamard_product(self):
        question, image, q, h = _trunks()
        model = keras.Model(
            {"question": question, "image": image},
            mi_layers.MultiplicativeInteraction(3, name="fusion")(h, q),
        )
        self.assertEqual(explain.hadamard_layers(model), [])
        with self.assertRaisesRegex(ValueError, "no Hadamard-product"):
            explain.hadamard_explanation(model, _inputs())
        layer = model.get_layer("fusion")
        with self.assertRaisesRegex(ValueError, "form='full'"):
            layer.hadamard_terms(np.ones((1, H)), np.ones((1, T * E)))

    def test_both_inputs_from_the_image(self):
        question, image, _, h = _trunks()
        other = keras.layers.Dense(H)(keras.layers.Flatten()(image))
        model = keras.Model(
            {"question": question, "image": image},
            fusion.LowRankBilinearPooling(D, name="fusion")(other, h),
        )
        with self.assertRaisesRegex(
            ValueError, "exactly one of its two inputs"
        ):
            explain.hadamard_explanation(model, _inputs())

    def test_missing_embedding_layer(self):
        question, image, q, h = _trunks()
        model = keras.Model(
            {"question": question, "image": image},
            fusion.LowRankBilinearPooling(D, name="fusion")(q, h),
        )
        with self.assertRaisesRegex(ValueError, "no embedding layer 'words'"):
            explain.hadamard_explanation(
                model, _inputs(), embedding_layer="words"
            )


if __name__ == "__main__":
    absltest.main()
