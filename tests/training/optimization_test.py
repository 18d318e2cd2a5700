"""Learning-rate schedules and the optimizer registry."""

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.training import optimization


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
        ("adam", keras.optimizers.Adam),
        ("adamax", keras.optimizers.Adamax),
        ("rmsprop", keras.optimizers.RMSprop),
        ("sgd", keras.optimizers.SGD),
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


if __name__ == "__main__":
    absltest.main()
