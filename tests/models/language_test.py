"""The language-model zoo: shapes, carried state, causality, the MI output
formula, parameter matching, tied embeddings, argument checks, learning."""

from absl.testing import absltest
from absl.testing import parameterized
import keras
from keras import ops
import numpy as np
import tensorflow as tf

from mi_zoo import models
from mi_zoo.models import language
from mi_zoo.training import devices
from tests import distribution
from tests.layers import test_util

devices.split_cpu(2)

V, T, B = 13, 4, 2
SMALL = {"units": 8, "num_layers": 2}
MI_SMALL = {"context_size": 3, "rank": 2}
NAMES = [(name, name) for name in models.LM_MODELS.names()]
MI_NAMES = [("multdec", "multdec"), ("multencdec", "multencdec")]


def small(name, **overrides):
    hp = dict(SMALL)
    if name in ("multdec", "multencdec"):
        hp.update(MI_SMALL)
    hp.update(overrides)
    if hp.get("form") == "full":
        hp.pop("rank", None)
    return hp


def build(name, sequence_length=T, **overrides):
    return models.build_language_model(
        name, V, sequence_length, **small(name, **overrides)
    )


def tokens(seed, length=T, batch=B):
    rng = np.random.default_rng(seed)
    return ops.convert_to_tensor(
        rng.integers(0, V, (batch, length)).astype("int32")
    )


def run(model, x, state):
    logits, new_state = model({"tokens": x, **state})
    return np.asarray(logits), new_state


def warm_state(model, seed=100):
    """The state after one random segment (non-zero h, c and summary)."""
    _, state = run(model, tokens(seed), models.initial_state(model, B))
    return state


def randomize(model, seed=0):
    """Random weights everywhere: the default initialisation leaves α, β,
    biases and v at trivial values."""
    for layer in model.layers:
        test_util.random_weights(layer, seed=seed, scale=0.3)


class LanguageModelTest(parameterized.TestCase):
    def setUp(self):
        super().setUp()
        keras.utils.set_random_seed(0)

    @parameterized.named_parameters(*NAMES)
    def test_builds_with_shapes_and_state_round_trip(self, name):
        model = build(name)
        self.assertEqual(model.name, name)
        state = models.initial_state(model, B)
        keys = [f"{k}_{l}" for l in range(2) for k in "hc"]
        if name in ("multdec", "multencdec"):
            keys.append("summary")
        self.assertCountEqual(state, keys)
        self.assertEqual(
            {k: tuple(v.shape) for k, v in state.items()},
            {k: (B, 8) for k in keys},
        )
        self.assertEqual(
            models.initial_state(
                {"name": name, "vocab_size": V, **small(name)}, B
            ).keys(),
            state.keys(),
        )
        x = tokens(0)
        logits, new_state = run(model, x, state)
        self.assertEqual(logits.shape, (B, T, V))
        self.assertEqual(
            {k: tuple(v.shape) for k, v in new_state.items()},
            {k: (B, 8) for k in keys},
        )
        # The same tokens from the carried state give other logits.
        again, newer = run(model, x, new_state)
        self.assertEqual(again.shape, (B, T, V))
        self.assertGreater(np.abs(again - logits).max(), 1e-5)
        self.assertEqual(newer.keys(), new_state.keys())
        # Any segment length when sequence_length is None, any batch size.
        free = models.build_language_model(name, V, None, **small(name))
        logits, _ = run(
            free, tokens(1, length=7, batch=3), models.initial_state(free, 3)
        )
        self.assertEqual(logits.shape, (3, 7, V))
        fixed = models.build_language_model(
            name, V, T, batch_size=B, **small(name)
        )
        self.assertEqual(tuple(fixed.outputs[0].shape), (B, T, V))

    @parameterized.named_parameters(
        *NAMES,
        (
            "multdec_full_tied",
            "multdec",
            {"form": "full", "tie_embeddings": True},
        ),
        (
            "multencdec_tied_projected",
            "multencdec",
            {"tie_embeddings": True, "embedding_size": 5},
        ),
    )
    def test_causal(self, name, overrides=None):
        model = build(name, **(overrides or {}))
        randomize(model)
        state = warm_state(model)
        x = np.asarray(tokens(1))
        base, _ = run(model, ops.convert_to_tensor(x), state)
        for t in range(T - 1):
            perturbed = x.copy()
            perturbed[:, t + 1 :] = (x[:, t + 1 :] + 1 + t) % V
            logits, _ = run(model, ops.convert_to_tensor(perturbed), state)
            np.testing.assert_allclose(
                logits[:, : t + 1],
                base[:, : t + 1],
                rtol=1e-6,
                atol=1e-6,
                err_msg=f"{name}, t={t}",
            )
            self.assertGreater(
                np.abs(logits[:, t + 1] - base[:, t + 1]).min(axis=-1).max(),
                1e-6,
                msg=f"{name}, t={t}",
            )

    @parameterized.named_parameters(("lstm", "lstm"), ("mi_lstm", "mi_lstm"))
    def test_one_long_segment_equals_two_carried_segments(self, name):
        long = build(name, sequence_length=2 * T)
        randomize(long)
        short = build(name, sequence_length=T)
        short.set_weights(long.get_weights())
        x = tokens(2, length=2 * T)
        state = warm_state(short)
        whole, whole_state = run(long, x, state)
        first, carried = run(short, x[:, :T], state)
        second, final = run(short, x[:, T:], carried)
        np.testing.assert_allclose(
            np.concatenate([first, second], 1), whole, rtol=1e-5, atol=1e-5
        )
        for key in whole_state:
            np.testing.assert_allclose(
                final[key], whole_state[key], rtol=1e-5, atol=1e-5, err_msg=key
            )

    @parameterized.named_parameters(*MI_NAMES)
    def test_context_is_the_documented_summary_of_the_previous_segment(
        self, name
    ):
        model = build(name)
        randomize(model)
        probe = keras.Model(
            model.inputs,
            [
                model.get_layer("lstm_1").output[0],  # top hidden states
                model.get_layer("context").output,  # z
            ],
        )
        state = models.initial_state(model, B)
        np.testing.assert_array_equal(state["summary"], 0.0)
        x1, x2 = tokens(3), tokens(4)
        hidden1, z1 = probe({"tokens": x1, **state})
        np.testing.assert_array_equal(z1, 0.0)  # the first segment
        _, state = run(model, x1, state)
        np.testing.assert_allclose(
            state["summary"], np.mean(hidden1, axis=1), rtol=1e-5, atol=1e-6
        )
        _, z2 = probe({"tokens": x2, **state})
        w_c = model.get_layer("context").kernel.numpy().astype("float64")
        expected = np.tanh(np.mean(np.asarray(hidden1, "float64"), 1) @ w_c)
        np.testing.assert_allclose(z2, expected, rtol=1e-5, atol=1e-6)
        self.assertGreater(np.abs(expected).min(), 1e-4)
        self.assertEqual(len(model.get_layer("context").weights), 1)  # no b

    @parameterized.named_parameters(
        ("low_rank", "multdec", {}),
        ("full", "multdec", {"form": "full"}),
        ("low_rank_tied", "multdec", {"tie_embeddings": True}),
        (
            "full_tied_projected",
            "multencdec",
            {"form": "full", "tie_embeddings": True, "embedding_size": 5},
        ),
    )
    def test_output_layer_matches_float64_reference(self, name, overrides):
        model = build(name, **overrides)
        randomize(model)
        layer = model.get_layer("output_interaction")
        x_in, z_in = layer.input
        probe = keras.Model(model.inputs, [x_in, z_in, model.outputs[0]])
        x, z, logits = probe({"tokens": tokens(5), **warm_state(model)})
        x, z = np.asarray(x, "float64"), np.asarray(z, "float64")
        weights = {v.name: v.numpy().astype("float64") for v in layer.weights}
        if layer.form == "full":
            w = weights["kernel"]  # [m, n, V]
        else:  # W = Σ_r A[:, r] ⊗ B[:, r] ⊗ P[r, :]
            w = np.einsum(
                "mr,nr,rk->mnk",
                weights["context_factor"],
                weights["input_factor"],
                weights["output_factor"],
            )
        if overrides.get("tie_embeddings"):
            self.assertNotIn("input_kernel", weights)
            v = model.get_layer("embedding").embeddings.numpy().T
        else:
            v = weights["input_kernel"]
        # f = zᵀWh + zᵀU + Vh + b
        expected = (
            np.einsum("bm,mnk,btn->btk", z, w, x)
            + (z @ weights["context_kernel"])[:, None]
            + x @ v.astype("float64")
            + weights["bias"]
        )
        self.assertGreater(np.abs(z).min(), 1e-3)
        np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)

    @parameterized.named_parameters(*NAMES)
    def test_count_parameters_is_exact(self, name):
        variants = [
            {},
            {"tie_embeddings": True},
            {"tie_embeddings": True, "embedding_size": 5},
            {"num_layers": 1, "embedding_size": 6},
        ]
        if name in ("multdec", "multencdec"):
            variants += [
                {"form": "full"},
                {"form": "full", "tie_embeddings": True},
            ]
        for overrides in variants:
            hp = small(name, **overrides)
            self.assertEqual(
                models.count_parameters(name, V, **hp),
                models.build_language_model(name, V, T, **hp).count_params(),
                msg=f"{name} {overrides}",
            )

    def test_size_to_parameters_matches_models_to_one_budget(self):
        target, vocab = 60_000, 200
        counts = {}
        for name in models.LM_MODELS.names():
            fixed = (
                {"context_size": 8, "rank": 8}
                if name.startswith("mult")
                else {}
            )
            hp = models.size_to_parameters(name, target, vocab, 35, **fixed)
            self.assertEqual(hp["embedding_size"], hp["units"])
            count = models.count_parameters(name, vocab, **hp)
            self.assertEqual(
                count,
                models.build_language_model(
                    name, vocab, 35, **hp
                ).count_params(),
            )
            self.assertLess(abs(count - target) / target, 0.03, msg=name)
            # No other units lands closer.
            for units in (hp["units"] - 1, hp["units"] + 1):
                other = models.count_parameters(
                    name,
                    vocab,
                    **{**hp, "units": units, "embedding_size": units},
                )
                self.assertGreaterEqual(
                    abs(other - target), abs(count - target), msg=name
                )
            counts[name] = count
        self.assertLess(
            (max(counts.values()) - min(counts.values())) / target,
            0.03,
            msg=counts,
        )
        # A fixed embedding size is kept; tying then adds a projection.
        hp = models.size_to_parameters(
            "lstm", target, vocab, 35, embedding_size=16, tie_embeddings=True
        )
        self.assertEqual(hp["embedding_size"], 16)
        self.assertLess(
            abs(models.count_parameters("lstm", vocab, **hp) - target)
            / target,
            0.03,
        )

    @parameterized.named_parameters(
        ("lstm", "lstm", {}),
        ("mi_lstm", "mi_lstm", {}),
        ("lstm_projected", "lstm", {"embedding_size": 5}),
        ("multdec", "multdec", {}),
        ("multencdec_projected", "multencdec", {"embedding_size": 5}),
    )
    def test_tied_embeddings_share_one_variable(self, name, overrides):
        tied = build(name, tie_embeddings=True, **overrides)
        untied = build(name, **overrides)
        e = overrides.get("embedding_size", 8)
        tables = [w for w in tied.weights if tuple(w.shape) == (V, e)]
        self.assertLen(tables, 1)
        self.assertNotIn((e, V), [tuple(w.shape) for w in tied.weights])
        self.assertLess(tied.count_params(), untied.count_params())
        # Tying saves the [H, V] softmax matrix, less the H -> E projection
        # when E != H (the tied bias replaces the Dense one).
        saved = V * 8 - (8 * e if e != 8 else 0)
        if name.startswith("mult"):  # the input factor B is [E, r], not [H, r]
            saved += MI_SMALL["rank"] * (8 - e)
        self.assertEqual(untied.count_params() - tied.count_params(), saved)
        # The one table gets gradients through the softmax alone: position
        # 0's logits depend on the token embedding only through the LSTM.
        with tf.GradientTape() as tape:
            logits, _ = tied(
                {"tokens": tokens(6), **models.initial_state(tied, B)}
            )
            loss = ops.sum(logits[:, 0])
        grad = tape.gradient(loss, tables[0])
        self.assertGreater(
            float(ops.max(ops.abs(ops.convert_to_tensor(grad)))), 0.0
        )

    def test_tied_lstm_logits_are_the_transposed_embedding(self):
        model = build("lstm", tie_embeddings=True, embedding_size=5)
        randomize(model)
        embedding = model.get_layer("embedding")
        x_in = model.get_layer("output_projection").output
        probe = keras.Model(model.inputs, [x_in, model.outputs[0]])
        x, logits = probe(
            {"tokens": tokens(7), **models.initial_state(model, B)}
        )
        expected = (
            np.asarray(x, "float64")
            @ embedding.embeddings.numpy().T.astype("float64")
            + embedding.bias.numpy()
        )
        np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)

    @parameterized.named_parameters(*NAMES)
    def test_truncated_bptt_lowers_the_loss(self, name):
        model = build(name, units=16, dropout=0.1)
        optimizer = keras.optimizers.Adam(0.02)
        pattern = np.arange(2 * T + 1) % 5  # a tiny repeated sequence
        stream = np.tile(pattern, (B, 3))
        segments = [
            (
                stream[:, k * T : (k + 1) * T],
                stream[:, k * T + 1 : (k + 1) * T + 1],
            )
            for k in range(3)
        ]
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

        def epoch(train):
            state, losses = models.initial_state(model, B), []
            for x, y in segments:
                x = ops.convert_to_tensor(x.astype("int32"))
                with tf.GradientTape() as tape:
                    logits, state = model(
                        {"tokens": x, **state}, training=train
                    )
                    loss = loss_fn(y, logits)
                if train:
                    grads = tape.gradient(loss, model.trainable_weights)
                    optimizer.apply(grads, model.trainable_weights)
                losses.append(float(loss))
            return np.mean(losses)

        before = epoch(False)
        for _ in range(6):
            epoch(True)
        self.assertLess(epoch(False), 0.8 * before, msg=name)

    @parameterized.named_parameters(("lstm", "lstm"), ("multdec", "multdec"))
    def test_carried_state_under_mirrored_strategy(self, name):
        strategy = distribution.mirrored_strategy()
        with strategy.scope():
            model = build(name)
            optimizer = keras.optimizers.Adam(0.01)
            optimizer.build(model.trainable_weights)
        per_replica = 2
        loss_fn = keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="sum"
        )

        @tf.function
        def step(x, y, state):
            def replica_step(x, y, state):
                with tf.GradientTape() as tape:
                    logits, state = model(
                        {"tokens": x, **state}, training=True
                    )
                    loss = loss_fn(y, logits) / (2 * per_replica * T)
                grads = tape.gradient(loss, model.trainable_weights)
                optimizer.apply(grads, model.trainable_weights)
                return loss, state

            loss, state = strategy.run(replica_step, args=(x, y, state))
            return strategy.reduce("SUM", loss, axis=None), state

        data = np.random.default_rng(8).integers(0, V, (4, 3 * T + 1))
        dataset = tf.data.Dataset.from_tensor_slices(
            [
                (
                    data[:, k * T : (k + 1) * T],
                    data[:, k * T + 1 : (k + 1) * T + 1],
                )
                for k in range(3)
            ]
        ).map(lambda s: (tf.cast(s[0], "int32"), tf.cast(s[1], "int32")))
        state = strategy.experimental_distribute_values_from_function(
            lambda ctx: models.initial_state(model, per_replica)
        )
        for x, y in strategy.experimental_distribute_dataset(dataset):
            loss, state = step(x, y, state)
            self.assertTrue(np.isfinite(float(loss)))
        for value in strategy.experimental_local_results(state["h_1"]):
            self.assertEqual(tuple(value.shape), (per_replica, 8))


class ArgumentsTest(parameterized.TestCase):
    @parameterized.named_parameters(
        ("vocab_size", "lstm", {"vocab_size": 0}, r"got vocab_size=0"),
        (
            "sequence_length",
            "lstm",
            {"sequence_length": 0},
            r"`sequence_length` must be a positive integer, got "
            r"sequence_length=0",
        ),
        ("batch_size", "lstm", {"batch_size": -1}, r"got batch_size=-1"),
        (
            "units",
            "lstm",
            {"units": 0},
            r"`units` must be a positive integer, got units=0",
        ),
        ("num_layers", "mi_lstm", {"num_layers": 1.5}, r"got num_layers=1.5"),
        (
            "embedding_size",
            "lstm",
            {"embedding_size": 0},
            r"got embedding_size=0",
        ),
        (
            "dropout",
            "lstm",
            {"dropout": 1.0},
            r"`dropout` must be a number in \[0, 1\), got dropout=1.0",
        ),
        ("dropout_bool", "lstm", {"dropout": True}, r"got dropout=True"),
        (
            "tie_embeddings",
            "lstm",
            {"tie_embeddings": 1},
            r"`tie_embeddings` must be a bool, got tie_embeddings=1",
        ),
        (
            "context_size",
            "multdec",
            {"context_size": 0},
            r"`context_size` must be a positive integer, got context_size=0",
        ),
        (
            "form",
            "multencdec",
            {"form": "diagonal"},
            r"`form` must be one of \('low_rank', 'full'\), got "
            r"form='diagonal'",
        ),
        ("rank", "multdec", {"rank": 0}, r"got rank=0"),
        (
            "rank_with_full",
            "multdec",
            {"form": "full", "rank": 4},
            r"`rank` is only used by form='low_rank', got rank=4 with "
            r"form='full'",
        ),
        (
            "unknown_hyperparameter",
            "lstm",
            {"rank": 4},
            r"Unknown hyperparameter\(s\) \['rank'\] for language model "
            r"'lstm'; accepted: \[",
        ),
        (
            "unknown_model",
            "gru",
            {},
            r"Unknown language model 'gru'; registered: \(.*'lstm'",
        ),
    )
    def test_build_errors(self, name, overrides, message):
        args = {"vocab_size": V, "sequence_length": T, **overrides}
        with self.assertRaisesRegex(ValueError, message):
            models.build_language_model(name, **args)

    def test_count_and_size_errors(self):
        with self.assertRaisesRegex(ValueError, r"got units=-3"):
            models.count_parameters("lstm", V, units=-3)
        with self.assertRaisesRegex(
            ValueError,
            r"size_to_parameters chooses `units`; do not "
            r"fix it, got units=8",
        ):
            models.size_to_parameters("lstm", 1000, V, T, units=8)
        with self.assertRaisesRegex(ValueError, r"got target_parameters=0"):
            models.size_to_parameters("lstm", 0, V, T)
        with self.assertRaisesRegex(ValueError, r"got sequence_length=-1"):
            models.size_to_parameters("lstm", 1000, V, -1)
        with self.assertRaisesRegex(ValueError, r"Unknown hyperparameter"):
            models.size_to_parameters("mi_lstm", 1000, V, T, form="full")

    def test_initial_state_errors(self):
        with self.assertRaisesRegex(ValueError, r"got batch_size=0"):
            models.initial_state({"name": "lstm"}, 0)
        with self.assertRaisesRegex(
            ValueError,
            r"`model_or_config` must be a language model, "
            r"a LanguageModelConfig or a dict with a 'name', got "
            r"model_or_config='lstm'",
        ):
            models.initial_state("lstm", 2)
        inputs = keras.Input((3,))
        other = keras.Model(
            inputs, keras.layers.Dense(2)(inputs), name="other"
        )
        with self.assertRaisesRegex(
            ValueError,
            r"initial_state needs a model from "
            r"build_language_model, got model 'other'",
        ):
            models.initial_state(other, 2)

    def test_tied_embedding_errors(self):
        with self.assertRaisesRegex(ValueError, r"got input_dim=0"):
            language.TiedEmbedding(0, 4)
        with self.assertRaisesRegex(ValueError, r"got output_dim=None"):
            language.TiedEmbedding(4, None)
        embedding = language.TiedEmbedding(6, 4)
        embedding.build()
        layer = language.TiedOutputInteraction(embedding, 5, form="full")
        with self.assertRaisesRegex(
            ValueError,
            r"TiedOutputInteraction: x of shape \(2, 3, 4\) "
            r"and units=5 do not fit the tied embedding \[6, 4\]",
        ):
            layer(np.zeros((2, 3, 4), "float32"), np.zeros((2, 2), "float32"))

    def test_config_round_trip(self):
        config = language.make_config("multdec", V, **small("multdec"))
        self.assertEqual(config.embedding_size, 8)
        self.assertEqual(
            language.make_config("multdec", V, **config.hyperparameters()),
            config,
        )
        self.assertEqual(
            models.initial_state(config, 3)["summary"].shape, (3, 8)
        )
        self.assertNotIn(
            "form", language.make_config("lstm", V).hyperparameters()
        )


if __name__ == "__main__":
    absltest.main()
