"""Tests of PackedGRU and PackedLSTM (mi_zoo.layers.packed_rnn)."""

import os
import tempfile
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.layers import PackedGRU
from mi_zoo.layers import PackedLSTM
from mi_zoo.layers import packed_rnn
from tests import backend

B, T, E, U = 6, 5, 3, 4
PAIRS = {
    "gru": (PackedGRU, keras.layers.GRU),
    "lstm": (PackedLSTM, keras.layers.LSTM),
}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def gru_step(x, h, kernel, recurrent_kernel, bias):
    """Cho et al. (2014) GRU with the reset gate after the recurrent product
    (cuDNN's and PyTorch's variant, Keras's reset_after=True); gates in
    Keras's order z, r, h."""
    xz, xr, xh = np.split(x @ kernel + bias[0], 3, axis=-1)
    hz, hr, hh = np.split(h @ recurrent_kernel + bias[1], 3, axis=-1)
    z, r = sigmoid(xz + hz), sigmoid(xr + hr)
    return z * h + (1 - z) * np.tanh(xh + r * hh)


def reference_gru(x, mask, weights):
    """float64 masked GRU: a masked step keeps the state and repeats the
    previous output (zeros before the first real step).

    Returns (outputs [B, T, U], final state [B, U])."""
    h = np.zeros((x.shape[0], weights[1].shape[0]))
    output, outputs = np.zeros_like(h), []
    for t in range(x.shape[1]):
        m = mask[:, t, None]
        h = np.where(m, gru_step(x[:, t], h, *weights), h)
        output = np.where(m, h, output)
        outputs.append(output)
    return np.stack(outputs, 1), h


def masks():
    """Right- and left-padded masks, one with holes, all-padding rows, and
    one with steps where no row is real (steps 3 and 4)."""
    lengths = np.array([5, 1, 3, 0, 2, 4])
    right = np.arange(T)[None, :] < lengths[:, None]
    rng = np.random.default_rng(3)
    holes = rng.random((B, T)) < 0.5
    holes[0] = False
    short = np.arange(T)[None, :] < np.minimum(lengths, 3)[:, None]
    return {
        "right": right,
        "left": right[:, ::-1],
        "holes": holes,
        "empty_steps": short,
    }


def pair(kind, x, mask, seed=0, **kwargs):
    """A packed layer and the Keras layer with the same random weights."""
    packed_class, keras_class = PAIRS[kind]
    packed, plain = packed_class(U, **kwargs), keras_class(U, **kwargs)
    packed(x, mask=mask)
    plain(x, mask=mask)
    rng = np.random.default_rng(seed)
    weights = [
        rng.normal(scale=0.5, size=w.shape) for w in plain.get_weights()
    ]
    plain.set_weights(weights)
    packed.set_weights(weights)
    return packed, plain


def flat(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


class PackedRNNTest(parameterized.TestCase):
    @parameterized.named_parameters(*[(k, k) for k in masks()])
    def test_gru_matches_float64_reference(self, mask_name):
        mask = masks()[mask_name]
        x = np.random.default_rng(0).normal(size=(B, T, E))
        layer = PackedGRU(
            U, return_sequences=True, return_state=True, dtype="float64"
        )
        layer(x, mask=mask)
        rng = np.random.default_rng(1)
        weights = [rng.normal(size=w.shape) for w in layer.get_weights()]
        layer.set_weights(weights)
        outputs, state = layer(x, mask=mask)
        want_outputs, want_state = reference_gru(x, mask, weights)
        backend.assert_allclose(outputs, want_outputs, **backend.close())
        backend.assert_allclose(state, want_state, **backend.close())

    @parameterized.product(
        kind=("gru", "lstm"),
        mask_name=("right", "left", "holes", "empty_steps"),
        options=(
            "sequences_and_state",
            "last_output",
            "go_backwards",
            "zero_output_for_mask",
        ),
    )
    def test_equals_keras_layer(self, kind, mask_name, options):
        kwargs = {
            "sequences_and_state": dict(
                return_sequences=True, return_state=True
            ),
            "last_output": {},
            "go_backwards": dict(go_backwards=True, return_sequences=True),
            "zero_output_for_mask": dict(
                return_sequences=True, zero_output_for_mask=True
            ),
        }[options]
        x = np.random.default_rng(0).normal(size=(B, T, E)).astype("float32")
        mask = masks()[mask_name]
        packed, plain = pair(kind, x, mask, **kwargs)
        with mock.patch.object(
            packed_rnn, "packed_loop", wraps=packed_rnn.packed_loop
        ) as loop:
            got = flat(packed(x, mask=mask))
        want = flat(plain(x, mask=mask))
        if backend.BACKEND in packed_rnn.PACKING_BACKENDS:
            loop.assert_called_once()
        self.assertEqual(len(got), len(want))
        for g, w in zip(got, want):
            self.assertEqual(tuple(g.shape), tuple(w.shape))
            backend.assert_allclose(g, w, rtol=1e-5, atol=1e-6)

    @parameterized.parameters("gru", "lstm")
    def test_gru_options_and_initial_state(self, kind):
        x = np.random.default_rng(0).normal(size=(B, T, E)).astype("float32")
        mask = masks()["left"]
        extra = {"gru": dict(reset_after=False, use_bias=False)}.get(kind, {})
        packed, plain = pair(kind, x, mask, return_state=True, **extra)
        rng = np.random.default_rng(5)
        states = [
            rng.normal(size=(B, U)).astype("float32")
            for _ in range(1 if kind == "gru" else 2)
        ]
        got = packed(x, mask=mask, initial_state=states)
        want = plain(x, mask=mask, initial_state=states)
        for g, w in zip(got, want):
            backend.assert_allclose(g, w, rtol=1e-5, atol=1e-6)

    def test_bidirectional_equals_keras(self):
        x = np.random.default_rng(0).normal(size=(B, T, E)).astype("float32")
        mask = masks()["right"]
        packed = keras.layers.Bidirectional(
            PackedGRU(U, return_sequences=True)
        )
        plain = keras.layers.Bidirectional(
            keras.layers.GRU(U, return_sequences=True)
        )
        packed(x, mask=mask)
        plain(x, mask=mask)
        packed.set_weights(plain.get_weights())
        self.assertIsInstance(packed.backward_layer, PackedGRU)
        backend.assert_allclose(
            packed(x, mask=mask), plain(x, mask=mask), rtol=1e-5, atol=1e-6
        )

    @parameterized.parameters("gru", "lstm")
    def test_input_gradients_equal_keras(self, kind):
        x = np.random.default_rng(0).normal(size=(B, T, E)).astype("float32")
        mask = masks()["holes"]
        packed, plain = pair(kind, x, mask, return_sequences=True)
        got = backend.input_gradients(lambda v: packed(v, mask=mask), x)
        want = backend.input_gradients(lambda v: plain(v, mask=mask), x)
        backend.assert_allclose(got[0], want[0], rtol=1e-4, atol=1e-5)

    @backend.requires_tensorflow
    def test_weight_gradients_in_tf_function_equal_keras(self):
        import tensorflow as tf

        x = np.random.default_rng(0).normal(size=(B, T, E)).astype("float32")
        mask = masks()["right"]
        packed, plain = pair("gru", x, mask, return_sequences=True)

        def gradients(layer):
            @tf.function
            def fn():
                with tf.GradientTape() as tape:
                    loss = tf.reduce_sum(tf.sin(layer(x, mask=mask)))
                return tape.gradient(loss, layer.trainable_variables)

            return fn()

        for g, w in zip(gradients(packed), gradients(plain)):
            backend.assert_allclose(g, w, rtol=1e-4, atol=1e-5)

    @backend.requires_tensorflow
    @parameterized.parameters(
        dict(mask_name=mask_name, options=options, graph=graph)
        for mask_name in masks()
        for options in (
            "sequences_and_state",
            "last_output",
            "go_backwards",
            "zero_output_for_mask",
        )
        # Eager and in a tf.function with the batch unknown for every
        # option; in a tf.function with the batch known (the eager branch,
        # traced) for the first option only.
        for graph in (False, "unknown_batch")
        + ((True,) if options == "sequences_and_state" else ())
    )
    def test_fused_gru_gradients_equal_keras(self, mask_name, options, graph):
        # The fused GRU's hand-written backward pass: gradients of every
        # output, to the inputs, the initial state and each weight. B = 6
        # rows against U = 4 units: each step's ∂h as ∂gates·Uᵀ; with the
        # batch unknown ("unknown_batch"), as (U·∂gatesᵀ)ᵀ.
        import tensorflow as tf

        kwargs = {
            "sequences_and_state": dict(
                return_sequences=True, return_state=True
            ),
            "last_output": dict(return_state=True),
            "go_backwards": dict(go_backwards=True, return_sequences=True),
            "zero_output_for_mask": dict(
                return_sequences=True, zero_output_for_mask=True
            ),
        }[options]
        rng = np.random.default_rng(1)
        x = tf.constant(rng.normal(size=(B, T, E)), tf.float32)
        h0 = tf.constant(rng.normal(size=(B, U)), tf.float32)
        mask = masks()[mask_name]
        packed, plain = pair("gru", x, mask, **kwargs)
        self.assertTrue(packed_rnn.fused_gru_applies(packed.cell))

        def gradients_of(layer, x, h0):
            with tf.GradientTape() as tape:
                tape.watch([x, h0])
                outs = flat(layer(x, mask=mask, initial_state=[h0]))
                loss = sum(
                    tf.reduce_sum(tf.sin(o) * (i + 1.0))
                    for i, o in enumerate(outs)
                )
            return tape.gradient(loss, [x, h0] + layer.trainable_variables)

        def gradients(layer):
            if not graph:
                return gradients_of(layer, x, h0)
            signature = None
            if graph == "unknown_batch":
                signature = [
                    tf.TensorSpec((None, T, E)),
                    tf.TensorSpec((None, U)),
                ]
            return tf.function(
                lambda x, h0: gradients_of(layer, x, h0),
                input_signature=signature,
            )(x, h0)

        decisions, decide = [], packed_rnn.few_rows_per_step

        def few_rows(*args):
            decisions.append(decide(*args))
            return decisions[-1]

        with (
            mock.patch.object(
                packed_rnn, "fused_gru_loop", wraps=packed_rnn.fused_gru_loop
            ) as loop,
            mock.patch.object(
                packed_rnn, "few_rows_per_step", side_effect=few_rows
            ),
        ):
            got = gradients(packed)
        loop.assert_called()
        self.assertEqual(set(decisions), {graph == "unknown_batch"})
        want = gradients(plain)
        self.assertLen(got, 5)
        for g, w in zip(got, want):
            backend.assert_allclose(g, w, rtol=1e-4, atol=1e-5)

    def test_fused_gru_only_for_its_cell(self):
        self.assertEqual(
            packed_rnn.fused_gru_applies(keras.layers.GRUCell(3)),
            backend.BACKEND == "tensorflow",
        )
        for cell in (
            keras.layers.GRUCell(3, reset_after=False),
            keras.layers.GRUCell(3, use_bias=False),
            keras.layers.GRUCell(3, activation="relu"),
            keras.layers.GRUCell(3, recurrent_activation="hard_sigmoid"),
            keras.layers.LSTMCell(3),
        ):
            self.assertFalse(packed_rnn.fused_gru_applies(cell), cell)

    @backend.requires_tensorflow
    def test_xla_runs_the_keras_loop(self):
        import tensorflow as tf

        x = np.random.default_rng(0).normal(size=(B, T, E)).astype("float32")
        mask = masks()["holes"]
        packed, plain = pair("gru", x, mask, return_sequences=True)
        with mock.patch.object(
            packed_rnn, "packed_loop", wraps=packed_rnn.packed_loop
        ) as loop:
            got = tf.function(lambda: packed(x, mask=mask), jit_compile=True)()
        loop.assert_not_called()
        backend.assert_allclose(got, plain(x, mask=mask), rtol=1e-5, atol=1e-6)

    @parameterized.named_parameters(
        ("no_mask", None, {}, False),
        ("training_with_dropout", "mask", dict(dropout=0.5), True),
        (
            "training_with_recurrent_dropout",
            "mask",
            dict(recurrent_dropout=0.5),
            True,
        ),
        ("stateful", "mask", dict(stateful=True), False),
    )
    def test_keras_loop_where_packing_does_not_apply(
        self, mask_name, kwargs, training
    ):
        x = np.random.default_rng(0).normal(size=(B, T, E)).astype("float32")
        mask = None if mask_name is None else masks()["right"]
        layer = PackedGRU(U, **kwargs)
        with mock.patch.object(
            packed_rnn, "packed_loop", wraps=packed_rnn.packed_loop
        ) as loop:
            out = layer(x, mask=mask, training=training)
        loop.assert_not_called()
        self.assertEqual(tuple(out.shape), (B, U))

    def test_dropout_at_inference_is_packed(self):
        x = np.random.default_rng(0).normal(size=(B, T, E)).astype("float32")
        mask = masks()["right"]
        packed, plain = pair("gru", x, mask, dropout=0.5)
        backend.assert_allclose(
            packed(x, mask=mask, training=False),
            plain(x, mask=mask, training=False),
            rtol=1e-5,
            atol=1e-6,
        )

    @backend.requires_tensorflow
    def test_training_checkpoint_of_a_keras_gru_restores(self):
        # The trainer's checkpoints (tf.train.Checkpoint) address variables
        # by attribute, so a run saved with keras.layers.GRU resumes.
        import tensorflow as tf

        x = np.random.default_rng(0).normal(size=(B, T, E)).astype("float32")
        mask = masks()["right"]
        packed, plain = pair("gru", x, mask, seed=0)
        fresh = PackedGRU(U)
        fresh(x, mask=mask)
        with tempfile.TemporaryDirectory() as tmp:
            path = tf.train.Checkpoint(layer=plain).write(
                os.path.join(tmp, "ckpt")
            )
            tf.train.Checkpoint(layer=fresh).read(path).assert_consumed()
        backend.assert_allclose(
            fresh(x, mask=mask), plain(x, mask=mask), rtol=1e-5, atol=1e-6
        )

    def test_config_round_trip(self):
        layer = PackedLSTM(3, return_sequences=True, go_backwards=True)
        config = layer.get_config()
        self.assertEqual(PackedLSTM.from_config(config).get_config(), config)
        self.assertEqual(
            keras.saving.get_registered_name(PackedGRU), "mi_zoo>PackedGRU"
        )


if __name__ == "__main__":
    absltest.main()
