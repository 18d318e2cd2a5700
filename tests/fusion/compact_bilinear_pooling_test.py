"""Tests of CompactBilinearPooling (MCB) against the count sketch of x ⊗ y."""

import itertools

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.fusion import CompactBilinearPooling
from tests import backend
from tests.backend import as_numpy
from tests.fusion import pooling_references as ref
from tests.layers import test_util

# (x shape, y shape): equal ranks, and a [B, f] input broadcast either way.
SHAPES = (
    ((3, 5), (3, 4)),
    ((3, 5), (3, 2, 4)),
    ((3, 2, 5), (3, 4)),
    ((3, 2, 5), (3, 2, 4)),
    ((2, 5), (2, 2, 3, 4)),
)
HASHES = ("x_hash", "x_sign", "y_hash", "y_sign")


def make(
    d=16, dtype="float64", signed_sqrt=False, l2_normalize=False, **kwargs
):
    return CompactBilinearPooling(
        d,
        signed_sqrt=signed_sqrt,
        l2_normalize=l2_normalize,
        dtype=dtype,
        **kwargs,
    )


def run(layer, x, y, seed=0):
    """Calls the layer with random trainable weights; returns (out, weights)
    with the hashes and signs among the weights."""
    layer(x, y)
    rng = np.random.default_rng(seed)
    weights = {}
    for v in layer.weights:
        if v.trainable:
            v.assign(rng.normal(scale=0.5, size=v.shape).astype(v.dtype))
        weights[v.name] = as_numpy(v)
    return as_numpy(layer(x, y)), weights


def inner(a, b):
    return np.sum(a * b, axis=-1)


def compiled(layer, x, y):
    """layer(x, y) as a function of the current weights (traced under TF)."""
    layer(x, y)
    if backend.BACKEND != "tensorflow":
        return lambda: as_numpy(layer(x, y))
    import tensorflow as tf

    fn = tf.function(lambda: layer(x, y))
    return lambda: as_numpy(fn())


class FormulaTest(parameterized.TestCase):
    @parameterized.product(shapes=SHAPES, d=(7, 16))
    def test_equals_count_sketch_of_the_outer_product(self, shapes, d):
        # Φ(x, y) = Ψ(vec(x ⊗ y)) with H(i, j) = (h_x(i) + h_y(j)) mod d.
        x, y = test_util.inputs(*shapes)
        z, w = run(make(d, seed=3), x, y)
        expected = ref.mcb(x, y, w, d)
        self.assertEqual(z.shape, expected.shape)
        backend.assert_allclose(z, expected, **backend.close())

    @parameterized.product(
        signed_sqrt=(False, True), l2_normalize=(False, True)
    )
    def test_normalizations(self, signed_sqrt, l2_normalize):
        x, y = test_util.inputs((4, 3, 6), (4, 5))
        layer = make(32, signed_sqrt=signed_sqrt, l2_normalize=l2_normalize)
        z, w = run(layer, x, y)
        expected = ref.mcb(x, y, w, 32, signed_sqrt, l2_normalize)
        # The FFT leaves ~1e-16 in the empty bins, which √ turns into ~1e-8.
        atol = 1e-7 if signed_sqrt else 1e-10
        float32 = 1e-3 if signed_sqrt else 1e-5
        backend.assert_allclose(
            z, expected, **backend.close(atol=atol, float32=float32)
        )
        if l2_normalize:
            backend.assert_allclose(
                np.linalg.norm(z, axis=-1),
                1.0,
                **backend.close(rtol=1e-12, atol=0),
            )

    def test_output_projection(self):
        x, y = test_util.inputs((4, 6), (4, 3, 5))
        layer = make(
            32, signed_sqrt=True, l2_normalize=True, units=3, activation="tanh"
        )
        z, w = run(layer, x, y)
        expected = ref.mcb(
            x, y, w, 32, True, True, units=3, activation=np.tanh
        )
        self.assertEqual(z.shape, (4, 3, 3))
        backend.assert_allclose(
            z, expected, **backend.close(rtol=1e-7, atol=1e-7)
        )

    def test_paper_size_in_float32(self):
        # d = 16000 (the default) with FFTs in float32.
        x, y = test_util.inputs((2, 64), (2, 48), dtype="float32")
        layer = CompactBilinearPooling(
            seed=0, signed_sqrt=False, l2_normalize=False
        )
        z, w = run(layer, x, y)
        self.assertEqual(z.shape, (2, 16000))
        expected = ref.mcb(x, y, w, 16000)
        scale = np.abs(expected).max()
        backend.assert_allclose(z, expected, atol=1e-5 * scale)

    def test_hashes_stay_exact_under_mixed_precision(self):
        # float16 holds integers exactly only up to 2048: the hash weights
        # must not be autocast, and the FFTs must run in float32.
        keras.mixed_precision.set_dtype_policy("mixed_float16")
        try:
            layer = CompactBilinearPooling(5000, seed=1)
            x, y = test_util.inputs((3, 300), (3, 40), dtype="float16")
            z, w = run(layer, x, y)
        finally:
            keras.mixed_precision.set_dtype_policy("float32")
        self.assertEqual(z.dtype, np.float16)
        self.assertTrue(
            all(layer.weights[i].dtype == "float32" for i in range(4))
        )
        self.assertGreater(w["x_hash"].max(), 2048)
        expected = ref.mcb(x, y, w, 5000, True, True)
        backend.assert_allclose(z, expected, atol=2e-3)


class UnbiasednessTest(parameterized.TestCase):
    """E⟨Φ(x, y), Φ(x', y')⟩ = ⟨x, x'⟩⟨y, y'⟩ over the random hashes."""

    def test_exact_expectation_over_every_hash_and_sign(self):
        # n = m = 2, d = 3: all 3⁴ hash and 2⁴ sign assignments, equally
        # likely under independent uniform hashes and signs.
        rng = np.random.default_rng(7)
        xs, ys = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
        layer = make(3)
        call = compiled(layer, xs, ys)
        total, count = 0.0, 0
        for hashes in itertools.product(range(3), repeat=4):
            layer.x_hash.assign(np.float32(hashes[:2]))
            layer.y_hash.assign(np.float32(hashes[2:]))
            for signs in itertools.product((-1.0, 1.0), repeat=4):
                layer.x_sign.assign(np.float32(signs[:2]))
                layer.y_sign.assign(np.float32(signs[2:]))
                z = call()
                total += inner(z[0], z[1])
                count += 1
        self.assertEqual(count, 81 * 16)
        backend.assert_allclose(
            total / count,
            inner(xs[0], xs[1]) * inner(ys[0], ys[1]),
            **backend.close(atol=0),
        )

    def test_mean_over_seeds_is_unbiased(self):
        # Rows 0, 1: random vectors. Rows 2, 3: x = e₀, y = e₁, x' = e₁,
        # y' = e₀, where ⟨x, x'⟩⟨y, y'⟩ = 0 but an MCB that shares one hash
        # and sign vector between x and y (a common porting error when
        # n = m) gives ⟨Φ, Φ'⟩ = 1 for every seed.
        rng = np.random.default_rng(0)
        eye = np.eye(3)
        xs = np.concatenate([rng.normal(size=(2, 3)), eye[[0, 1]]])
        ys = np.concatenate([rng.normal(size=(2, 3)), eye[[1, 0]]])
        probe = make(6)
        call = compiled(probe, xs, ys)
        trials = 200
        samples = np.zeros((trials, 2))
        for seed in range(trials):
            # The hashes and signs that a layer with this seed draws.
            layer = make(6, seed=seed)
            layer.build(xs.shape, ys.shape)
            for name in HASHES:
                getattr(probe, name).assign(getattr(layer, name))
            z = call()
            samples[seed] = inner(z[0], z[1]), inner(z[2], z[3])
        mean = samples.mean(0)
        error = samples.std(0) / np.sqrt(trials)
        truth = np.array([inner(xs[0], xs[1]) * inner(ys[0], ys[1]), 0.0])
        np.testing.assert_array_less(np.abs(mean - truth), 4 * error)
        self.assertLess(4 * error[1], 0.5)  # a shared hash would be caught


class StructureTest(parameterized.TestCase):
    """Properties that hold whatever the hashes."""

    def test_bilinear_in_each_input(self):
        layer = make(16, seed=5)
        x1, y1 = test_util.inputs((4, 6), (4, 5), seed=2)
        x2, y2 = test_util.inputs((4, 6), (4, 5), seed=3)
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

    @parameterized.parameters(False, True)
    def test_broadcast_equals_a_call_per_position(self, l2_normalize):
        layer = make(
            16, seed=5, signed_sqrt=l2_normalize, l2_normalize=l2_normalize
        )
        x, y = test_util.inputs((3, 6), (3, 4, 5))
        z = as_numpy(layer(x, y))
        for s in range(4):
            backend.assert_allclose(
                z[:, s],
                layer(x, y[:, s]),
                **backend.close(rtol=1e-7, atol=1e-12),
            )

    def test_hashes_come_from_the_seed(self):
        def hashes(seed):
            layer = CompactBilinearPooling(100, seed=seed)
            layer(*test_util.inputs((2, 50), (2, 40), dtype="float32"))
            return {name: as_numpy(getattr(layer, name)) for name in HASHES}

        first, again, other = hashes(3), hashes(3), hashes(4)
        for name in HASHES:
            backend.assert_array_equal(first[name], again[name])
        self.assertFalse(np.array_equal(first["x_hash"], other["x_hash"]))
        for side, size in (("x", 50), ("y", 40)):
            h, s = first[f"{side}_hash"], first[f"{side}_sign"]
            self.assertEqual(h.shape, (size,))
            self.assertTrue(np.all((h >= 0) & (h < 100) & (h == np.round(h))))
            self.assertTrue(np.all(np.abs(s) == 1))
            self.assertTrue((s > 0).any() and (s < 0).any())
        # x and y are hashed independently, even with equal sizes.
        layer = CompactBilinearPooling(1000, seed=0)
        layer(*test_util.inputs((2, 30), (2, 30), dtype="float32"))
        self.assertFalse(np.array_equal(layer.x_hash, layer.y_hash))

    def test_zero_input_gives_zero_output_and_finite_gradient(self):
        layer = CompactBilinearPooling(16, units=2, seed=0)
        x = np.zeros((2, 4), "float32")
        y = np.ones((2, 3), "float32")
        z = as_numpy(layer(x, y))
        backend.assert_array_equal(
            z, np.broadcast_to(as_numpy(layer.bias), (2, 2))
        )
        grads = backend.input_gradients(layer, x, y)
        self.assertTrue(all(np.isfinite(g).all() for g in grads))


class KerasApiTest(parameterized.TestCase):
    def test_config_round_trip(self):
        layer = CompactBilinearPooling(
            64,
            signed_sqrt=False,
            seed=9,
            units=4,
            activation="relu",
            use_bias=False,
            kernel_regularizer="l2",
            name="mcb",
        )
        clone = CompactBilinearPooling.from_config(layer.get_config())
        self.assertEqual(clone.get_config(), layer.get_config())
        for key in (
            "sketch_dim",
            "signed_sqrt",
            "l2_normalize",
            "seed",
            "units",
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

    def test_drawn_seed_is_in_the_config(self):
        keras.utils.set_random_seed(1)
        layer = CompactBilinearPooling(64)
        self.assertIsInstance(layer.get_config()["seed"], int)
        keras.utils.set_random_seed(1)
        self.assertEqual(CompactBilinearPooling(64).seed, layer.seed)
        x, y = test_util.inputs((2, 5), (2, 3), dtype="float32")
        clone = CompactBilinearPooling.from_config(layer.get_config())
        backend.assert_array_equal(layer(x, y), clone(x, y))

    @parameterized.parameters(*SHAPES)
    def test_compute_output_shape(self, x_shape, y_shape):
        for units in (None, 3):
            layer = make(16, units=units)
            x, y = test_util.inputs(x_shape, y_shape)
            self.assertEqual(
                layer.compute_output_shape(x.shape, y.shape), layer(x, y).shape
            )

    def test_symbolic_call_with_unknown_batch(self):
        x, y = keras.Input((6,)), keras.Input((4, 5))
        z = CompactBilinearPooling(32)(x, y)
        self.assertEqual(tuple(z.shape), (None, 4, 32))

    def test_builds_lazily_with_non_trainable_hashes(self):
        layer = CompactBilinearPooling(32)
        self.assertFalse(layer.built)
        self.assertEmpty(layer.weights)
        layer(*test_util.inputs((2, 6), (2, 5), dtype="float32"))
        self.assertEmpty(layer.trainable_weights)
        self.assertEqual(
            sorted(v.name for v in layer.non_trainable_weights), sorted(HASHES)
        )

    @parameterized.parameters(
        # 2·(n + m) hash and sign entries, plus d·units + units.
        (None, True, 2 * (6 + 5)),
        (3, True, 2 * (6 + 5) + 32 * 3 + 3),
        (3, False, 2 * (6 + 5) + 32 * 3),
    )
    def test_parameter_count(self, units, use_bias, count):
        layer = CompactBilinearPooling(32, units=units, use_bias=use_bias)
        layer(*test_util.inputs((2, 6), (2, 4, 5), dtype="float32"))
        self.assertEqual(layer.count_params(), count)
        self.assertEqual(
            sum(int(np.prod(v.shape)) for v in layer.trainable_weights),
            count - 2 * (6 + 5),
        )


class BadInputTest(parameterized.TestCase):
    @parameterized.parameters(
        (
            dict(sketch_dim=0),
            r"`sketch_dim` must be a positive integer, got sketch_dim=0",
        ),
        (dict(sketch_dim=16.0), r"got sketch_dim=16.0"),
        (
            dict(sketch_dim=2**24 + 1),
            r"`sketch_dim` must be at most 2\*\*24 = 16777216 .*got "
            r"sketch_dim=16777217",
        ),
        (
            dict(signed_sqrt="yes"),
            r"`signed_sqrt` must be a bool, got signed_sqrt='yes'",
        ),
        (
            dict(l2_normalize=1),
            r"`l2_normalize` must be a bool, got l2_normalize=1",
        ),
        (
            dict(seed=-1),
            r"`seed` must be None or a non-negative integer, got seed=-1",
        ),
        (dict(seed=1.5), r"got seed=1.5"),
        (dict(units=0), r"`units` must be a positive integer, got units=0"),
        (
            dict(activation="relu"),
            r"`activation` applies to the output projection, which needs "
            r"`units`; got activation='relu' with units=None",
        ),
        (
            dict(use_bias=False),
            r"`use_bias` applies to the output projection, which needs "
            r"`units`; got use_bias=False with units=None",
        ),
        (dict(units=2, use_bias="no"), r"got use_bias='no'"),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            CompactBilinearPooling(**kwargs)

    def test_unknown_argument(self):
        with self.assertRaisesRegex(
            ValueError,
            r"Unrecognized keyword "
            r"arguments.*'hash_seed'",
        ):
            CompactBilinearPooling(64, hash_seed=1)

    @parameterized.parameters(
        (
            (6,),
            (3, 4),
            r"CompactBilinearPooling: x has shape \(6,\) and y "
            r"has shape \(3, 4\); x must have rank >= 2",
        ),
        (
            (3, 6),
            (5, 4),
            r"x has shape \(3, 6\) and y has shape \(5, 4\); "
            r"the batch sizes of x and y differ",
        ),
        ((3, 5, 6), (3, 4, 4), r"the leading axes of x and y differ"),
        (
            (3, 2, 5, 6),
            (3, 5, 4),
            r"inputs of different ranks need the "
            r"lower-rank one to be \[batch, features\]",
        ),
    )
    def test_bad_shapes(self, x_shape, y_shape, message):
        layer = CompactBilinearPooling(16)
        with self.assertRaisesRegex(ValueError, message):
            layer(np.zeros(x_shape, "float32"), np.zeros(y_shape, "float32"))

    def test_unknown_feature_size(self):
        with self.assertRaisesRegex(
            ValueError,
            r"the last axes of x and y "
            r"must be known",
        ):
            CompactBilinearPooling(16).build((None, None), (None, 3))


if __name__ == "__main__":
    absltest.main()
