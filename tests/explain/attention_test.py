"""Attention maps of the zoo's models laid onto the image."""

from absl.testing import absltest
import keras
import numpy as np

from mi_zoo import explain
from mi_zoo.core import specs
from mi_zoo.explain import attention
from mi_zoo.models import vqa as vqa_models

SPECS = {
    "pixels": specs.VqaSpec(20, 5, "pixels", (16, 16, 3), 4),
    "regions": specs.VqaSpec(20, 5, "regions", (6, 21), 4),
    "grid": specs.VqaSpec(20, 5, "grid", (2, 3, 24), 4),
}


def _inputs(spec):
    rng = np.random.default_rng(0)
    inputs = {
        "question": np.array([[3, 4, 5, 0, 0], [1, 2, 0, 0, 0]], np.int32),
        "image": rng.random((2,) + spec.image_shape).astype(np.float32),
    }
    if spec.image_kind == "regions":
        inputs["image"][:, 4:] = 0.0  # Two padded regions.
        inputs["boxes"] = np.tile(
            np.array([0.1, 0.1, 0.4, 0.4], np.float32), (2, 6, 1)
        )
    return inputs


class AttentionMapsTest(absltest.TestCase):
    def test_maps_per_input_kind(self):
        expected = {
            "pixels": ("pixels", (16, 16)),
            "regions": ("regions", (6,)),
            "grid": ("grid", (2, 3)),
        }
        for kind, spec in SPECS.items():
            for name in ("mlb", "ban", "dan", "mcb"):
                keras.utils.set_random_seed(0)
                model = vqa_models.VQA_MODELS.build(name, spec, size="small")
                maps = explain.attention_maps(model, _inputs(spec))
                for key, m in maps.items():
                    if key.endswith("/textual"):  # DAN's maps over tokens.
                        self.assertEqual(m.kind, "tokens")
                        self.assertIsNone(m.image)
                        continue
                    self.assertEqual(
                        (m.kind, m.image.shape[2:]),
                        expected[kind],
                        (kind, name),
                    )
                    # Each glimpse is still a distribution over the image.
                    np.testing.assert_allclose(
                        m.image.sum(axis=tuple(range(2, m.image.ndim))),
                        1.0,
                        rtol=1e-4,
                    )
                    self.assertTrue(np.all(m.image >= 0))
                    if kind == "regions":  # Padding gets nothing.
                        np.testing.assert_allclose(
                            m.image[..., 4:], 0.0, atol=1e-7
                        )
                    if name == "ban":  # [B, G, ρ, φ], summed over ρ.
                        self.assertEqual(
                            m.pairs.shape[2], spec.question_length
                        )
                    if name == "ban" and kind != "pixels":
                        np.testing.assert_allclose(
                            m.pairs.sum(axis=2).reshape(m.image.shape),
                            m.image,
                            rtol=1e-5,
                        )

    def test_pixel_maps_follow_the_grid(self):
        # A map with all its mass on one grid cell lands in that cell's
        # quarter of the image.
        maps = np.zeros((1, 1, 2, 2), np.float32)
        maps[0, 0, 0, 1] = 1.0
        up = attention._upsample(  # pylint: disable=protected-access
            maps, 8, 8
        )
        self.assertAlmostEqual(float(up.sum()), 1.0, places=5)
        self.assertGreater(up[0, 0, :4, 4:].sum(), 0.75)
        self.assertEqual(np.unravel_index(up[0, 0].argmax(), (8, 8))[0], 0)

    def test_model_without_attention(self):
        model = vqa_models.build_vqa_model(
            "concat", SPECS["pixels"], hidden=8, question_units=8
        )
        with self.assertRaisesRegex(ValueError, "has no attention maps"):
            explain.attention_maps(model, _inputs(SPECS["pixels"]))


if __name__ == "__main__":
    absltest.main()
