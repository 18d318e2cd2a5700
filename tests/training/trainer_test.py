"""The engine: distributed steps, checkpoints and resume, the run directory,
TensorBoard output and the end-of-run files."""

import json
import os
import shutil
import tempfile

from absl.testing import absltest
import keras
import numpy as np
import tensorflow as tf

from mi_zoo.training import devices
from mi_zoo.training import run_directory
from mi_zoo.training import trainer
from tests import distribution
from tests.training import crash
from tests.training import event_files
from tests.training import toy_task

devices.split_cpu(2)


def _config(model_dir, **overrides):
    settings = dict(
        model_dir=model_dir,
        train_steps=6,
        batch_size=16,
        log_every=2,
        checkpoint_every=3,
        export=False,
    )
    settings.update(overrides)
    return trainer.TrainConfig(**settings)


def _run(task, config, strategy=None):
    t = trainer.Trainer(task, config, strategy, interactive=False)
    results = t.run()
    return t, results


class BatchNormToyTask(toy_task.ToyTask):
    """The toy task with a frozen dense layer and a batch norm."""

    def build_model(self):
        x = keras.Input((4,), name="x")
        h = keras.layers.Dense(
            8, name="frozen", trainable=False, bias_initializer="ones"
        )(x)
        h = keras.layers.BatchNormalization(name="bn")(h)
        return keras.Model(x, keras.layers.Dense(2)(h))


class TrainerTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def test_mirrored_step_equals_single_device_step(self):
        task = toy_task.ToyTask()
        config = dict(
            train_steps=1, optimizer="sgd", learning_rate=0.1, batch_size=32
        )
        single, _ = _run(task, _config(os.path.join(self.dir, "a"), **config))
        mirrored, _ = _run(
            task,
            _config(os.path.join(self.dir, "b"), **config),
            distribution.mirrored_strategy(),
        )
        self.assertEqual(mirrored.strategy.num_replicas_in_sync, 2)
        for a, b in zip(
            single.model.get_weights(), mirrored.model.get_weights()
        ):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        # And the step moved the weights (the comparison is not vacuous).
        fresh, _ = _run(
            task,
            _config(
                os.path.join(self.dir, "c"),
                **{**config, "learning_rate": 1e-9},
            ),
        )
        moved = max(
            np.abs(a - b).max()
            for a, b in zip(
                single.model.get_weights(), fresh.model.get_weights()
            )
        )
        self.assertGreater(moved, 1e-3)

    def test_resumed_run_matches_uninterrupted_run(self):
        for checkpointable in (True, False):
            with self.subTest(iterator_in_checkpoint=checkpointable):
                task = toy_task.ToyTask(
                    dropout=0.3, checkpointable=checkpointable
                )
                config = dict(train_steps=9, deterministic=True)
                full_dir = os.path.join(self.dir, f"full{checkpointable}")
                full, full_results = _run(task, _config(full_dir, **config))
                crash_dir = os.path.join(self.dir, f"crash{checkpointable}")
                _run(task, _config(crash_dir, **config))
                crash.crash_after(crash_dir, 3)
                resumed, resumed_results = _run(
                    task, _config(crash_dir, **config)
                )
                self.assertEqual(
                    resumed.iterator_in_checkpoint, checkpointable
                )
                for a, b in zip(
                    full.model.get_weights(), resumed.model.get_weights()
                ):
                    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
                self.assertAlmostEqual(
                    full_results["eval"]["loss"],
                    resumed_results["eval"]["loss"],
                    places=6,
                )
                self.assertEqual(int(resumed.optimizer.iterations.numpy()), 9)

    def test_resume_without_checkpoint_of_the_data_differs(self):
        # Control for the test above: restarting the data from the start
        # (as a naive resume would) gives different weights.
        task = toy_task.ToyTask(dropout=0.3)
        config = dict(train_steps=9, deterministic=True)
        full, _ = _run(task, _config(os.path.join(self.dir, "f"), **config))
        crash_dir = os.path.join(self.dir, "c")
        _run(task, _config(crash_dir, **config))
        crash.crash_after(crash_dir, 3)
        naive = toy_task.ToyTask(dropout=0.3, checkpointable=False)
        t = trainer.Trainer(
            naive, _config(crash_dir, **config), interactive=False
        )
        t.run_dir.open()
        self.addCleanup(t.run_dir.close)
        t._build()
        t._checkpointing()
        t.iterator = iter(naive.prepare(16, 16, seed=0).train)  # start
        t._compile()
        t.current_step = int(t.step.numpy())
        for _ in range(9 - t.current_step):
            t._train_fn(False)
        differ = max(
            np.abs(a - b).max()
            for a, b in zip(full.model.get_weights(), t.model.get_weights())
        )
        self.assertGreater(differ, 1e-6)

    def test_finished_run_is_refused_unless_overwrite(self):
        task = toy_task.ToyTask()
        _run(task, _config(self.dir))
        with self.assertRaisesRegex(
            run_directory.RunDirectoryError,
            "holds a finished run.*--overwrite",
        ):
            _run(task, _config(self.dir))
        _, results = _run(task, _config(self.dir, overwrite=True))
        self.assertEqual(results["step"], 6)

    def test_resume_with_other_settings_is_refused(self):
        task = toy_task.ToyTask()
        _run(task, _config(self.dir))
        crash.crash_after(self.dir, 3)
        with self.assertRaisesRegex(
            run_directory.RunDirectoryError,
            r"other settings: --learning_rate=0.001 \(now 0.01\)",
        ):
            _run(task, _config(self.dir, learning_rate=0.01))
        # Logging rates may change.
        _, results = _run(task, _config(self.dir, log_every=1))
        self.assertEqual(results["step"], 6)

    def test_max_seconds_stops_unfinished_and_resumes(self):
        task = toy_task.ToyTask()
        # Any positive budget is spent after the first step.
        _, stopped = _run(task, _config(self.dir, max_seconds=1e-9))
        self.assertEqual(stopped["step"], 1)
        self.assertTrue(stopped["stopped"])
        self.assertIn("loss", stopped["eval"])
        self.assertFalse(
            os.path.exists(os.path.join(self.dir, "results.json"))
        )
        tags = event_files.read_tags(os.path.join(self.dir, "eval"))
        self.assertEqual([s for s, _ in tags["eval/loss"]], [1])
        # Started again (another budget may be given), it goes on from
        # the checkpoint of the stop and finishes.
        _, results = _run(task, _config(self.dir, max_seconds=0.0))
        self.assertEqual(results["step"], 6)
        self.assertNotIn("stopped", results)
        self.assertTrue(os.path.exists(os.path.join(self.dir, "results.json")))
        tags = event_files.read_tags(os.path.join(self.dir, "eval"))
        self.assertEqual([s for s, _ in tags["eval/loss"]], [1, 6])

    def test_batch_size_must_divide_over_replicas(self):
        with self.assertRaisesRegex(
            trainer.ConfigError,
            "`batch_size`=15 must be a multiple of the 2 replicas",
        ) as raised:
            trainer.Trainer(
                toy_task.ToyTask(),
                _config(self.dir, batch_size=15),
                distribution.mirrored_strategy(),
            )
        self.assertEqual(raised.exception.field, "batch_size")

    def test_config_checks_name_the_setting(self):
        with self.assertRaisesRegex(trainer.ConfigError, "train_steps=0"):
            _config(self.dir, train_steps=0)
        for field, value, message in [
            ("optimizer", "adagrad", "must be one of"),
            ("decay_rate", 1.5, "must be <= 1.0"),
            ("batch_size", None, "must not be None"),
            ("export", 1, "must be True or False"),
            ("seed", 0.5, "must be an int"),
            ("model_dir", "", "`model_dir` is required"),
            ("max_seconds", -1.0, r"must be >= 0.0, got max_seconds=-1.0"),
        ]:
            with self.subTest(field=field):
                with self.assertRaisesRegex(
                    trainer.ConfigError, message
                ) as raised:
                    trainer.TrainConfig(
                        **{"model_dir": self.dir, field: value}
                    )
                self.assertEqual(raised.exception.field, field)
        for kwargs, message in [
            ({"decay": "step"}, "decay='step' with decay_boundaries=None"),
            (
                {"decay_boundaries": "10"},
                "decay='constant' with decay_boundaries='10'",
            ),
            (
                {"decay": "step", "decay_boundaries": "10,x"},
                "comma-separated steps.*decay_boundaries='10,x'",
            ),
            (
                {"decay": "step", "decay_boundaries": "12,10"},
                "increasing.*decay_boundaries='12,10'",
            ),
        ]:
            with self.subTest(**kwargs):
                with self.assertRaisesRegex(
                    trainer.ConfigError, message
                ) as raised:
                    _config(self.dir, **kwargs)
                self.assertEqual(raised.exception.field, "decay_boundaries")
        with self.assertRaisesRegex(ValueError, "eval_every=-1"):
            _config(self.dir, eval_every=-1)
        with self.assertRaisesRegex(ValueError, "model_dir=''"):
            trainer.Trainer(toy_task.ToyTask(), _config(""))

    def test_step_decay_reaches_the_optimizer(self):
        """--decay=step: the rate is multiplied by decay_rate at each
        boundary (the logged rate is the one of the step to come)."""
        _run(
            toy_task.ToyTask(),
            _config(
                self.dir,
                learning_rate=0.1,
                decay="step",
                decay_rate=0.5,
                decay_boundaries="2,4",
                log_every=1,
            ),
        )
        train = event_files.read_tags(os.path.join(self.dir, "train"))
        rates = {s: round(v, 6) for s, v in train["train/learning_rate"]}
        self.assertEqual(
            rates, {1: 0.1, 2: 0.05, 3: 0.05, 4: 0.025, 5: 0.025, 6: 0.025}
        )

    def test_tensorboard_and_run_files(self):
        task = toy_task.ToyTask()
        _, results = _run(
            task,
            _config(
                self.dir,
                train_steps=8,
                histogram_every=4,
                eval_every=4,
                export=True,
                warmup_steps=4,
            ),
        )
        train = event_files.read_tags(os.path.join(self.dir, "train"))
        for tag in (
            "train/loss",
            "train/mae",
            "train/learning_rate",
            "train/steps_per_second",
            "train/examples_per_second",
        ):
            self.assertEqual([s for s, _ in train[tag]], [2, 4, 6, 8], tag)
        # Warm-up: the rate grows over the first 4 steps.
        rates = [v for _, v in train["train/learning_rate"]]
        self.assertLess(rates[0], rates[1])
        self.assertTrue(any(t.startswith("weights/") for t in train))
        self.assertTrue(any(t.startswith("gradients/") for t in train))
        self.assertIn("settings", train)
        self.assertIn("_hparams_/session_start_info", train)
        evals = event_files.read_tags(os.path.join(self.dir, "eval"))
        self.assertEqual([s for s, _ in evals["eval/loss"]], [4, 8])
        self.assertAlmostEqual(
            evals["eval/loss"][-1][1], results["eval"]["loss"], places=5
        )
        with open(os.path.join(self.dir, "results.json")) as f:
            self.assertEqual(json.load(f)["step"], 8)
        with open(os.path.join(self.dir, "flags.json")) as f:
            self.assertEqual(json.load(f)["train_steps"], 8)
        # The exported models give the trained model's outputs.
        x = task.x[:5]
        loaded = keras.saving.load_model(os.path.join(self.dir, "model.keras"))
        served = tf.saved_model.load(os.path.join(self.dir, "saved_model"))
        reference = loaded(x)
        np.testing.assert_allclose(served.serve(x), reference, rtol=1e-5)

    def test_mixed_precision_and_xla_train(self):
        task = toy_task.ToyTask()
        for overrides in ({"mixed_precision": True}, {"jit_compile": True}):
            with self.subTest(**overrides):
                name = "_".join(overrides)
                t, results = _run(
                    task,
                    _config(
                        os.path.join(self.dir, name),
                        train_steps=30,
                        learning_rate=0.01,
                        **overrides,
                    ),
                )
                self.assertLess(
                    results["eval"]["loss"], results["train"]["loss"] * 10
                )
                self.assertTrue(np.isfinite(results["eval"]["loss"]))
                if overrides.get("mixed_precision"):
                    self.assertEqual(
                        t.model.layers[1].compute_dtype, "bfloat16"
                    )
                    self.assertEqual(t.model.layers[1].kernel.dtype, "float32")

    def test_precise_batch_norm_sets_the_data_statistics(self):
        task = BatchNormToyTask()
        t, _ = _run(
            task,
            _config(
                self.dir, train_steps=1, precise_bn_batches=16, batch_size=32
            ),
        )
        bn = t.model.get_layer("bn")
        # Its input is x @ K + b of the (frozen) dense layer; the average of
        # 16 batch means of a shuffled dataset, repeated, is the mean over
        # the 16·32 = 512 examples read = two passes over the 256.
        dense = t.model.get_layer("frozen")
        h = task.x @ dense.kernel.numpy() + dense.bias.numpy()
        np.testing.assert_allclose(
            bn.moving_mean.numpy(), h.mean(0), rtol=1e-4, atol=1e-5
        )
        # Batch variances average to about the population variance.
        np.testing.assert_allclose(
            bn.moving_variance.numpy(), h.var(0), rtol=0.1
        )
        self.assertEqual(bn.momentum, 0.99)  # put back

    def test_training_lowers_the_loss(self):
        task = toy_task.ToyTask()
        _, short = _run(
            task, _config(os.path.join(self.dir, "s"), train_steps=1)
        )
        _, long = _run(
            task,
            _config(
                os.path.join(self.dir, "l"),
                train_steps=150,
                learning_rate=0.01,
            ),
        )
        self.assertLess(long["eval"]["loss"], 0.2 * short["eval"]["loss"])


if __name__ == "__main__":
    absltest.main()
