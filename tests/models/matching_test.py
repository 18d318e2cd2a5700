"""Tests of the image–text matching model zoo (m-DAN)."""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np
import pytest

from mi_zoo import models
from tests.models import vqa_test

SPECS = {
    "grid": models.MatchingSpec(30, 6, "grid", (3, 3, 12)),
    "regions": models.MatchingSpec(30, 6, "regions", (5, 12)),
}
SMALL = {"embedding_dim": 8, "text_units": 12, "attention_units": 8}


def random_pairs(spec, batch, seed=0):
    vqa_spec = models.VqaSpec(
        spec.vocab_size,
        spec.caption_length,
        spec.image_kind,
        spec.image_shape,
        2,
    )
    inputs, _ = vqa_test.random_batch(vqa_spec, batch, seed)
    inputs["caption"] = inputs.pop("question")
    return inputs


class MdanTest(parameterized.TestCase):
    def setUp(self):
        super().setUp()
        keras.utils.set_random_seed(0)

    @parameterized.parameters("grid", "regions")
    @pytest.mark.slow  # 40-90 s here: run with -m slow (and by bazel test)
    def test_learns_saves_and_reloads(self, kind):
        spec = SPECS[kind]
        model = models.build_matching_model("mdan", spec, **SMALL)
        model.compile(
            keras.optimizers.Adam(1e-2),
            models.BidirectionalRankingLoss(margin=0.2),
        )
        inputs = random_pairs(spec, 8)
        history = model.fit(
            inputs, np.zeros(8), epochs=10, batch_size=8, verbose=0
        ).history["loss"]
        self.assertLess(history[-1], history[0])
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "mdan.keras")
            model.save(path)
            loaded = keras.saving.load_model(path)
        np.testing.assert_array_equal(
            loaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0)
        )

    def test_similarity_is_the_dot_product_of_the_embeddings(self):
        spec = SPECS["grid"]
        model = models.build_matching_model("mdan", spec, **SMALL)
        inputs = random_pairs(spec, 5)
        s = model.predict(inputs, verbose=0)
        emb = models.embedding_model(model).predict(inputs, verbose=0)
        self.assertEqual(s.shape, (5, 5))
        np.testing.assert_allclose(
            s,
            emb["image_embedding"] @ emb["text_embedding"].T,
            rtol=1e-5,
            atol=1e-6,
        )
        # One embedding per step k = 0..K of size text_units.
        self.assertEqual(emb["image_embedding"].shape, (5, 3 * 12))

    def test_attention_weights_are_distributions_over_valid_positions(self):
        spec = SPECS["regions"]
        model = models.build_matching_model("mdan", spec, **SMALL)
        inputs = random_pairs(spec, 6)
        maps = models.attention_model(model).predict(inputs, verbose=0)
        visual = maps["dual_attention/visual"]  # [B, K+1, N]
        textual = maps["dual_attention/textual"]  # [B, K+1, T]
        region_valid = np.any(inputs["image"] != 0, axis=-1)  # [B, N]
        token_valid = inputs["caption"] != 0  # [B, T]
        for weights, valid in ((visual, region_valid), (textual, token_valid)):
            self.assertTrue((weights >= 0).all())
            np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
            self.assertTrue((weights * ~valid[:, None, :] == 0).all())

    @parameterized.parameters("paper", "small")
    def test_builds_at_every_size(self, size):
        self.assertEqual(
            models.MATCHING_MODELS.sizes("mdan"), ("paper", "small")
        )
        model = models.MATCHING_MODELS.build(
            "mdan", SPECS["regions"], size=size
        )
        self.assertEqual(tuple(model.outputs[0].shape), (None, None))
        # The embeddings concatenate K + 1 vectors of text_units: the
        # size's, or the builder's defaults (the paper's, 512 and K = 2).
        arguments = {
            "text_units": 512,
            "steps": 2,
            **models.MATCHING_MODELS.arguments("mdan", size),
        }
        for name in ("image_embedding", "text_embedding"):
            self.assertEqual(
                model.get_layer(name).output.shape[-1],
                (arguments["steps"] + 1) * arguments["text_units"],
            )

    def test_unknown_model(self):
        with self.assertRaisesRegex(
            ValueError, r"Unknown matching model 'vse'"
        ):
            models.build_matching_model("vse", SPECS["grid"])

    def test_bad_spec(self):
        with self.assertRaisesRegex(ValueError, r"got caption_length=0"):
            models.MatchingSpec(10, 0, "grid", (4, 8))


if __name__ == "__main__":
    absltest.main()
