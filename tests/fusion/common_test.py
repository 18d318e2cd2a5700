"""Tests of the helpers shared by the fusion layers (mi_zoo.fusion._common)."""

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.fusion import _common
from tests import backend
from tests.backend import as_numpy
from tests.fusion import references


class MaskedSoftmaxTest(parameterized.TestCase):
    def test_float16_with_large_logits_is_finite_and_normalised(self):
        logits = np.array([[60000.0, -60000.0, 100.0, 0.0]], "float16")
        mask = np.array([[False, True, True, True]])
        weights = as_numpy(_common.masked_softmax(logits, mask))
        self.assertEqual(weights.dtype, np.float16)
        self.assertTrue(np.isfinite(weights).all())
        self.assertEqual(weights[0, 0], 0.0)
        backend.assert_allclose(weights.sum(), 1.0, rtol=1e-3)

    def test_bfloat16_is_computed_in_float32(self):
        logits = keras.ops.cast(
            np.array([[3.0, 2.0, -300.0, 0.0]]), "bfloat16"
        )
        mask = np.array([[True, True, True, False]])
        weights = _common.masked_softmax(logits, mask)
        self.assertEqual(
            keras.backend.standardize_dtype(weights.dtype), "bfloat16"
        )
        weights = as_numpy(keras.ops.cast(weights, "float32"))
        self.assertTrue(np.isfinite(weights).all())
        self.assertEqual(weights[0, 3], 0.0)
        backend.assert_allclose(
            weights[0, :2],
            [1 / (1 + np.exp(-1.0)), 1 / (1 + np.exp(1.0))],
            rtol=1e-2,
        )

    def test_all_masked_row_gives_zeros(self):
        weights = _common.masked_softmax(
            np.ones((2, 3), "float32"), np.array([[0, 0, 0], [1, 0, 1]])
        )
        backend.assert_allclose(weights, [[0, 0, 0], [0.5, 0, 0.5]])

    def test_gradient_of_masked_positions_is_zero(self):
        mask = np.array([[True, True, False]])
        direction = keras.ops.convert_to_tensor([[1.0, -2.0, 5.0]])
        (grad,) = backend.input_gradients(
            lambda logits: _common.masked_softmax(logits, mask) * direction,
            np.array([[1.0, 2.0, 3.0]], "float32"),
        )
        self.assertTrue(np.isfinite(grad).all())
        self.assertEqual(grad[0, 2], 0.0)

    @parameterized.parameters(
        dict(axis=-1), dict(axis=1), dict(axis=(1, 2)), dict(axis=(-2, -1))
    )
    def test_matches_float64_reference(self, axis):
        rng = np.random.default_rng(0)
        logits = rng.normal(size=(3, 4, 5)) * 10.0
        mask = rng.random((3, 4, 5)) < 0.6
        mask[0] = False  # one example with no valid position
        got = as_numpy(_common.masked_softmax(logits, mask, axis=axis))
        self.assertEqual(got.dtype, np.float64)
        axes = (axis,) if isinstance(axis, int) else axis
        axes = tuple(a % 3 for a in axes)
        # Move the normalised axes last and flatten them into one row.
        rest = tuple(a for a in range(3) if a not in axes)
        moved = np.transpose(logits, rest + axes)
        valid = np.transpose(mask, rest + axes)
        rows = moved.shape[: len(rest)]
        flat_logits = moved.reshape(rows + (-1,))
        flat_valid = valid.reshape(rows + (-1,))
        expected = np.zeros_like(flat_logits)
        for index in np.ndindex(*rows):
            expected[index] = references.masked_softmax(
                flat_logits[index], flat_valid[index]
            )
        expected = np.transpose(
            expected.reshape(moved.shape), np.argsort(rest + axes)
        )
        backend.assert_allclose(
            got, expected, **backend.close(rtol=1e-12, atol=1e-15)
        )
        backend.assert_array_equal(got[~mask], 0.0)

    def test_without_mask_is_the_softmax(self):
        logits = np.random.default_rng(1).normal(size=(2, 7)).astype("float32")
        got = _common.masked_softmax(logits)
        backend.assert_allclose(
            got, keras.ops.softmax(logits, axis=-1), rtol=1e-6, atol=1e-7
        )


class SumPoolTest(absltest.TestCase):
    def test_sum_pool(self):
        t = np.arange(12.0).reshape(2, 6)
        backend.assert_allclose(_common.sum_pool(t, 3), [[3, 12], [21, 30]])
        backend.assert_allclose(_common.sum_pool(t, 1), t)


class BroadcastRankSumTest(parameterized.TestCase):
    @parameterized.parameters(
        (((3, 6), (3, 4, 5)), 4),
        (((3, 4, 5), (3, 6)), 4),
        (((3, 6), (3, 2, 4, 5)), 8),
        (((None, 6), (None, 36, 5)), 36),
        (((3, 6), (3, 5)), None),
        (((3, 2, 6), (3, 2, 5)), None),
        (((3, 6), (3, None, 5)), None),
    )
    def test_broadcast_rows(self, shapes, rows):
        self.assertEqual(_common.broadcast_rows(*shapes), rows)

    @parameterized.parameters(
        (None, 10, False),
        (1, 10, False),
        (2, 2, False),
        (2, 3, True),
        (36, 10, True),
        (36, 1, False),
    )
    def test_factor_first_pays(self, rows, rank, pays):
        self.assertEqual(_common.factor_first_pays(rows, rank), pays)

    @parameterized.product(groups=(1, 3), with_bias=(False, True))
    def test_matches_the_factor_formula(self, groups, with_bias):
        # z[g, b, p, o] = Σ_r a[g, b, r, o]·(y[g, b, p] W[g, :, r, o] + c[g, r, o])
        b, p, j, rank, o = 2, 5, 4, 3, 6
        rng = np.random.default_rng(0)
        small = rng.normal(size=(groups, b, rank * o))
        big = rng.normal(size=(groups, b, p, j))
        kernel = rng.normal(size=(groups, j, rank * o))
        bias = rng.normal(size=(groups, rank * o)) if with_bias else None
        factors = np.einsum("gbpj,gjc->gbpc", big, kernel)
        if with_bias:
            factors = factors + bias[:, None, None]
        expected = (
            (small[:, :, None] * factors)
            .reshape(groups, b, p, rank, o)
            .sum(axis=3)
        )
        got = _common.broadcast_rank_sum(small, big, kernel, bias, rank)
        backend.assert_allclose(got, expected, **backend.close())


if __name__ == "__main__":
    absltest.main()
