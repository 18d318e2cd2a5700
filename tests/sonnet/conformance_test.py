"""Sonnet conformance of every mi_zoo.sonnet module.

Each module of `MODULES` must survive a checkpoint round trip, a SavedModel
round trip with an unknown batch size, XLA compilation and a data-parallel
training step on two logical CPU devices.
"""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import sonnet as snt
import tensorflow as tf

from mi_zoo import sonnet as mi_snt
from mi_zoo.training import devices

# Before any TF op: the distributed test needs two logical CPU devices.
devices.split_cpu(2)

# (name, factory, x shape, z shape); small shapes, every form and layout.
MODULES = (
    (
        "mi_full",
        lambda: mi_snt.MultiplicativeInteraction(4),
        (4, 3, 5),
        (4, 2),
    ),
    (
        "mi_full_matching_context",
        lambda: mi_snt.MultiplicativeInteraction(4),
        (4, 3, 5),
        (4, 3, 2),
    ),
    (
        "mi_full_outer",
        lambda: mi_snt.MultiplicativeInteraction(4, contraction="outer"),
        (4, 2, 3, 5),
        (4, 2),
    ),
    (
        "mi_low_rank",
        lambda: mi_snt.MultiplicativeInteraction(4, form="low_rank", rank=2),
        (4, 5),
        (4, 2),
    ),
    (
        "mi_diagonal",
        lambda: mi_snt.MultiplicativeInteraction(form="diagonal"),
        (4, 3, 5),
        (4, 2),
    ),
    (
        "mi_scalar",
        lambda: mi_snt.MultiplicativeInteraction(
            5, form="scalar", with_bias=False
        ),
        (4, 2, 2, 5),
        (4, 2),
    ),
    ("film_channels_last", lambda: mi_snt.FiLM(), (4, 3, 5), (4, 2)),
    ("film_channels_first", lambda: mi_snt.FiLM(axis=1), (4, 5, 2, 2), (4, 2)),
)


def make_inputs(x_shape, z_shape, seed=0):
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.normal(size=x_shape), tf.float32)
    z = tf.constant(rng.normal(size=z_shape), tf.float32)
    return x, z


def build(factory, x, z, seed=1):
    """A module built on (x, z) with random values in every variable."""
    module = factory()
    module(x, z)
    rng = np.random.default_rng(seed)
    for variable in module.variables:
        variable.assign(rng.normal(size=variable.shape, scale=0.5))
    return module


class ConformanceTest(parameterized.TestCase):
    def make_tempdir(self):
        # Not self.create_tempdir(): it needs parsed absl flags (not pytest).
        tempdir = tempfile.TemporaryDirectory()
        self.addCleanup(tempdir.cleanup)
        return tempdir.name

    @parameterized.named_parameters(*MODULES)
    def test_checkpoint_round_trip(self, factory, x_shape, z_shape):
        x, z = make_inputs(x_shape, z_shape)
        module = build(factory, x, z)
        path = tf.train.Checkpoint(module=module).save(
            os.path.join(self.make_tempdir(), "ckpt")
        )
        restored = build(factory, x, z, seed=2)
        self.assertFalse(np.allclose(restored(x, z), module(x, z)))
        status = tf.train.Checkpoint(module=restored).restore(path)
        status.assert_consumed()
        np.testing.assert_array_equal(restored(x, z), module(x, z))

    @parameterized.named_parameters(*MODULES)
    def test_saved_model_round_trip(self, factory, x_shape, z_shape):
        x, z = make_inputs(x_shape, z_shape)
        module = build(factory, x, z)
        wrapper = tf.Module()
        wrapper.module = module
        wrapper.forward = tf.function(
            lambda x, z: module(x, z),
            input_signature=[
                tf.TensorSpec((None,) + x_shape[1:], tf.float32),
                tf.TensorSpec((None,) + z_shape[1:], tf.float32),
            ],
        )
        path = self.make_tempdir()
        tf.saved_model.save(wrapper, path)
        loaded = tf.saved_model.load(path)
        np.testing.assert_allclose(
            loaded.forward(x, z), module(x, z), atol=1e-6, rtol=0
        )
        # Another batch size through the same traced function.
        x2, z2 = x[:2], z[:2]
        np.testing.assert_allclose(
            loaded.forward(x2, z2), module(x2, z2), atol=1e-6, rtol=0
        )

    @parameterized.named_parameters(*MODULES)
    def test_xla_matches_eager(self, factory, x_shape, z_shape):
        x, z = make_inputs(x_shape, z_shape)
        module = build(factory, x, z)
        compiled = tf.function(lambda x, z: module(x, z), jit_compile=True)
        np.testing.assert_allclose(
            compiled(x, z), module(x, z), atol=1e-5, rtol=0
        )

    @parameterized.named_parameters(*MODULES)
    def test_mirrored_training_step(self, factory, x_shape, z_shape):
        # snt.distribute.Replicator is Sonnet's MirroredStrategy (Sonnet
        # optimizers refuse a plain tf.distribute.MirroredStrategy). It
        # reduces on one device: the default collective all-reduce gives every
        # strategy of a process the same collective keys, so two of them
        # reducing different shapes abort (tensorflow/tensorflow#62790).
        strategy = snt.distribute.Replicator(
            ["/cpu:0", "/cpu:1"],
            cross_device_ops=tf.distribute.ReductionToOneDevice(),
        )
        self.assertIsInstance(strategy, tf.distribute.MirroredStrategy)
        self.assertEqual(strategy.num_replicas_in_sync, 2)
        x, z = make_inputs(x_shape, z_shape)
        with strategy.scope():
            module = factory()
            optimizer = snt.optimizers.Adam(0.01)
            module(x, z)
        before = [v.numpy() for v in module.trainable_variables]

        # Different data on each replica; the gradients are averaged.
        shards = [make_inputs(x_shape, z_shape, seed=s) for s in (3, 4)]
        inputs = strategy.experimental_distribute_values_from_function(
            lambda ctx: shards[ctx.replica_id_in_sync_group]
        )

        def step(inputs):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(module(*inputs) - 1.0))
            params = module.trainable_variables
            grads = tape.gradient(loss, params)
            context = tf.distribute.get_replica_context()
            optimizer.apply(context.all_reduce("mean", grads), params)
            return loss, module(x, z)

        # The first step runs eagerly, since the optimizer creates its slots
        # there (a tf.function would trace twice, lifting the creation into
        # an initialisation cond: three times slower). The second step is a
        # tf.function, as in a training loop.
        with strategy.scope():
            first_losses, _ = strategy.run(step, args=(inputs,))
            train_step = tf.function(
                lambda inputs: strategy.run(step, args=(inputs,))
            )
            losses, outputs = train_step(inputs)
        first_losses = strategy.experimental_local_results(first_losses)
        losses = strategy.experimental_local_results(losses)
        self.assertLen(losses, 2)
        self.assertLess(np.mean(losses), np.mean(first_losses))  # Downhill.
        # The same updated variables on both replicas ...
        for variable, old in zip(module.trainable_variables, before):
            first, second = strategy.experimental_local_results(variable)
            np.testing.assert_array_equal(first, second)
            self.assertFalse(np.allclose(first, old), variable.name)
        # ... so the same outputs on the same inputs.
        first, second = strategy.experimental_local_results(outputs)
        np.testing.assert_allclose(first, second, atol=1e-6, rtol=0)


if __name__ == "__main__":
    absltest.main()
