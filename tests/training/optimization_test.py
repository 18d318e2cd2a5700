"""Learning-rate schedules, the optimizer registry and the fused
optimizers (float64 NumPy references, Keras's own classes, checkpoints and
a mirrored strategy)."""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np
import tensorflow as tf

from mi_zoo.training import devices
from mi_zoo.training import optimization
from tests import distribution

devices.split_cpu(2)


def reference(step, lr, warmup, decay, decay_steps, rate):
    """The schedule written out in float64."""
    if step < warmup:
        return lr * (step + 1) / warmup
    t = step - warmup
    f = min(t / decay_steps, 1.0)
    return {
        "constant": lr,
        "cosine": lr * 0.5 * (1 + np.cos(np.pi * f)),
        "linear": lr * (1 - f),
        "exponential": lr * rate ** (t / decay_steps),
    }[decay]


def step_reference(step, lr, warmup, rate, boundaries):
    """The step decay written out: × rate at each boundary reached."""
    if step < warmup:
        return lr * (step + 1) / warmup
    return lr * rate ** sum(step >= b for b in boundaries)


class WarmupScheduleTest(parameterized.TestCase):
    @parameterized.parameters("constant", "cosine", "linear", "exponential")
    def test_matches_reference(self, decay):
        schedule = optimization.WarmupSchedule(
            2e-3, warmup_steps=5, decay=decay, decay_steps=20, decay_rate=0.3
        )
        for step in range(0, 40, 3):
            np.testing.assert_allclose(
                float(schedule(step)),
                reference(step, 2e-3, 5, decay, 20, 0.3),
                rtol=1e-5,
                atol=1e-9,
            )

    def test_step_decay_matches_reference(self):
        # BAN's schedule in steps: warm-up, then x0.25 at two boundaries.
        schedule = optimization.WarmupSchedule(
            2e-3,
            warmup_steps=8,
            decay="step",
            decay_rate=0.25,
            boundaries=(20, 24),
        )
        for step in range(0, 40):
            np.testing.assert_allclose(
                float(schedule(step)),
                step_reference(step, 2e-3, 8, 0.25, (20, 24)),
                rtol=1e-6,
            )
        self.assertEqual(optimization.parse_boundaries("20,24"), (20, 24))
        self.assertEqual(optimization.parse_boundaries(None), ())

    def test_warmup_rises_to_the_peak_without_a_jump(self):
        schedule = optimization.WarmupSchedule(1.0, warmup_steps=4)
        values = [float(schedule(s)) for s in range(6)]
        self.assertEqual(values, [0.25, 0.5, 0.75, 1.0, 1.0, 1.0])

    def test_serialises(self):
        for schedule in (
            optimization.WarmupSchedule(1e-3, 3, "cosine", 10),
            optimization.WarmupSchedule(1e-3, 3, "step", boundaries=(5, 9)),
        ):
            clone = keras.saving.deserialize_keras_object(
                keras.saving.serialize_keras_object(schedule)
            )
            self.assertEqual(clone.get_config(), schedule.get_config())

    @parameterized.parameters(
        ({"learning_rate": 0}, "learning_rate=0"),
        ({"learning_rate": 1e-3, "warmup_steps": -1}, "warmup_steps=-1"),
        ({"learning_rate": 1e-3, "decay": "poly"}, "decay='poly'"),
        (
            {"learning_rate": 1e-3, "decay": "step"},
            "decay='step' with boundaries=\\(\\)",
        ),
        (
            {"learning_rate": 1e-3, "boundaries": (4,)},
            "decay='constant' with boundaries=\\(4,\\)",
        ),
        (
            {"learning_rate": 1e-3, "decay": "step", "boundaries": (4, 4)},
            "boundaries=\\(4, 4\\)",
        ),
        (
            {"learning_rate": 1e-3, "decay": "step", "boundaries": (0,)},
            "boundaries=\\(0,\\)",
        ),
        ({"learning_rate": 1e-3, "decay_steps": 0}, "decay_steps=0"),
        ({"learning_rate": 1e-3, "decay_rate": 1.5}, "decay_rate=1.5"),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            optimization.WarmupSchedule(**kwargs)

    def test_bad_boundaries_text(self):
        with self.assertRaisesRegex(ValueError, "decay_boundaries='1,a'"):
            optimization.parse_boundaries("1,a")
        with self.assertRaisesRegex(ValueError, "decay_boundaries='3,2'"):
            optimization.parse_boundaries("3,2")


class MakeOptimizerTest(parameterized.TestCase):
    @parameterized.parameters(
        ("adam", optimization.FusedAdam),
        ("adamax", optimization.FusedAdamax),
        ("rmsprop", keras.optimizers.RMSprop),
        ("sgd", optimization.FusedSGD),
    )
    def test_registry(self, name, cls):
        self.assertIsInstance(optimization.make_optimizer(name, 0.1), cls)

    def test_clipping_bounds_the_update(self):
        optimizer = optimization.make_optimizer("sgd", 1.0, clip_norm=0.5)
        w = keras.Variable(np.zeros(3, "float32"))
        optimizer.apply_gradients(
            [(np.array([30.0, 40.0, 0.0], "float32"), w)]
        )
        np.testing.assert_allclose(np.linalg.norm(w.numpy()), 0.5, rtol=1e-5)

    def test_loss_scale_wraps(self):
        optimizer = optimization.make_optimizer("adam", 0.1, loss_scale=True)
        self.assertIsInstance(optimizer, keras.optimizers.LossScaleOptimizer)

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, "optimizer='lamb'"):
            optimization.make_optimizer("lamb", 0.1)
        with self.assertRaisesRegex(ValueError, "clip_norm=0"):
            optimization.make_optimizer("adam", 0.1, clip_norm=0)


def numpy_updates(kind, w, grads, lr, **kw):
    """The optimizers' formulas in float64 over the gradient sequence."""
    w = w.astype(np.float64)
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        g = g.astype(np.float64)
        if kind == "adam":
            b1, b2, eps = 0.9, 0.999, 1e-7
            m += (g - m) * (1 - b1)
            v += (g * g - v) * (1 - b2)
            alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
            w -= alpha * m / (np.sqrt(v) + eps)
        elif kind == "adamax":
            b1, b2, eps = 0.9, 0.999, 1e-7
            m += (g - m) * (1 - b1)
            v = np.maximum(b2 * v, np.abs(g))
            w -= lr / (1 - b1**t) * m / (v + eps)
        else:  # sgd with momentum
            mu = kw["momentum"]
            m = mu * m - lr * g
            w += mu * m - lr * g if kw.get("nesterov") else m
    return w


FUSED = {
    "adam": (optimization.FusedAdam, keras.optimizers.Adam, {}),
    "adamax": (optimization.FusedAdamax, keras.optimizers.Adamax, {}),
    "sgd": (optimization.FusedSGD, keras.optimizers.SGD, {"momentum": 0.9}),
    "nesterov": (
        optimization.FusedSGD,
        keras.optimizers.SGD,
        {"momentum": 0.9, "nesterov": True},
    ),
}


class FusedOptimizerTest(parameterized.TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.w0 = rng.normal(size=(6, 5)).astype("float32")
        self.grads = [
            rng.normal(size=(6, 5)).astype("float32") for _ in range(6)
        ]

    def _run(self, optimizer):
        w = keras.Variable(self.w0)
        for g in self.grads:
            optimizer.apply_gradients([(g, w)])
        return w.numpy()

    @parameterized.parameters(*FUSED)
    def test_matches_numpy_and_keras(self, name):
        fused, plain, kw = FUSED[name]
        kind = "sgd" if name == "nesterov" else name
        expected = numpy_updates(kind, self.w0, self.grads, 0.01, **kw)
        got = self._run(fused(0.01, **kw))
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
        keras_got = self._run(plain(0.01, **kw))
        np.testing.assert_allclose(got, keras_got, rtol=1e-5, atol=1e-6)

    def test_amsgrad_and_plain_sgd_take_keras_update(self):
        for fused, plain, kw in (
            (optimization.FusedAdam, keras.optimizers.Adam, {"amsgrad": True}),
            (optimization.FusedSGD, keras.optimizers.SGD, {}),
        ):
            np.testing.assert_allclose(
                self._run(fused(0.01, **kw)),
                self._run(plain(0.01, **kw)),
                rtol=1e-6,
            )

    def test_sparse_gradient_of_an_embedding(self):
        # An embedding's gradient comes as IndexedSlices: rows 0 and 2.
        table = keras.Variable(np.ones((4, 3), "float32"))
        optimizer = optimization.FusedAdam(0.1)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.gather(table, [0, 2, 2]))
        grad = tape.gradient(loss, table)
        self.assertIsInstance(grad, tf.IndexedSlices)
        optimizer.apply_gradients([(grad, table)])
        dense = np.zeros((4, 3))
        dense[0], dense[2] = 1.0, 2.0
        expected = numpy_updates("adam", np.ones((4, 3)), [dense], 0.1)
        np.testing.assert_allclose(table.numpy(), expected, rtol=1e-5)

    @parameterized.parameters(("keras", "fused"), ("fused", "keras"))
    def test_checkpoints_restore_across_keras_and_fused(self, first, then):
        # The slots are Keras's: a run saved with one resumes with the other.
        classes = {"keras": keras.optimizers.Adam, "fused": None}
        classes["fused"] = optimization.FusedAdam
        w = keras.Variable(self.w0)
        optimizer = classes[first](0.01)
        for g in self.grads[:3]:
            optimizer.apply_gradients([(g, w)])
        with tempfile.TemporaryDirectory() as folder:
            path = tf.train.Checkpoint(w=w, optimizer=optimizer).write(
                os.path.join(folder, "ckpt")
            )
            w2 = keras.Variable(np.zeros_like(self.w0))
            restored = classes[then](0.01)
            restored.build([w2])
            tf.train.Checkpoint(w=w2, optimizer=restored).read(
                path
            ).assert_consumed()
        self.assertEqual(int(restored.iterations), 3)
        for g in self.grads[3:]:
            optimizer.apply_gradients([(g, w)])
            restored.apply_gradients([(g, w2)])
        np.testing.assert_allclose(w2.numpy(), w.numpy(), rtol=1e-5)

    @parameterized.parameters("adam", "adamax", "sgd")
    def test_mirrored_replicas_update_alike(self, name):
        # Two replicas on logical CPUs, each with half the batch's
        # gradient: the summed update equals one replica's with the sum.
        fused, _, kw = FUSED[name]
        strategy = distribution.mirrored_strategy()
        with strategy.scope():
            w = keras.Variable(self.w0)
            optimizer = fused(0.01, **kw)
            optimizer.build([w])

        @tf.function
        def step(g):
            def replica(g):
                ctx = tf.distribute.get_replica_context()
                half = (
                    g
                    / 2.0
                    * tf.cast(ctx.replica_id_in_sync_group + 1, g.dtype)
                )
                optimizer.apply_gradients([(half * 2.0 / 3.0, w)])

            strategy.run(replica, args=(g,))

        for g in self.grads:
            step(tf.constant(g))
        expected = numpy_updates(name, self.w0, self.grads, 0.01, **kw)
        for copy in w.value.values:
            np.testing.assert_allclose(
                copy.numpy(), expected, rtol=1e-5, atol=1e-6
            )


if __name__ == "__main__":
    absltest.main()
