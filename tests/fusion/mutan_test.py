"""Tests of Mutan against the Tucker formula of the paper."""

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.fusion import Mutan
from mi_zoo.fusion import _common
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
# t_q, t_v, t_o, R of the small test layers.
SIZES = dict(x_hidden=4, y_hidden=3, mm_dim=7, rank=2)


def make(units=5, dtype="float64", **kwargs):
    sizes = dict(SIZES)
    sizes.update(kwargs)
    return Mutan(units, dtype=dtype, **sizes)


def run(layer, x, y, seed=0, **call_kwargs):
    layer(x, y)
    weights = test_util.random_weights(layer, seed)
    return as_numpy(layer(x, y, **call_kwargs)), weights


def identity_output(layer):
    """Makes the output projection the identity (units = t_o, no bias)."""
    layer.output_kernel.assign(np.eye(layer.mm_dim))


class FormulaTest(parameterized.TestCase):
    @parameterized.product(shapes=SHAPES, use_bias=(False, True))
    def test_matches_float64_reference(self, shapes, use_bias):
        x, y = test_util.inputs(*shapes)
        z, w = run(make(use_bias=use_bias), x, y)
        expected = ref.mutan(x, y, w, rank=2)
        self.assertEqual(z.shape, expected.shape)
        backend.assert_allclose(z, expected, **backend.close())

    @parameterized.parameters(
        dict(normalize=True),
        dict(input_activation=None),
        dict(input_activation="relu", activation="sigmoid"),
        dict(rank=1),
        dict(rank=5, dropout=0.3),  # dropout is inactive at inference
    )
    def test_options(self, **kwargs):
        x, y = test_util.inputs((4, 6), (4, 3, 5))
        z, w = run(make(**kwargs), x, y)
        act = keras.activations.get(kwargs.get("input_activation", "tanh"))
        out = keras.activations.get(kwargs.get("activation"))
        expected = ref.mutan(
            x,
            y,
            w,
            rank=kwargs.get("rank", 2),
            input_activation=lambda t: as_numpy(act(t)),
            normalize=kwargs.get("normalize", False),
            activation=lambda t: as_numpy(out(t)),
        )
        backend.assert_allclose(z, expected, **backend.close())

    def test_equals_tucker_fusion_with_the_rank_r_core(self):
        # y = ((τ_c ×₁ q̃) ×₂ ṽ)ᵀ W_o with τ_c[:, :, k] = Σ_r m_r^k ⊗ n_r^k.
        x, y = test_util.inputs((4, 6), (4, 5))
        z, w = run(make(use_bias=False), x, y)
        q = np.tanh(x @ w["x_kernel"])
        v = np.tanh(y @ w["y_kernel"])
        core = ref.mutan_core(w, rank=2)
        self.assertEqual(core.shape, (4, 3, 7))
        tucker = np.einsum("bi,ijk,bj->bk", q, core, v)
        backend.assert_allclose(
            z, tucker @ w["output_kernel"], **backend.close()
        )

    def test_dropout_is_unbiased(self):
        # Independent masks on q̃ and ṽ: E[out] is the inference output.
        x, y = test_util.inputs((1, 6), (1, 5))
        layer = make(dropout=0.2, seed=1)
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

    def bilinear_forms(self, layer):
        """[n, m, t_o]: output k's bilinear form on (x, y), no activations."""
        xs = np.repeat(np.eye(6), 5, 0)
        ys = np.tile(np.eye(5), (6, 1))
        return as_numpy(layer(xs, ys)).reshape(6, 5, -1)

    @parameterized.parameters(1, 2, 3)
    def test_each_output_has_rank_at_most_r(self, rank):
        # Without activations and biases, z_k = xᵀ W_q τ_c[:, :, k] W_vᵀ y
        # and rank(τ_c[:, :, k]) <= R: the MUTAN constraint.
        layer = make(
            units=7,
            rank=rank,
            x_hidden=6,
            y_hidden=5,
            input_activation=None,
            use_bias=False,
        )
        run(layer, *test_util.inputs((1, 6), (1, 5)))
        identity_output(layer)
        forms = self.bilinear_forms(layer)
        for k in range(7):
            self.assertEqual(backend.matrix_rank(forms[:, :, k], 1e-9), rank)

    def test_is_bilinear_without_activations_and_biases(self):
        layer = make(input_activation=None, use_bias=False)
        x1, y1 = test_util.inputs((4, 6), (4, 5), seed=2)
        x2, y2 = test_util.inputs((4, 6), (4, 5), seed=3)
        run(layer, x1, y1)
        f = lambda x, y: as_numpy(layer(x, y))
        a, b = 1.7, -0.6
        backend.assert_allclose(
            f(a * x1 + b * x2, y1),
            a * f(x1, y1) + b * f(x2, y1),
            **backend.close(rtol=1e-7, atol=1e-12),
        )
        backend.assert_allclose(
            f(x1, a * y1 + b * y2),
            a * f(x1, y1) + b * f(x1, y2),
            **backend.close(rtol=1e-7, atol=1e-12),
        )

    def test_broadcast_equals_a_call_per_position(self):
        layer = make(normalize=True)
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
        layer = make(normalize=True)
        x, y = test_util.inputs(*shapes)
        run(layer, x, y)
        rows = _common.broadcast_rows(x.shape, y.shape)
        self.assertTrue(_common.factor_first_pays(rows, layer.rank))
        test_util.assert_matches_tiled_call(layer, x, y)


class KerasApiTest(parameterized.TestCase):
    def test_config_round_trip(self):
        layer = make(
            input_activation="relu",
            normalize=True,
            dropout=0.2,
            seed=3,
            activation="softmax",
            kernel_regularizer="l2",
            name="mutan",
        )
        clone = Mutan.from_config(layer.get_config())
        self.assertEqual(clone.get_config(), layer.get_config())
        for key in (
            "units",
            "rank",
            "mm_dim",
            "x_hidden",
            "y_hidden",
            "input_activation",
            "normalize",
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
        z = Mutan(3, rank=2, mm_dim=8, x_hidden=4, y_hidden=4)(x, y)
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

    @parameterized.parameters(True, False)
    def test_parameter_count(self, use_bias):
        # (n + 1)·t_q + (m + 1)·t_v + (t_q + t_v + 2)·R·t_o + (t_o + 1)·units
        layer = make(use_bias=use_bias)
        layer(*test_util.inputs((2, 6), (2, 3, 5)))
        n, m, t_q, t_v, t_o, r, k = 6, 5, 4, 3, 7, 2, 5
        b = int(use_bias)
        self.assertEqual(
            layer.count_params(),
            (n + b) * t_q
            + (m + b) * t_v
            + (t_q + t_v + 2 * b) * r * t_o
            + (t_o + b) * k,
        )

    def test_defaults(self):
        layer = Mutan(10)
        self.assertEqual(
            (layer.x_hidden, layer.y_hidden, layer.mm_dim, layer.rank),
            (360, 360, 360, 10),
        )
        self.assertIs(layer.input_activation, keras.activations.tanh)


class BadInputTest(parameterized.TestCase):
    @parameterized.parameters(
        (
            dict(units=None),
            r"`units` must be a positive integer, got "
            r"units=None",
        ),
        (
            dict(units=4, rank=0),
            r"`rank` must be a positive integer, got "
            r"rank=0",
        ),
        (dict(units=4, mm_dim=-1), r"got mm_dim=-1"),
        (dict(units=4, x_hidden=2.5), r"got x_hidden=2.5"),
        (dict(units=4, y_hidden=0), r"got y_hidden=0"),
        (
            dict(units=4, normalize="l2"),
            r"`normalize` must be a bool, got "
            r"normalize='l2'",
        ),
        (
            dict(units=4, dropout=1),
            r"`dropout` must be a number in \[0, "
            r"1\), got dropout=1",
        ),
        (
            dict(units=4, seed=1),
            r"`seed` only seeds the dropout, which is "
            r"off; got seed=1 with dropout=0.0",
        ),
        (dict(units=4, use_bias=None), r"got use_bias=None"),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            Mutan(**kwargs)

    def test_unknown_argument(self):
        with self.assertRaisesRegex(
            ValueError, r"Unrecognized keyword arguments.*'R'"
        ):
            Mutan(4, R=5)

    def test_unknown_activation(self):
        with self.assertRaisesRegex(ValueError, r"swishy"):
            Mutan(4, input_activation="swishy")

    @parameterized.parameters(
        (
            (6,),
            (3, 4),
            r"Mutan: x has shape \(6,\) and y has shape "
            r"\(3, 4\); x must have rank >= 2",
        ),
        ((3, 6), (5, 4), r"the batch sizes of x and y differ"),
        ((3, 5, 6), (3, 4, 4), r"the leading axes of x and y differ"),
        ((3, 2, 5, 6), (3, 5, 4), r"inputs of different ranks need"),
    )
    def test_bad_shapes(self, x_shape, y_shape, message):
        layer = Mutan(4)
        with self.assertRaisesRegex(ValueError, message):
            layer(np.zeros(x_shape, "float32"), np.zeros(y_shape, "float32"))

    def test_unknown_feature_size(self):
        with self.assertRaisesRegex(
            ValueError,
            r"the last axes of x and y "
            r"must be known",
        ):
            Mutan(4).build((None, None), (None, 3))


if __name__ == "__main__":
    absltest.main()
