"""Conformance suite: shared tests run over every registered Keras layer."""

import contextlib
import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np
import pytest

from mi_zoo import fusion
from mi_zoo import layers
from tests import backend
from tests.backend import as_numpy
from tests.conformance import fusion_cases
from tests.conformance import registry

if backend.BACKEND == "tensorflow":
    import tensorflow as tf

    from mi_zoo.training import devices
    from tests import distribution

    devices.split_cpu(2)  # before any op; a no-op under pytest's conftest

CASES = registry.CASES + fusion_cases.CASES
NAMED = [(case.name, case) for case in CASES]
# The checks that train or export take 2-20 s a case, most of the suite's
# time, so the default run (the README's test command, kept under 15 minutes
# on 2 cores) gives them fewer cases; `-m slow` (and bazel test) runs the rest.
# By default every configuration runs the cheaper checks (the .keras round
# trip, the unknown batch, the XLA forward, the float16 forward); the first
# configuration of each layer class is exported as a SavedModel and trained
# by two of the three training checks (the XLA step, the mixed-precision fit,
# the MirroredStrategy fit), in rotation, so each check trains two thirds of
# the classes and each class is trained twice.
_FIRST = registry.first_of_each_class(CASES)


def split_cases(chosen):
    """(name, case) pairs of the chosen cases (a check's default run) and of
    the rest (its slow test)."""
    named = [(case.name, case) for case in chosen]
    rest = [(case.name, case) for case in CASES if case not in chosen]
    return named, rest


def rotation(skip):
    """The first configurations of the classes, less one in three: the
    default cases of the training check at position `skip` (0-2)."""
    return [case for i, case in enumerate(_FIRST) if i % 3 != skip]


NAMED_FIRST, NAMED_OTHERS = split_cases(_FIRST)
XLA_STEP, XLA_STEP_REST = split_cases(rotation(0))
MIXED_FIT, MIXED_FIT_REST = split_cases(rotation(1))
MIRRORED_FIT, MIRRORED_FIT_REST = split_cases(rotation(2))
PACKAGES = (layers, fusion)


@contextlib.contextmanager
def mixed_float16():
    """Layers built inside the block compute in float16 (weights float32)."""
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


def signature(model):
    return [
        tf.TensorSpec((None,) + tuple(t.shape[1:]), t.dtype)
        for t in model.inputs
    ]


def call(model, inputs):
    """The model's outputs on a list of input arrays, as NumPy arrays in the
    outputs' structure. Called eagerly: Model.predict would trace a function
    for each model (0.2-1.4 s a case on a 2-core CPU)."""
    outputs = model(registry.feed(inputs), training=False)
    return keras.tree.map_structure(as_numpy, outputs)


def flat(outputs):
    """The outputs of a model as a flat list of NumPy arrays."""
    return [as_numpy(as_numpy(t)) for t in keras.tree.flatten(outputs)]


def assert_all_close(test, actual, expected, **tolerances):
    actual, expected = flat(actual), flat(expected)
    test.assertEqual(len(actual), len(expected))
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, **tolerances)


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
        for case in CASES:
            covered |= registry.layer_classes(case)
        public = {
            getattr(package, name)
            for package in PACKAGES
            for name in package.__all__
        }
        self.assertEqual(public - covered, set())

    def test_default_configurations_cover_every_class(self):
        first = set().union(*map(registry.layer_classes, _FIRST))
        every = set().union(*map(registry.layer_classes, CASES))
        self.assertEqual(first, every)
        self.assertLess(len(_FIRST), len(CASES))
        self.assertEqual(len(NAMED_FIRST) + len(NAMED_OTHERS), len(CASES))
        # Each class is trained by two of the three checks by default; with
        # the slow tests, every check runs every configuration once.
        runs = {case.name: 0 for case in _FIRST}
        for named, rest in (
            (XLA_STEP, XLA_STEP_REST),
            (MIXED_FIT, MIXED_FIT_REST),
            (MIRRORED_FIT, MIRRORED_FIT_REST),
        ):
            for name, _ in named:
                runs[name] += 1
            self.assertCountEqual(
                [n for n, _ in named + rest], [c.name for c in CASES]
            )
        self.assertEqual(set(runs.values()), {2})

    @parameterized.named_parameters(*NAMED)
    def test_keras_file_round_trip(self, case):
        model = case.model()
        inputs = case.inputs(3)
        path = os.path.join(self.tempdir(), "m.keras")
        model.save(path)
        loaded = keras.saving.load_model(path)
        assert_all_close(
            self,
            call(loaded, inputs),
            call(model, inputs),
            rtol=0,
            atol=0,
        )
        self.assertEqual(
            [type(l) for l in loaded.layers], [type(l) for l in model.layers]
        )

    @parameterized.named_parameters(*NAMED_FIRST)
    @backend.requires_tensorflow
    def test_saved_model_export_and_reload(self, case):
        self.check_saved_model_export_and_reload(case)

    @parameterized.named_parameters(*NAMED_OTHERS)
    @backend.requires_tensorflow
    @pytest.mark.slow
    def test_saved_model_export_and_reload_other_configuration(self, case):
        self.check_saved_model_export_and_reload(case)

    def check_saved_model_export_and_reload(self, case):
        model = case.model()
        path = os.path.join(self.tempdir(), "saved")
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint(
            "serve",
            lambda *args: model(registry.feed(args)),
            input_signature=signature(model),
        )
        archive.write_out(path, verbose=False)
        reloaded = tf.saved_model.load(path)
        for batch in (3, 5):
            inputs = case.inputs(batch, seed=batch)
            assert_all_close(
                self,
                reloaded.serve(*inputs),
                call(model, inputs),
                rtol=1e-5,
                atol=1e-6,
            )

    @parameterized.named_parameters(*NAMED)
    @backend.requires_tensorflow
    def test_tf_function_with_unknown_batch(self, case):
        model = case.model()
        fn = tf.function(
            lambda *args: model(registry.feed(args)),
            input_signature=signature(model),
        )
        for batch in (1, 4, 7):
            inputs = case.inputs(batch, seed=batch)
            out = fn(*inputs)
            self.assertTrue(all(t.shape[0] == batch for t in flat(out)))
            assert_all_close(
                self, out, model(registry.feed(inputs)), rtol=1e-5, atol=1e-6
            )
        self.assertLen(fn._list_all_concrete_functions(), 1)

    @parameterized.named_parameters(*NAMED)
    @backend.requires_tensorflow
    def test_jit_compile_matches_eager(self, case):
        model = case.model()
        inputs = case.inputs(4)
        xla = tf.function(
            lambda *args: model(registry.feed(args)), jit_compile=True
        )
        assert_all_close(
            self,
            xla(*inputs),
            model(registry.feed(inputs)),
            rtol=1e-4,
            atol=1e-5,
        )

    @parameterized.named_parameters(*XLA_STEP)
    def test_jit_compiled_training_step(self, case):
        self.check_jit_compiled_training_step(case)

    @parameterized.named_parameters(*XLA_STEP_REST)
    @pytest.mark.slow
    def test_jit_compiled_training_step_rest(self, case):
        self.check_jit_compiled_training_step(case)

    def check_jit_compiled_training_step(self, case):
        model = case.model()
        model.compile(optimizer="adam", loss="mse", jit_compile=True)
        inputs = case.inputs(8)
        target = keras.tree.map_structure(np.zeros_like, call(model, inputs))
        history = model.fit(
            registry.feed(inputs), target, epochs=2, batch_size=8, verbose=0
        )
        self.assertTrue(np.isfinite(history.history["loss"]).all())

    @parameterized.named_parameters(*NAMED)
    def test_mixed_precision_forward(self, case):
        with mixed_float16():
            model = case.model()
            out = flat(call(model, case.inputs(8)))
        self.assertEqual(model.outputs[0].dtype, "float16")
        self.assertEqual(out[0].dtype, np.float16)
        self.assertTrue(all(np.isfinite(t).all() for t in out))
        self.assertTrue(all(w.dtype == "float32" for w in model.weights))

    @parameterized.named_parameters(*MIXED_FIT)
    def test_mixed_precision_training(self, case):
        self.check_mixed_precision_training(case)

    @parameterized.named_parameters(*MIXED_FIT_REST)
    @pytest.mark.slow
    def test_mixed_precision_training_rest(self, case):
        self.check_mixed_precision_training(case)

    def check_mixed_precision_training(self, case):
        with mixed_float16():
            model = case.model()
            model.compile(optimizer="adam", loss="mse")
            inputs = case.inputs(8)
            history = model.fit(
                registry.feed(inputs),
                keras.tree.map_structure(np.zeros_like, call(model, inputs)),
                epochs=2,
                batch_size=4,
                verbose=0,
            )
        self.assertTrue(np.isfinite(history.history["loss"]).all())
        self.assertTrue(all(np.isfinite(w).all() for w in model.get_weights()))

    @parameterized.named_parameters(*MIRRORED_FIT)
    @backend.requires_tensorflow
    def test_fit_under_mirrored_strategy(self, case):
        self.check_fit_under_mirrored_strategy(case)

    @parameterized.named_parameters(*MIRRORED_FIT_REST)
    @backend.requires_tensorflow
    @pytest.mark.slow
    def test_fit_under_mirrored_strategy_rest(self, case):
        self.check_fit_under_mirrored_strategy(case)

    def check_fit_under_mirrored_strategy(self, case):
        strategy = distribution.mirrored_strategy()
        self.assertEqual(strategy.num_replicas_in_sync, 2)
        with strategy.scope():
            model = case.model()
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        # Boolean inputs cannot be fed to fit() under MirroredStrategy in
        # TF 2.21 / Keras 3.15 ("AddN" on bool, even for a plain Dense model
        # that ignores them); masks go in as uint8 and are cast by Keras.
        arrays = case.inputs(8)
        inputs = registry.feed(
            [a.astype("uint8") if a.dtype == bool else a for a in arrays]
        )
        target = keras.tree.map_structure(np.ones_like, call(model, arrays))
        before = [np.copy(w) for w in model.get_weights()]
        history = model.fit(inputs, target, epochs=3, batch_size=8, verbose=0)
        losses = history.history["loss"]
        self.assertTrue(np.isfinite(losses).all())
        if not model.trainable_weights:
            return  # a read-out without weights: nothing to learn
        self.assertLess(losses[-1], losses[0])
        changed = [
            not np.array_equal(a, b)
            for a, b in zip(before, model.get_weights())
        ]
        self.assertTrue(any(changed))


if __name__ == "__main__":
    absltest.main()
