"""Tests of LinearSum, ConcatMLP, Tucker and BlockTucker against the
formulas of Ben-younes et al. (block_family_references) and the laws that
hold for any weights."""

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.fusion import BlockTucker
from mi_zoo.fusion import ConcatMLP
from mi_zoo.fusion import LinearSum
from mi_zoo.fusion import Mutan
from mi_zoo.fusion import Tucker
from tests import backend
from tests.backend import as_numpy
from tests.fusion import block_family_references as ref
from tests.layers import test_util

SHAPES = (
    ((3, 6), (3, 5)),
    ((3, 6), (3, 4, 5)),
    ((3, 2, 6), (3, 5)),
    ((3, 2, 6), (3, 2, 5)),
)
NORMALIZATIONS = ("before_concat", "after_concat", None)
# Small test layers: n = 6, m = 5 inputs, 5 outputs.
SMALL = {
    "linear_sum": lambda **kw: LinearSum(5, **{"mm_dim": 7, **kw}),
    "concat_mlp": lambda **kw: ConcatMLP(5, **{"hidden_units": [4, 3], **kw}),
    "tucker": lambda **kw: Tucker(5, **{"mm_dim": 4, **kw}),
    "block_tucker": lambda **kw: BlockTucker(
        5, **{"mm_dim": 10, "chunks": 4, **kw}
    ),
}
NAMED = [(name, name) for name in SMALL]


def make(fusion, **kwargs):
    return SMALL[fusion](dtype="float64", **kwargs)


def run(layer, x, y, seed=0, **call_kwargs):
    """Builds `layer`, gives it random weights; (its output, the weights)."""
    layer(x, y)
    weights = test_util.random_weights(layer, seed)
    return as_numpy(layer(x, y, **call_kwargs)), weights


def act(name):
    """A Keras activation as a NumPy function (for the references)."""
    fn = keras.activations.get(name)
    return lambda t: as_numpy(fn(t))


def identity_kernels(layer, names):
    for name in names:
        variable = getattr(layer, name)
        variable.assign(np.eye(*variable.shape))


class FormulaTest(parameterized.TestCase):
    @parameterized.product(
        shapes=SHAPES,
        kwargs=(
            {},
            dict(use_bias=False),
            dict(input_activation="tanh", normalize=True),
            dict(input_activation=None, activation="sigmoid"),
            dict(dropout=0.3),  # inactive at inference
        ),
    )
    def test_linear_sum(self, shapes, kwargs):
        x, y = test_util.inputs(*shapes)
        z, w = run(make("linear_sum", **kwargs), x, y)
        expected = ref.linear_sum(
            x,
            y,
            w,
            input_activation=act(kwargs.get("input_activation", "relu")),
            normalize=kwargs.get("normalize", False),
            activation=act(kwargs.get("activation")),
        )
        self.assertEqual(z.shape, expected.shape)
        backend.assert_allclose(z, expected, **backend.close())

    @parameterized.product(
        shapes=SHAPES,
        kwargs=(
            {},
            dict(hidden_units=[]),
            dict(hidden_units=[3], use_bias=False),
            dict(hidden_activation="tanh", activation="relu"),
            dict(hidden_units=[4, 4, 3], dropout=0.3),
        ),
    )
    def test_concat_mlp(self, shapes, kwargs):
        x, y = test_util.inputs(*shapes)
        z, w = run(make("concat_mlp", **kwargs), x, y)
        expected = ref.concat_mlp(
            x,
            y,
            w,
            layers=len(kwargs.get("hidden_units", [4, 3])) + 1,
            hidden_activation=act(kwargs.get("hidden_activation", "relu")),
            activation=act(kwargs.get("activation")),
        )
        self.assertEqual(z.shape, expected.shape)
        backend.assert_allclose(z, expected, **backend.close())

    @parameterized.product(
        shapes=SHAPES,
        kwargs=(
            {},
            dict(use_bias=False),
            dict(normalize=True, activation="tanh"),
            dict(mm_dim=1, dropout=0.3),
        ),
    )
    def test_tucker(self, shapes, kwargs):
        x, y = test_util.inputs(*shapes)
        z, w = run(make("tucker", **kwargs), x, y)
        expected = ref.tucker(
            x,
            y,
            w,
            normalize=kwargs.get("normalize", False),
            activation=act(kwargs.get("activation")),
        )
        self.assertEqual(z.shape, expected.shape)
        backend.assert_allclose(z, expected, **backend.close())

    @parameterized.product(
        shapes=SHAPES,
        normalization=NORMALIZATIONS,
        sizes=(
            dict(mm_dim=10, chunks=4),  # torch.chunk: 3, 3, 3, 1
            dict(mm_dim=6, chunks=2),
            dict(mm_dim=11, chunks=3),  # 4, 4, 3
            dict(mm_dim=5, chunks=1),
        ),
    )
    def test_block_tucker(self, shapes, normalization, sizes):
        x, y = test_util.inputs(*shapes)
        z, w = run(
            make("block_tucker", normalization=normalization, **sizes), x, y
        )
        expected = ref.block_tucker(
            x, y, w, chunks=sizes["chunks"], normalization=normalization
        )
        self.assertEqual(z.shape, expected.shape)
        backend.assert_allclose(z, expected, **backend.close())

    @parameterized.parameters(
        dict(use_bias=False, activation="relu", dropout=0.2),
        dict(normalization=None),
    )
    def test_block_tucker_options(self, **kwargs):
        x, y = test_util.inputs((4, 6), (4, 3, 5))
        z, w = run(make("block_tucker", **kwargs), x, y)
        expected = ref.block_tucker(
            x,
            y,
            w,
            chunks=4,
            normalization=kwargs.get("normalization", "before_concat"),
            activation=act(kwargs.get("activation")),
        )
        backend.assert_allclose(z, expected, **backend.close())

    @parameterized.named_parameters(*NAMED)
    def test_dropout_is_unbiased(self, name):
        # Without normalisation, out is linear in each dropped projection
        # (x̃ and ỹ get independent masks: E[x̃_i ỹ_j] = x̃_i ỹ_j; one hidden
        # layer: ConcatMLP's dropout feeds its last, linear, layer), so
        # E[out] is the inference output.
        options = {
            "linear_sum": {},
            "concat_mlp": dict(hidden_units=[4]),
            "tucker": {},
            "block_tucker": dict(normalization=None, mm_dim=6, chunks=2),
        }[name]
        x, y = test_util.inputs((1, 6), (1, 5))
        layer = make(name, dropout=0.2, seed=1, **options)
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

    def interaction(self, layer, seed=2):
        """out(x, y) − out(x, y′) − out(x′, y) + out(x′, y′): zero for an
        additive fusion g(x) + h(y)."""
        x1, y1 = test_util.inputs((4, 6), (4, 5), seed=seed)
        x2, y2 = test_util.inputs((4, 6), (4, 5), seed=seed + 1)
        run(layer, x1, y1)
        f = lambda x, y: as_numpy(layer(x, y))
        return f(x1, y1) - f(x1, y2) - f(x2, y1) + f(x2, y2)

    @parameterized.parameters("relu", "tanh", None)
    def test_linear_sum_has_no_interaction(self, input_activation):
        delta = self.interaction(
            make("linear_sum", input_activation=input_activation)
        )
        backend.assert_allclose(
            delta, 0.0, **backend.close(rtol=0, atol=1e-12)
        )

    def test_linear_sum_interacts_only_through_normalisation(self):
        delta = self.interaction(make("linear_sum", normalize=True))
        self.assertGreater(np.abs(delta).max(), 1e-3)

    def test_concat_mlp_without_hidden_layers_is_additive(self):
        delta = self.interaction(make("concat_mlp", hidden_units=[]))
        backend.assert_allclose(
            delta, 0.0, **backend.close(rtol=0, atol=1e-12)
        )
        delta = self.interaction(make("concat_mlp"))
        self.assertGreater(np.abs(delta).max(), 1e-3)

    @parameterized.parameters("tucker", "block_tucker")
    def test_is_bilinear_without_biases_and_normalisation(self, name):
        options = {"normalization": None} if name == "block_tucker" else {}
        layer = make(name, use_bias=False, **options)
        x1, y1 = test_util.inputs((4, 6), (4, 5), seed=2)
        x2, y2 = test_util.inputs((4, 6), (4, 5), seed=3)
        run(layer, x1, y1)
        f = lambda x, y: as_numpy(layer(x, y))
        a, b = 1.7, -0.6
        tolerances = backend.close(rtol=1e-7, atol=1e-12)
        backend.assert_allclose(
            f(a * x1 + b * x2, y1), a * f(x1, y1) + b * f(x2, y1), **tolerances
        )
        backend.assert_allclose(
            f(x1, a * y1 + b * y2), a * f(x1, y1) + b * f(x1, y2), **tolerances
        )

    def bilinear_forms(self, layer, n=6, m=5):
        """[n, m, units]: output k's bilinear form on (x, y)."""
        xs = np.repeat(np.eye(n), m, 0)
        ys = np.tile(np.eye(m), (n, 1))
        return as_numpy(layer(xs, ys)).reshape(n, m, -1)

    @parameterized.parameters(1, 2, 3)
    def test_tucker_forms_have_rank_at_most_d(self, d):
        # z_k = xᵀ W_x T[:, :, k] W_yᵀ y: rank <= d, and d for random T.
        layer = make("tucker", mm_dim=d, use_bias=False)
        run(layer, *test_util.inputs((1, 6), (1, 5)))
        forms = self.bilinear_forms(layer)
        for k in range(5):
            self.assertEqual(backend.matrix_rank(forms[:, :, k], 1e-9), d)

    def test_block_tucker_is_block_superdiagonal(self):
        # With identity projections, output k of chunk c is x_cᵀ T_c[..., k]
        # y_c: zero outside the block (c, c), full rank s_c inside it.
        layer = make(
            "block_tucker",
            mm_dim=6,
            chunks=2,
            use_bias=False,
            normalization=None,
        )
        run(layer, *test_util.inputs((1, 6), (1, 6)))
        identity_kernels(layer, ("x_kernel", "y_kernel"))
        layer.output_kernel.assign(np.eye(6, 5))
        forms = self.bilinear_forms(layer, 6, 6)
        for k in range(5):
            c = slice(k // 3 * 3, k // 3 * 3 + 3)
            self.assertEqual(backend.matrix_rank(forms[c, c, k], 1e-9), 3)
            outside = forms[:, :, k].copy()
            outside[c, c] = 0
            backend.assert_allclose(
                outside, 0.0, **backend.close(rtol=0, atol=1e-12)
            )

    @parameterized.parameters(True, False)
    def test_tucker_is_block_tucker_with_one_chunk(self, normalize):
        x, y = test_util.inputs((3, 6), (3, 4, 5))
        z, w = run(make("tucker", normalize=normalize), x, y)
        other = make(
            "block_tucker",
            mm_dim=4,
            chunks=1,
            normalization="after_concat" if normalize else None,
        )
        other(x, y)
        for v in other.weights:
            v.assign(w[v.name])
        backend.assert_allclose(
            other(x, y), z, **backend.close(rtol=1e-12, atol=1e-12)
        )

    def test_mutan_of_rank_d_spans_tucker(self):
        # Every slice T[:, :, k] (d × d) has rank <= d, so MUTAN with R = d
        # and the rank-one factors of an SVD of each slice equals Tucker.
        d = 3
        tucker = make("tucker", mm_dim=d, use_bias=False)
        x, y = test_util.inputs((4, 6), (4, 5))
        z, w = run(tucker, x, y)
        mutan = Mutan(
            5,
            rank=d,
            mm_dim=d,
            x_hidden=d,
            y_hidden=d,
            input_activation=None,
            use_bias=False,
            dtype="float64",
        )
        mutan(x, y)
        m_factor = np.zeros((d, d, d))  # [t_q, R, t_o]
        n_factor = np.zeros((d, d, d))
        for k in range(d):
            u, s, vt = np.linalg.svd(w["core"][0][:, :, k])
            m_factor[:, :, k] = u * s
            n_factor[:, :, k] = vt.T
        mutan.x_kernel.assign(w["x_kernel"])
        mutan.y_kernel.assign(w["y_kernel"])
        mutan.x_factor.assign(m_factor.reshape(d, d * d))
        mutan.y_factor.assign(n_factor.reshape(d, d * d))
        mutan.output_kernel.assign(w["output_kernel"])
        backend.assert_allclose(mutan(x, y), z, **backend.close())

    @parameterized.named_parameters(*NAMED)
    def test_broadcast_equals_a_call_per_position(self, name):
        layer = make(name)
        x, y = test_util.inputs((3, 6), (3, 4, 5))
        z, _ = run(layer, x, y)
        for s in range(4):
            backend.assert_allclose(
                z[:, s],
                layer(x, y[:, s]),
                **backend.close(rtol=1e-12, atol=1e-12),
            )


# Weight names and count_params() of the small layers on n = 6, m = 5.
WEIGHTS = {
    "linear_sum": [
        "output_bias",
        "output_kernel",
        "x_bias",
        "x_kernel",
        "y_bias",
        "y_kernel",
    ],
    "concat_mlp": [
        "mlp_bias_1",
        "mlp_bias_2",
        "mlp_bias_3",
        "mlp_kernel_1",
        "mlp_kernel_2",
        "mlp_kernel_3",
    ],
    "tucker": [
        "core",
        "core_bias",
        "output_bias",
        "output_kernel",
        "x_bias",
        "x_kernel",
        "y_bias",
        "y_kernel",
    ],
    "block_tucker": [
        "core",
        "core_bias",
        "last_core",
        "last_core_bias",
        "output_bias",
        "output_kernel",
        "x_bias",
        "x_kernel",
        "y_bias",
        "y_kernel",
    ],
}


def expected_count(name, b):
    """The docstrings' count_params() formulas; b = 1 with biases."""
    n, m, k = 6, 5, 5
    if name == "linear_sum":  # (n + m + 2)·d + (d + 1)·units
        d = 7
        return (n + m + 2 * b) * d + (d + b) * k
    if name == "concat_mlp":  # Σ_l (w_{l−1} + 1)·w_l
        widths = [n + m, 4, 3, k]
        return sum((a + b) * c for a, c in zip(widths, widths[1:]))
    if name == "tucker":  # (n + m + 2)·d + (d² + 1)·d + (d + 1)·units
        d = 4
        return (n + m + 2 * b) * d + (d * d + b) * d + (d + b) * k
    # block_tucker: (n + m + 2)·d + Σ_c (s_c² + 1)·s_c + (d + 1)·units
    d, sizes = 10, (3, 3, 3, 1)
    return (
        (n + m + 2 * b) * d + sum((s * s + b) * s for s in sizes) + (d + b) * k
    )


class KerasApiTest(parameterized.TestCase):
    @parameterized.named_parameters(*NAMED)
    def test_config_round_trip(self, name):
        options = {
            "linear_sum": dict(input_activation="tanh", normalize=True),
            "concat_mlp": dict(hidden_units=[3], hidden_activation="tanh"),
            "tucker": dict(normalize=True),
            "block_tucker": dict(normalization="after_concat"),
        }[name]
        layer = make(
            name,
            dropout=0.2,
            seed=3,
            activation="softmax",
            kernel_regularizer="l2",
            name="fusion",
            **options,
        )
        config = layer.get_config()
        clone = type(layer).from_config(config)
        self.assertEqual(clone.get_config(), config)
        for key in options:
            self.assertIn(key, config)
        for key in ("units", "dropout", "seed", "use_bias", "activation"):
            self.assertIn(key, config)
        x, y = test_util.inputs((2, 6), (2, 3, 5))
        z, w = run(layer, x, y)
        clone(x, y)
        for v in clone.weights:
            v.assign(w[v.name])
        backend.assert_allclose(clone(x, y), z, rtol=0, atol=0)

    @parameterized.product(name=list(SMALL), shapes=SHAPES)
    def test_compute_output_shape(self, name, shapes):
        layer = make(name)
        x, y = test_util.inputs(*shapes)
        self.assertEqual(
            layer.compute_output_shape(x.shape, y.shape), layer(x, y).shape
        )

    @parameterized.named_parameters(*NAMED)
    def test_symbolic_call_with_unknown_batch(self, name):
        x, y = keras.Input((6,)), keras.Input((4, 5))
        z = SMALL[name]()(x, y)
        self.assertEqual(tuple(z.shape), (None, 4, 5))

    @parameterized.named_parameters(*NAMED)
    def test_builds_lazily(self, name):
        layer = make(name)
        self.assertFalse(layer.built)
        self.assertEmpty(layer.weights)
        layer(*test_util.inputs((2, 6), (2, 5)))
        self.assertEqual(sorted(v.name for v in layer.weights), WEIGHTS[name])

    @parameterized.product(name=list(SMALL), use_bias=(True, False))
    def test_parameter_count(self, name, use_bias):
        layer = make(name, use_bias=use_bias)
        layer(*test_util.inputs((2, 6), (2, 3, 5)))
        self.assertEqual(
            layer.count_params(), expected_count(name, int(use_bias))
        )

    def test_defaults(self):
        # block.bootstrap's defaults (Tucker: its VQA 2.0 configuration).
        linear_sum = LinearSum(10)
        self.assertEqual(linear_sum.mm_dim, 1200)
        self.assertIs(linear_sum.input_activation, keras.activations.relu)
        concat_mlp = ConcatMLP(10)
        self.assertEqual(concat_mlp.hidden_units, (500, 500))
        self.assertIs(concat_mlp.hidden_activation, keras.activations.relu)
        self.assertEqual(Tucker(10).mm_dim, 235)
        block_tucker = BlockTucker(10)
        self.assertEqual(
            (
                block_tucker.mm_dim,
                block_tucker.chunks,
                block_tucker.normalization,
            ),
            (1600, 20, "before_concat"),
        )
        for layer in (linear_sum, concat_mlp, block_tucker):
            self.assertIs(layer.activation, keras.activations.linear)

    def test_accepts_numpy_integers(self):
        self.assertEqual(
            ConcatMLP(np.int64(3), hidden_units=[np.int32(4)]).hidden_units,
            (4,),
        )
        self.assertEqual(Tucker(3, mm_dim=np.int64(4)).mm_dim, 4)


class BadInputTest(parameterized.TestCase):
    @parameterized.parameters(
        (LinearSum, dict(units=None), r"`units` must be a positive integer, "),
        (LinearSum, dict(units=4, mm_dim=0), r"got mm_dim=0\.$"),
        (
            LinearSum,
            dict(units=4, normalize="l2"),
            r"`normalize` must be a bool, got normalize='l2'\.$",
        ),
        (
            LinearSum,
            dict(units=4, dropout=1),
            r"`dropout` must be a number in \[0, 1\), got dropout=1\.$",
        ),
        (
            LinearSum,
            dict(units=4, seed=1),
            r"`seed` only seeds the dropout, which is off; got seed=1 with "
            r"dropout=0.0\.$",
        ),
        (ConcatMLP, dict(units=0), r"got units=0\.$"),
        (
            ConcatMLP,
            dict(units=4, hidden_units=[3, 0]),
            r"`hidden_units` must be a list of positive ints, got "
            r"hidden_units=\[3, 0\]\.$",
        ),
        (ConcatMLP, dict(units=4, hidden_units=3), r"hidden_units=3\.$"),
        (
            ConcatMLP,
            dict(units=4, hidden_units=[True]),
            r"hidden_units=\[True\]\.$",
        ),
        (ConcatMLP, dict(units=4, dropout=-0.1), r"got dropout=-0.1\.$"),
        (Tucker, dict(units=4, mm_dim=2.0), r"got mm_dim=2.0\.$"),
        (
            Tucker,
            dict(units=4, normalize=1),
            r"`normalize` must be a bool, got normalize=1\.$",
        ),
        (Tucker, dict(units=4, use_bias=None), r"got use_bias=None\.$"),
        (BlockTucker, dict(units=4, chunks=0), r"got chunks=0\.$"),
        (
            BlockTucker,
            dict(units=4, mm_dim=3, chunks=4),
            r"`chunks` must be at most `mm_dim`.* got mm_dim=3 and chunks=4\.$",
        ),
        (
            BlockTucker,
            dict(units=4, mm_dim=10, chunks=6),
            r"must leave a last chunk.* got mm_dim=10 and chunks=6\.$",
        ),
        (
            BlockTucker,
            dict(units=4, normalization="l2"),
            r"`normalization` must be one of \('before_concat', "
            r"'after_concat', None\), got normalization='l2'\.$",
        ),
    )
    def test_bad_arguments(self, cls, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            cls(**kwargs)

    @parameterized.parameters(
        (LinearSum, "rank"),
        (ConcatMLP, "dimensions"),
        (BlockTucker, "rank"),
    )
    def test_unknown_argument(self, cls, argument):
        with self.assertRaisesRegex(
            ValueError, rf"Unrecognized keyword arguments.*'{argument}'"
        ):
            cls(4, **{argument: 5})

    @parameterized.parameters("chunks", "normalization")
    def test_tucker_has_one_chunk(self, argument):
        with self.assertRaisesRegex(
            ValueError,
            r"Tucker has one chunk and `normalize` \(BlockTucker has "
            rf"`chunks` and `normalization`\), got {argument}=2\.$",
        ):
            Tucker(4, **{argument: 2})

    @parameterized.parameters(
        ("input_activation", LinearSum), ("hidden_activation", ConcatMLP)
    )
    def test_unknown_activation(self, argument, cls):
        with self.assertRaisesRegex(ValueError, r"swishy"):
            cls(4, **{argument: "swishy"})

    @parameterized.product(
        name=list(SMALL),
        case=(
            ((6,), (3, 4), r"x has shape \(6,\) and y has shape \(3, 4\); "),
            ((3, 6), (5, 4), r"the batch sizes of x and y differ"),
            ((3, 5, 6), (3, 4, 4), r"the leading axes of x and y differ"),
            ((3, 2, 5, 6), (3, 5, 4), r"inputs of different ranks need"),
        ),
    )
    def test_bad_shapes(self, name, case):
        x_shape, y_shape, message = case
        layer = SMALL[name]()
        with self.assertRaisesRegex(
            ValueError, type(layer).__name__ + ": .*" + message
        ):
            layer(np.zeros(x_shape, "float32"), np.zeros(y_shape, "float32"))

    @parameterized.named_parameters(*NAMED)
    def test_unknown_feature_size(self, name):
        with self.assertRaisesRegex(
            ValueError, r"the last axes of x and y must be known"
        ):
            SMALL[name]().build((None, None), (None, 3))


if __name__ == "__main__":
    absltest.main()
