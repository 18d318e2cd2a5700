"""Tests of GlimpseAttention."""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from mi_zoo.fusion import GlimpseAttention
from tests import backend
from tests.backend import as_numpy
from tests.fusion import references


def reference(logits, features, mask=None):
    """α_g = softmax_s(logits[:, s, g]) over valid s; v̂ = ‖_g Σ_s α F_s."""
    b, s, g = logits.shape
    logits = logits.astype(np.float64)
    valid = np.ones((b, s), bool) if mask is None else mask
    alpha = np.array(
        [
            [
                references.masked_softmax(logits[i, :, j], valid[i])
                for j in range(g)
            ]
            for i in range(b)
        ]
    )  # [B, G, S]
    attended = np.einsum("bgs,bsc->bgc", alpha, features)
    return attended.reshape(b, -1), alpha


class GlimpseAttentionTest(parameterized.TestCase):
    @parameterized.parameters(False, True)
    def test_matches_reference(self, masked):
        rng = np.random.default_rng(0)
        logits = rng.normal(size=(3, 5, 2))
        features = rng.normal(size=(3, 5, 4))
        mask = rng.random((3, 5)) < 0.6 if masked else None
        if masked:
            mask[:, 0] = True
        attended, alpha = GlimpseAttention(dtype="float64")(
            logits, features, mask
        )
        expected_v, expected_a = reference(logits, features, mask)
        backend.assert_allclose(
            alpha, expected_a, **backend.close(rtol=1e-12, atol=1e-12)
        )
        backend.assert_allclose(
            attended, expected_v, **backend.close(rtol=1e-12, atol=1e-12)
        )
        if masked:
            self.assertTrue(
                (as_numpy(alpha)[~mask[:, None, :].repeat(2, 1)] == 0).all()
            )

    def test_grid_equals_flattened(self):
        rng = np.random.default_rng(1)
        logits = rng.normal(size=(2, 3, 4, 2)).astype("float32")
        features = rng.normal(size=(2, 3, 4, 5)).astype("float32")
        v_grid, a_grid = GlimpseAttention()(logits, features)
        v_flat, a_flat = GlimpseAttention()(
            logits.reshape(2, 12, 2), features.reshape(2, 12, 5)
        )
        self.assertEqual(tuple(a_grid.shape), (2, 2, 3, 4))
        backend.assert_allclose(v_grid, v_flat, rtol=1e-6)
        backend.assert_allclose(
            np.reshape(a_grid, (2, 2, 12)), a_flat, rtol=1e-6
        )

    def test_fully_masked_example_is_zero(self):
        attended, alpha = GlimpseAttention()(
            np.ones((1, 3, 2), "float32"),
            np.ones((1, 3, 4), "float32"),
            np.zeros((1, 3), bool),
        )
        self.assertTrue((as_numpy(alpha) == 0).all())
        self.assertTrue((as_numpy(attended) == 0).all())

    @parameterized.parameters(
        (
            (2, 5, 2),
            (2, 4, 3),
            r"logits has shape \(2, 5, 2\) and features "
            r"has shape \(2, 4, 3\); both must be",
        ),
        ((2, 2), (2, 4), r"both must be \[batch, positions..., channels\]"),
    )
    def test_bad_shapes(self, logits_shape, features_shape, message):
        with self.assertRaisesRegex(ValueError, message):
            GlimpseAttention()(
                np.zeros(logits_shape, "float32"),
                np.zeros(features_shape, "float32"),
            )

    def test_compute_output_shape(self):
        layer = GlimpseAttention()
        self.assertEqual(
            layer.compute_output_shape((None, 3, 4, 2), (None, 3, 4, 5)),
            ((None, 10), (None, 2, 3, 4)),
        )


if __name__ == "__main__":
    absltest.main()
