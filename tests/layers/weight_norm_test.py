"""Tests of weight normalisation (mi_zoo.layers.weight_norm)."""

import doctest
import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.layers import WeightNormDense
from mi_zoo.layers import weight_norm
from tests import backend
from tests.backend import as_numpy
from tests.layers.weight_norm_references import folded


class NormalizedTest(parameterized.TestCase):
    @parameterized.parameters((None, (1, 1, 1)), ((1, 2), (3, 1, 1)))
    def test_matches_reference(self, axes, g_shape):
        rng = np.random.default_rng(0)
        v, g = rng.normal(size=(3, 4, 5)), rng.normal(size=g_shape)
        self.assertEqual(weight_norm.scale_shape(v.shape, axes), g_shape)
        backend.assert_allclose(
            weight_norm.normalized(v, g, axes),
            folded(v, g, axes),
            **backend.close(rtol=1e-13, atol=1e-13),
        )

    def test_norm_is_g_whatever_the_scale_of_v(self):
        rng = np.random.default_rng(1)
        v, g = rng.normal(size=(3, 4, 5)), rng.uniform(1, 2, size=(3, 1, 1))
        w = as_numpy(weight_norm.normalized(v, g, (1, 2)))
        backend.assert_allclose(
            np.linalg.norm(w.reshape(3, -1), axis=1),
            g.ravel(),
            **backend.close(rtol=1e-12),
        )
        backend.assert_allclose(
            weight_norm.normalized(7.5 * v, g, (1, 2)),
            w,
            **backend.close(rtol=1e-12, atol=1e-14),
        )


class WeightNormDenseTest(parameterized.TestCase):
    def test_equals_dense_with_folded_weights(self):
        rng = np.random.default_rng(2)
        x = rng.normal(size=(6, 5))
        layer = WeightNormDense(3, activation="relu", dtype="float64")
        layer(x)
        v, g, b = rng.normal(size=(5, 3)), 1.7, rng.normal(size=3)
        layer.kernel.assign(v)
        layer.kernel_scale.assign(np.full((1, 1), g))
        layer.bias.assign(b)
        dense = keras.layers.Dense(3, activation="relu", dtype="float64")
        dense(x)
        dense.kernel.assign(folded(v, g))
        dense.bias.assign(b)
        backend.assert_allclose(
            layer(x), dense(x), **backend.close(rtol=1e-12, atol=1e-12)
        )
        want = np.maximum(x @ folded(v, g) + b, 0.0)
        backend.assert_allclose(layer(x), want, **backend.close(atol=1e-12))

    def test_initially_the_dense_layer_of_v(self):
        # g starts at ‖V‖ (as torch's weight_norm), so W = V.
        rng = np.random.default_rng(3)
        x = rng.normal(size=(4, 6))
        layer = WeightNormDense(2, dtype="float64")
        out = layer(x)
        v = as_numpy(layer.kernel)
        backend.assert_allclose(
            as_numpy(layer.kernel_scale), [[np.linalg.norm(v)]], rtol=1e-12
        )
        backend.assert_allclose(
            out, x @ v, **backend.close(rtol=1e-12, atol=1e-12)
        )

    def test_parameter_count_and_weights(self):
        layer = WeightNormDense(3)
        layer(np.ones((2, 5), "float32"))
        self.assertEqual(layer.count_params(), 5 * 3 + 1 + 3)
        self.assertEqual(
            sorted(w.name for w in layer.weights),
            ["bias", "kernel", "kernel_scale"],
        )
        no_bias = WeightNormDense(3, use_bias=False)
        no_bias(np.ones((2, 5), "float32"))
        self.assertEqual(no_bias.count_params(), 5 * 3 + 1)

    def test_keras_file_round_trip_and_fit(self):
        rng = np.random.default_rng(4)
        x = rng.normal(size=(8, 5)).astype("float32")
        inputs = keras.Input((5,))
        model = keras.Model(
            inputs, WeightNormDense(2, activation="tanh", name="wn")(inputs)
        )
        model.compile("sgd", "mse")
        before = as_numpy(model.get_layer("wn").kernel_scale).copy()
        model.fit(x, np.ones((8, 2)), epochs=2, verbose=0)
        self.assertFalse(
            np.allclose(as_numpy(model.get_layer("wn").kernel_scale), before)
        )
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "wn.keras")
            model.save(path)
            clone = keras.models.load_model(path)
        self.assertEqual(
            clone.get_layer("wn").get_config(),
            model.get_layer("wn").get_config(),
        )
        backend.assert_array_equal(
            clone.predict(x, verbose=0), model.predict(x, verbose=0)
        )

    def test_compute_output_shape(self):
        layer = WeightNormDense(4)
        self.assertEqual(
            layer.compute_output_shape((None, 3, 7)), (None, 3, 4)
        )
        out = layer(keras.Input((3, 7)))
        self.assertEqual(tuple(out.shape), (None, 3, 4))

    def test_docstring_examples(self):
        result = doctest.testmod(weight_norm)
        self.assertGreater(result.attempted, 0)
        self.assertEqual(result.failed, 0)


class BadInputTest(parameterized.TestCase):
    def test_bad_units(self):
        with self.assertRaisesRegex(
            ValueError, r"`units` must be a positive integer, got units=0\."
        ):
            WeightNormDense(0)

    def test_unknown_input_size(self):
        with self.assertRaisesRegex(
            ValueError,
            r"WeightNormDense: the last axis of the input must be known, "
            r"got input shape \(None, None\)\.",
        ):
            WeightNormDense(2)(keras.Input((None,)))

    def test_bad_flag(self):
        with self.assertRaisesRegex(
            ValueError, r"`weight_norm` must be a bool, got weight_norm=1\."
        ):
            weight_norm.check(1)


if __name__ == "__main__":
    absltest.main()
