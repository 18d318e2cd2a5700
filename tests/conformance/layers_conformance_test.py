"""Conformance suite: shared tests run over every registered Keras layer."""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np
import tensorflow as tf

from mi_zoo import layers
from mi_zoo.training import devices
from tests.conformance import registry

devices.split_cpu(2)  # before any op; a no-op under pytest's conftest

NAMED = [(case.name, case) for case in registry.CASES]
_STRATEGY = []


def mirrored_strategy():
    """One MirroredStrategy over two CPUs for the whole process: strategies
    created one after another in a process can reuse collective instance keys
    and abort each other's all-reduces."""
    if not _STRATEGY:
        cpus = [d.name for d in tf.config.list_logical_devices("CPU")[:2]]
        _STRATEGY.append(tf.distribute.MirroredStrategy(cpus))
    return _STRATEGY[0]


def signature(model):
    return [tf.TensorSpec((None,) + tuple(t.shape[1:]), tf.float32)
            for t in model.inputs]


class ConformanceTest(parameterized.TestCase):

    def setUp(self):
        super().setUp()
        keras.utils.set_random_seed(0)

    def tempdir(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        return tmp.name

    def test_every_public_layer_is_registered(self):
        covered = set()
        for case in registry.CASES:
            covered |= registry.layer_classes(case)
        public = {getattr(layers, name) for name in layers.__all__}
        self.assertEqual(public - covered, set())

    @parameterized.named_parameters(*NAMED)
    def test_keras_file_round_trip(self, case):
        model = case.model()
        inputs = case.inputs(3)
        path = os.path.join(self.tempdir(), "m.keras")
        model.save(path)
        loaded = keras.saving.load_model(path)
        np.testing.assert_array_equal(
            model.predict(registry.feed(inputs), verbose=0), loaded.predict(registry.feed(inputs), verbose=0))
        self.assertEqual(
            [type(l) for l in loaded.layers], [type(l) for l in model.layers])

    @parameterized.named_parameters(*NAMED)
    def test_saved_model_export_and_reload(self, case):
        model = case.model()
        inputs = case.inputs(3)
        path = os.path.join(self.tempdir(), "saved")
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint(
            "serve", lambda *args: model(registry.feed(args)),
            input_signature=signature(model))
        archive.write_out(path, verbose=False)
        reloaded = tf.saved_model.load(path)
        for batch in (3, 5):
            inputs = case.inputs(batch, seed=batch)
            np.testing.assert_allclose(
                reloaded.serve(*inputs), model.predict(registry.feed(inputs), verbose=0),
                rtol=1e-5, atol=1e-6)

    @parameterized.named_parameters(*NAMED)
    def test_tf_function_with_unknown_batch(self, case):
        model = case.model()
        fn = tf.function(lambda *args: model(registry.feed(args)),
                         input_signature=signature(model))
        for batch in (1, 4, 7):
            inputs = case.inputs(batch, seed=batch)
            out = fn(*inputs)
            self.assertEqual(out.shape[0], batch)
            np.testing.assert_allclose(out, model(registry.feed(inputs)), rtol=1e-5,
                                       atol=1e-6)
        self.assertLen(fn._list_all_concrete_functions(), 1)

    @parameterized.named_parameters(*NAMED)
    def test_jit_compile_matches_eager(self, case):
        model = case.model()
        inputs = case.inputs(4)
        xla = tf.function(lambda *args: model(registry.feed(args)), jit_compile=True)
        np.testing.assert_allclose(xla(*inputs), model(registry.feed(inputs)), rtol=1e-4,
                                   atol=1e-5)

    @parameterized.named_parameters(*NAMED)
    def test_jit_compiled_training_step(self, case):
        model = case.model()
        model.compile(optimizer="adam", loss="mse", jit_compile=True)
        inputs = case.inputs(8)
        target = np.zeros_like(model.predict(registry.feed(inputs), verbose=0))
        history = model.fit(registry.feed(inputs), target, epochs=2, batch_size=8, verbose=0)
        self.assertTrue(np.isfinite(history.history["loss"]).all())

    @parameterized.named_parameters(*NAMED)
    def test_mixed_precision(self, case):
        keras.mixed_precision.set_dtype_policy("mixed_float16")
        try:
            model = case.model()
            model.compile(optimizer="adam", loss="mse")
            inputs = case.inputs(8)
            out = model.predict(registry.feed(inputs), verbose=0)
            self.assertEqual(model.outputs[0].dtype, "float16")
            self.assertTrue(np.isfinite(out).all())
            self.assertTrue(all(w.dtype == "float32" for w in model.weights))
            history = model.fit(registry.feed(inputs), np.zeros_like(out), epochs=2,
                                batch_size=4, verbose=0)
            self.assertTrue(np.isfinite(history.history["loss"]).all())
            self.assertTrue(all(np.isfinite(w).all()
                                for w in model.get_weights()))
        finally:
            keras.mixed_precision.set_dtype_policy("float32")

    @parameterized.named_parameters(*NAMED)
    def test_fit_under_mirrored_strategy(self, case):
        strategy = mirrored_strategy()
        self.assertEqual(strategy.num_replicas_in_sync, 2)
        with strategy.scope():
            model = case.model()
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        inputs = case.inputs(8)
        target = np.ones_like(model.predict(registry.feed(inputs), verbose=0))
        before = [np.copy(w) for w in model.get_weights()]
        history = model.fit(registry.feed(inputs), target, epochs=3, batch_size=8, verbose=0)
        losses = history.history["loss"]
        self.assertTrue(np.isfinite(losses).all())
        self.assertLess(losses[-1], losses[0])
        changed = [not np.array_equal(a, b)
                   for a, b in zip(before, model.get_weights())]
        self.assertTrue(any(changed))


if __name__ == "__main__":
    absltest.main()
