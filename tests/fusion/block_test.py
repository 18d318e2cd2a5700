"""Tests of Block against the block-term decomposition of the paper."""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.fusion import Block
from mi_zoo.fusion import _common
from mi_zoo.fusion import block
from tests import backend
from tests.backend import as_numpy
from tests.fusion import pooling_references as ref
from tests.layers import test_util

SHAPES = (
    ((3, 6), (3, 5)),
    ((3, 6), (3, 4, 5)),
    ((3, 2, 6), (3, 5)),
    ((3, 2, 6), (3, 2, 5)),
)
NORMALIZATIONS = ("before_concat", "after_concat", None)
# d, C, R of the small test layers (chunks of s = 3).
SIZES = dict(mm_dim=6, chunks=2, rank=2)


def make(units=5, dtype="float64", **kwargs):
    sizes = dict(SIZES)
    sizes.update(kwargs)
    return Block(units, dtype=dtype, **sizes)


def run(layer, x, y, seed=0, **call_kwargs):
    layer(x, y)
    weights = test_util.random_weights(layer, seed)
    return as_numpy(layer(x, y, **call_kwargs)), weights


def bare(units=6, **kwargs):
    """x̃ = x, ỹ = y, out = z: no biases, normalisation or projections.

    Inputs have d = 6 features; returns the built layer.
    """
    layer = make(units=units, use_bias=False, normalization=None, **kwargs)
    run(layer, *test_util.inputs((1, 6), (1, 6)))
    for name in ("x_kernel", "y_kernel", "output_kernel"):
        getattr(layer, name).assign(np.eye(6))
    return layer


class FormulaTest(parameterized.TestCase):
    @parameterized.product(shapes=SHAPES, normalization=NORMALIZATIONS)
    def test_matches_float64_reference(self, shapes, normalization):
        x, y = test_util.inputs(*shapes)
        z, w = run(make(normalization=normalization), x, y)
        expected = ref.block(
            x, y, w, chunks=2, rank=2, normalization=normalization
        )
        self.assertEqual(z.shape, expected.shape)
        backend.assert_allclose(z, expected, **backend.close())

    @parameterized.parameters(
        dict(use_bias=False),
        dict(activation="tanh"),
        dict(mm_dim=12, chunks=4, rank=3),
        dict(mm_dim=6, chunks=1, rank=1),
        dict(mm_dim=10, chunks=4, rank=2),  # torch.chunk: 3, 3, 3, 1
        dict(mm_dim=11, chunks=3, rank=2),  # 4, 4, 3
        dict(mm_dim=10, chunks=10, rank=1),  # chunks of one feature
        dict(dropout=0.4),  # inactive at inference
    )
    def test_options(self, **kwargs):
        x, y = test_util.inputs((4, 6), (4, 3, 5))
        z, w = run(make(**kwargs), x, y)
        sizes = dict(SIZES)
        sizes.update(kwargs)
        expected = ref.block(
            x,
            y,
            w,
            chunks=sizes["chunks"],
            rank=sizes["rank"],
            activation=np.tanh if "activation" in kwargs else lambda t: t,
        )
        backend.assert_allclose(z, expected, **backend.close())

    def test_equals_the_block_superdiagonal_tensor(self):
        # z = T ×₁ x̃ ×₂ ỹ with T block-superdiagonal: block c is the core
        # D_c[i, j, k] = Σ_r A_c^r[i, k] B_c^r[j, k], zero off the diagonal.
        x, y = test_util.inputs((4, 6), (4, 5))
        z, w = run(make(use_bias=False, normalization=None), x, y)
        s, rank = 3, 2
        core = np.zeros((6, 6, 6))
        for c in range(2):
            a = w["x_factor"][c].reshape(s, rank, s)
            b = w["y_factor"][c].reshape(s, rank, s)
            block = slice(c * s, (c + 1) * s)
            core[block, block, block] = np.einsum("irk,jrk->ijk", a, b)
        fused = np.einsum(
            "bi,ijk,bj->bk", x @ w["x_kernel"], core, y @ w["y_kernel"]
        )
        backend.assert_allclose(
            z, fused @ w["output_kernel"], **backend.close()
        )

    def test_dropout_is_unbiased(self):
        x, y = test_util.inputs((1, 6), (1, 5))
        layer = make(dropout=0.2, seed=1, normalization=None)
        expected, _ = run(layer, x, y)
        xs, ys = np.repeat(x, 20000, 0), np.repeat(y, 20000, 0)
        z = as_numpy(layer(xs, ys, training=True))
        error = z.std(0) / np.sqrt(len(z))
        self.assertGreater(error.min(), 0)
        np.testing.assert_array_less(
            np.abs(z.mean(0) - expected[0]), 5 * error
        )


class StructureTest(parameterized.TestCase):
    """Properties that hold whatever the weights."""

    @parameterized.parameters("before_concat", None)
    def test_chunk_c_depends_only_on_chunk_c_of_the_inputs(
        self, normalization
    ):
        layer = bare()
        layer.normalization = normalization
        x, y = test_util.inputs((4, 6), (4, 6), seed=3)
        base = as_numpy(layer(x, y))
        for feature in range(6):
            chunk = feature // 3
            for bumped in (
                (x + np.eye(6)[feature], y),
                (x, y + np.eye(6)[feature]),
            ):
                delta = as_numpy(layer(*bumped)) - base
                others = np.delete(delta, np.s_[chunk * 3 : chunk * 3 + 3], 1)
                backend.assert_allclose(
                    others, 0.0, **backend.close(rtol=1e-7, atol=1e-12)
                )
                self.assertGreater(np.abs(delta).max(), 1e-6)

    def test_after_concat_normalisation_couples_the_chunks(self):
        layer = bare()
        layer.normalization = "after_concat"
        x, y = test_util.inputs((4, 6), (4, 6), seed=3)
        delta = as_numpy(layer(x + np.eye(6)[0], y)) - as_numpy(layer(x, y))
        self.assertGreater(np.abs(delta[:, 3:]).min(), 1e-9)

    def test_before_concat_normalises_each_chunk(self):
        layer = bare()
        layer.normalization = "before_concat"
        z = as_numpy(layer(*test_util.inputs((4, 6), (4, 6), seed=3)))
        backend.assert_allclose(
            np.linalg.norm(z.reshape(4, 2, 3), axis=-1),
            1.0,
            **backend.close(rtol=1e-12, atol=0),
        )

    @parameterized.parameters(1, 2)
    def test_each_output_has_rank_at_most_r_inside_its_block(self, rank):
        # Output k of chunk c is x̃_cᵀ D_c[:, :, k] ỹ_c, rank <= R, and zero
        # outside the block (c, c).
        layer = bare(rank=rank)
        xs = np.repeat(np.eye(6), 6, 0)
        ys = np.tile(np.eye(6), (6, 1))
        forms = as_numpy(layer(xs, ys)).reshape(6, 6, 6)
        for k in range(6):
            c = slice(k // 3 * 3, k // 3 * 3 + 3)
            inside = forms[c, c, k]
            self.assertEqual(backend.matrix_rank(inside, 1e-9), rank)
            outside = forms[:, :, k].copy()
            outside[c, c] = 0
            backend.assert_allclose(
                outside, 0.0, **backend.close(rtol=1e-7, atol=1e-12)
            )

    def test_broadcast_equals_a_call_per_position(self):
        layer = make()
        x, y = test_util.inputs((3, 6), (3, 4, 5))
        z, _ = run(layer, x, y)
        for s in range(4):
            backend.assert_allclose(
                z[:, s],
                layer(x, y[:, s]),
                **backend.close(rtol=1e-12, atol=1e-12),
            )

    @parameterized.parameters(
        dict(shapes=((3, 6), (3, 4, 5))),
        dict(shapes=((3, 4, 6), (3, 5))),
        dict(shapes=((3, 6), (3, 2, 3, 5))),
    )
    def test_broadcast_small_side_first_equals_row_by_row(self, shapes):
        # With one input broadcast over P ≥ 3 rows the layer folds its
        # factors into the other side's kernel first (broadcast_rank_sum);
        # tiling that input first takes the factor-by-factor order.
        layer = make(rank=3)
        x, y = test_util.inputs(*shapes)
        run(layer, x, y)
        rows = _common.broadcast_rows(x.shape, y.shape)
        self.assertTrue(_common.factor_first_pays(rows, layer.rank))
        test_util.assert_matches_tiled_call(layer, x, y)


class KerasApiTest(parameterized.TestCase):
    def test_config_round_trip(self):
        layer = make(
            normalization="after_concat",
            dropout=0.1,
            seed=2,
            activation="relu",
            kernel_regularizer="l2",
            name="block",
        )
        clone = Block.from_config(layer.get_config())
        self.assertEqual(clone.get_config(), layer.get_config())
        for key in (
            "units",
            "mm_dim",
            "chunks",
            "rank",
            "normalization",
            "dropout",
            "seed",
            "use_bias",
            "activation",
            "kernel_initializer",
            "bias_initializer",
            "kernel_regularizer",
            "bias_regularizer",
            "activity_regularizer",
            "kernel_constraint",
            "bias_constraint",
        ):
            self.assertIn(key, layer.get_config())

    @parameterized.parameters(*SHAPES)
    def test_compute_output_shape(self, x_shape, y_shape):
        layer = make()
        x, y = test_util.inputs(x_shape, y_shape)
        self.assertEqual(
            layer.compute_output_shape(x.shape, y.shape), layer(x, y).shape
        )

    def test_symbolic_call_with_unknown_batch(self):
        x, y = keras.Input((6,)), keras.Input((4, 5))
        z = Block(3, mm_dim=8, chunks=4, rank=2)(x, y)
        self.assertEqual(tuple(z.shape), (None, 4, 3))

    def test_builds_lazily(self):
        layer = make()
        self.assertFalse(layer.built)
        self.assertEmpty(layer.weights)
        layer(*test_util.inputs((2, 6), (2, 5)))
        self.assertEqual(
            sorted(v.name for v in layer.weights),
            [
                "output_bias",
                "output_kernel",
                "x_bias",
                "x_factor",
                "x_factor_bias",
                "x_kernel",
                "y_bias",
                "y_factor",
                "y_factor_bias",
                "y_kernel",
            ],
        )

    @parameterized.product(
        use_bias=(True, False), normalization=NORMALIZATIONS
    )
    def test_uneven_chunks_match_float64_reference(
        self, use_bias, normalization
    ):
        # block's VQA 2.0 configuration in small: d = 16 in C = 3 chunks of
        # ⌈16 / 3⌉ = 6, 6 and 4, as torch.chunk cuts.
        x, y = test_util.inputs((3, 6), (3, 4, 5))
        layer = make(
            mm_dim=16,
            chunks=3,
            rank=2,
            use_bias=use_bias,
            normalization=normalization,
        )
        z, w = run(layer, x, y)
        self.assertEqual(tuple(layer.x_factor.shape), (2, 6, 12))
        self.assertEqual(tuple(layer.y_last_factor.shape), (1, 4, 8))
        expected = ref.block(
            x, y, w, chunks=3, rank=2, normalization=normalization
        )
        backend.assert_allclose(z, expected, **backend.close())

    def test_chunk_sizes_cut_like_torch_chunk(self):
        self.assertEqual(block.chunk_sizes(1600, 18), [89] * 17 + [87])
        self.assertEqual(block.chunk_sizes(1600, 20), [80] * 20)
        self.assertEqual(block.chunk_sizes(7, 7), [1] * 7)
        for d in range(1, 40):
            for c in range(1, d + 1):
                size = -(-d // c)
                if size * (c - 1) >= d:
                    continue  # torch.chunk gives fewer than c: refused
                sizes = block.chunk_sizes(d, c)
                # torch.chunk: the pieces of np.arange(d) in steps of size.
                pieces = [
                    len(p)
                    for p in np.split(np.arange(d), range(size, d, size))
                ]
                self.assertEqual(sizes, pieces)

    @parameterized.parameters(True, False)
    def test_parameter_count(self, use_bias):
        # (n + m + 2)·d + 2·C·(s + 1)·R·s + (d + 1)·units
        layer = make(units=5, mm_dim=12, chunks=4, rank=3, use_bias=use_bias)
        layer(*test_util.inputs((2, 6), (2, 3, 5)))
        n, m, d, c, r, s, k = 6, 5, 12, 4, 3, 3, 5
        b = int(use_bias)
        self.assertEqual(
            layer.count_params(),
            (n + m + 2 * b) * d + 2 * c * (s + b) * r * s + (d + b) * k,
        )

    @parameterized.parameters(True, False)
    def test_parameter_count_of_uneven_chunks(self, use_bias):
        # (n + m + 2)·d + 2·Σ_c (s_c + 1)·R·s_c + (d + 1)·units, chunks of
        # 5, 5, 5, 2 (d = 17, C = 4).
        layer = make(units=5, mm_dim=17, chunks=4, rank=3, use_bias=use_bias)
        layer(*test_util.inputs((2, 6), (2, 3, 5)))
        n, m, d, r, k = 6, 5, 17, 3, 5
        b = int(use_bias)
        chunks = 2 * sum((s + b) * r * s for s in (5, 5, 5, 2))
        self.assertEqual(
            layer.count_params(), (n + m + 2 * b) * d + chunks + (d + b) * k
        )

    def test_uneven_chunks_keras_file_round_trip(self):
        x, y = test_util.inputs((2, 6), (2, 3, 5), dtype="float32")
        inputs = [keras.Input((6,)), keras.Input((3, 5))]
        model = keras.Model(
            inputs,
            Block(4, mm_dim=17, chunks=4, rank=2, name="block")(*inputs),
        )
        test_util.random_weights(model.get_layer("block"))
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "block.keras")
            model.save(path)
            clone = keras.models.load_model(path)
        self.assertEqual(
            clone.get_layer("block").get_config(),
            model.get_layer("block").get_config(),
        )
        backend.assert_array_equal(
            clone.predict([x, y], verbose=0), model.predict([x, y], verbose=0)
        )

    def test_defaults(self):
        layer = Block(10)
        self.assertEqual(
            (layer.mm_dim, layer.chunks, layer.rank), (1600, 20, 15)
        )
        self.assertEqual(layer.normalization, "before_concat")


class BadInputTest(parameterized.TestCase):
    @parameterized.parameters(
        (dict(units=0), r"`units` must be a positive integer, got units=0"),
        (dict(units=4, mm_dim=None), r"got mm_dim=None"),
        (dict(units=4, chunks=0), r"got chunks=0"),
        (dict(units=4, rank=1.0), r"got rank=1.0"),
        (
            dict(units=4, mm_dim=10, chunks=20),
            r"`chunks` must be at most `mm_dim` \(each chunk needs a feature\), "
            r"got mm_dim=10 and chunks=20\.$",
        ),
        (
            dict(units=4, mm_dim=10, chunks=6),
            r"`mm_dim` must leave a last chunk when cut like torch.chunk, in "
            r"chunks of ceil\(mm_dim / chunks\) = 2 features: 5 of them already "
            r"take 10 >= mm_dim features; got mm_dim=10 and chunks=6\.$",
        ),
        (
            dict(units=4, normalization="l2"),
            r"`normalization` must be one of \('before_concat', "
            r"'after_concat', None\), got normalization='l2'",
        ),
        (dict(units=4, dropout=-1), r"got dropout=-1"),
        (
            dict(units=4, seed=0),
            r"`seed` only seeds the dropout, which is "
            r"off; got seed=0 with dropout=0.0",
        ),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            Block(**kwargs)

    def test_unknown_argument(self):
        with self.assertRaisesRegex(
            ValueError, r"Unrecognized keyword arguments.*'pos_norm'"
        ):
            Block(4, pos_norm="before_cat")

    @parameterized.parameters(
        (
            (6,),
            (3, 4),
            r"Block: x has shape \(6,\) and y has shape "
            r"\(3, 4\); x must have rank >= 2",
        ),
        ((3, 6), (5, 4), r"the batch sizes of x and y differ"),
        ((3, 5, 6), (3, 4, 4), r"the leading axes of x and y differ"),
        ((3, 2, 5, 6), (3, 5, 4), r"inputs of different ranks need"),
    )
    def test_bad_shapes(self, x_shape, y_shape, message):
        layer = Block(4, mm_dim=8, chunks=2, rank=2)
        with self.assertRaisesRegex(ValueError, message):
            layer(np.zeros(x_shape, "float32"), np.zeros(y_shape, "float32"))

    def test_unknown_feature_size(self):
        with self.assertRaisesRegex(
            ValueError,
            r"the last axes of x and y "
            r"must be known",
        ):
            Block(4).build((None, 3), (None, None))


if __name__ == "__main__":
    absltest.main()
