"""Guided back-propagation against its definition on tiny networks."""

from absl.testing import absltest
import keras
import numpy as np
import tensorflow as tf

from mi_zoo import explain


def _network(relu_layer):
    """x [B, 4] -> Dense(5) + ReLU -> Dense(1); the ReLU as activation or
    as a keras.layers.ReLU."""
    x = keras.Input((4,))
    if relu_layer:
        h = keras.layers.ReLU()(keras.layers.Dense(5, name="first")(x))
    else:
        h = keras.layers.Dense(5, activation="relu", name="first")(x)
    return keras.Model(x, keras.layers.Dense(1, name="second")(h))


def _gradient(model, x):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(model(x))
    return y.numpy(), tape.gradient(y, x).numpy()


def _reference(model, x, guided):
    """∂y/∂x by hand; guided: 1[pre > 0] · max(upstream, 0) at the ReLU."""
    w1, b1 = (
        np.asarray(w, np.float64)
        for w in model.get_layer("first").get_weights()
    )
    w2 = np.asarray(model.get_layer("second").get_weights()[0], np.float64)
    pre = x @ w1 + b1  # [B, 5]
    upstream = np.broadcast_to(w2[:, 0], pre.shape)
    if guided:
        upstream = np.maximum(upstream, 0.0)
    return ((pre > 0) * upstream) @ w1.T


class GuidedBackpropTest(absltest.TestCase):
    def test_matches_the_definition(self):
        x = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
        for relu_layer in (False, True):
            keras.utils.set_random_seed(4)
            model = _network(relu_layer)
            w2 = model.get_layer("second").get_weights()[0]
            # Mixed signs, so that guiding changes something.
            self.assertTrue(np.any(w2 > 0) and np.any(w2 < 0))
            y_plain, g_plain = _gradient(model, x)
            with explain.guided_backprop(model) as count:
                self.assertEqual(count, 1)
                y_guided, g_guided = _gradient(model, x)
            np.testing.assert_allclose(y_guided, y_plain, rtol=1e-6)
            np.testing.assert_allclose(
                g_guided, _reference(model, x, True), rtol=1e-4, atol=1e-6
            )
            np.testing.assert_allclose(
                g_plain, _reference(model, x, False), rtol=1e-4, atol=1e-6
            )
            self.assertGreater(np.abs(g_guided - g_plain).max(), 1e-3)
            # Restored on exit.
            np.testing.assert_allclose(
                _gradient(model, x)[1], g_plain, rtol=1e-6
            )

    def test_restored_after_an_error(self):
        model = _network(False)
        with self.assertRaisesRegex(RuntimeError, "boom"):
            with explain.guided_backprop(model):
                raise RuntimeError("boom")
        self.assertIs(
            model.get_layer("first").activation, keras.activations.relu
        )

    def test_leaky_relu_is_left_alone_and_no_relu_is_an_error(self):
        x = keras.Input((3,))
        model = keras.Model(
            x,
            keras.layers.ReLU(negative_slope=0.1)(
                keras.layers.Dense(2, activation="tanh")(x)
            ),
        )
        with self.assertRaisesRegex(ValueError, "has no ReLU to guide"):
            with explain.guided_backprop(model):
                pass

    def test_guided_relu(self):
        x = tf.constant([-1.0, 2.0, 3.0])
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = explain.guided_relu(x)
        g = tape.gradient(y, x, output_gradients=tf.constant([5.0, -1.0, 2.0]))
        np.testing.assert_array_equal(y.numpy(), [0.0, 2.0, 3.0])
        np.testing.assert_array_equal(g.numpy(), [0.0, 0.0, 2.0])


if __name__ == "__main__":
    absltest.main()
