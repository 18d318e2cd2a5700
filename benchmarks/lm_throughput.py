r"""Training throughput of the language models, beside a plain Keras LSTM.

Every model of `LM_MODELS` is sized to --target_parameters, and so is a
reference model made only of Keras layers (Embedding -> keras.layers.LSTM
stack -> Dense; cuDNN-eligible on GPUs). Each is timed on training steps
(forward, backward, Adam update) of random [B, T] token windows, one
`tf.function` per model, after warm-up steps; the table gives tokens per
second and the ratio to the reference measured in the same run:

  python -m benchmarks.lm_throughput --target_parameters=200000
  python -m benchmarks.lm_throughput --output_json=/tmp/lm_throughput.json
"""

import time

from absl import app
from absl import flags
import keras
import numpy as np
import tensorflow as tf

from benchmarks import timing
from mi_zoo.models import language

_TARGET_PARAMETERS = flags.DEFINE_integer(
    "target_parameters",
    200_000,
    "Parameter budget of every model.",
    lower_bound=1,
)
_VOCAB_SIZE = flags.DEFINE_integer(
    "vocab_size", 65, "V (65: tiny Shakespeare's characters).", lower_bound=2
)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 32, "B.", lower_bound=1)
_SEQUENCE_LENGTH = flags.DEFINE_integer(
    "sequence_length", 100, "T.", lower_bound=1
)
_STEPS = flags.DEFINE_integer(
    "steps", 30, "Timed steps per model.", lower_bound=1
)
_WARMUP = flags.DEFINE_integer(
    "warmup", 5, "Untimed steps first.", lower_bound=1
)
_NUM_LAYERS = flags.DEFINE_integer(
    "num_layers", 2, "LSTM layers.", lower_bound=1
)
_OUTPUT_JSON = flags.DEFINE_string(
    "output_json", None, "Also write the results as JSON."
)


def keras_lstm(vocab_size, units, num_layers):
    """The reference: Embedding(H) -> num_layers × LSTM(H) -> Dense(V)."""
    tokens = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(vocab_size, units)(tokens)
    for _ in range(num_layers):
        x = keras.layers.LSTM(units, return_sequences=True)(x)
    return keras.Model(tokens, keras.layers.Dense(vocab_size)(x))


def keras_lstm_units(target, vocab_size, num_layers):
    """The units H whose reference model is closest to `target`."""

    def count(h):
        return (
            vocab_size * h
            + num_layers * 4 * (2 * h * h + h)
            + h * vocab_size
            + vocab_size
        )

    return min(range(1, 4096), key=lambda h: abs(count(h) - target))


def time_model(model, call, batch, length, vocab_size, steps, warmup):
    """Tokens/s of training steps of `call(model, tokens)` -> logits."""
    optimizer = keras.optimizers.Adam(1e-3)
    rng = np.random.default_rng(0)
    tokens = tf.constant(
        rng.integers(0, vocab_size, (batch, length)), tf.int32
    )
    targets = tf.constant(
        rng.integers(0, vocab_size, (batch, length)), tf.int32
    )

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            logits = call(model, tokens)
            loss = tf.reduce_mean(
                keras.losses.sparse_categorical_crossentropy(
                    targets, logits, from_logits=True
                )
            )
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        loss = step()
    float(loss)
    seconds = time.perf_counter() - start
    return batch * length * steps / seconds


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    v, b, t = _VOCAB_SIZE.value, _BATCH_SIZE.value, _SEQUENCE_LENGTH.value
    layers = _NUM_LAYERS.value
    units = keras_lstm_units(_TARGET_PARAMETERS.value, v, layers)
    reference = keras_lstm(v, units, layers)
    results = {
        "keras.layers.LSTM": {
            "parameters": reference.count_params(),
            "tokens_per_second": time_model(
                reference,
                lambda m, x: m(x, training=True),
                b,
                t,
                v,
                _STEPS.value,
                _WARMUP.value,
            ),
        }
    }
    for name in language.LM_MODELS.names():
        hp = language.size_to_parameters(
            name, _TARGET_PARAMETERS.value, v, t, num_layers=layers
        )
        model = language.build_language_model(name, v, t, **hp)
        state = language.initial_state(model, b)
        results[name] = {
            "parameters": model.count_params(),
            "tokens_per_second": time_model(
                model,
                lambda m, x: m({"tokens": x, **state}, training=True)[0],
                b,
                t,
                v,
                _STEPS.value,
                _WARMUP.value,
            ),
        }
    base = results["keras.layers.LSTM"]["tokens_per_second"]
    print(
        f"B={b}, T={t}, V={v}, {layers} layers, target "
        f"{_TARGET_PARAMETERS.value:,} parameters, {_STEPS.value} steps"
    )
    print(
        timing.markdown_table(
            ["model", "parameters", "train tokens/s", "vs keras.layers.LSTM"],
            [
                [
                    f"`{name}`",
                    f"{row['parameters']:,}",
                    f"{row['tokens_per_second']:,.0f}",
                    f"{timing.ratio(row['tokens_per_second'], base):.2f}×",
                ]
                for name, row in results.items()
            ],
        )
    )
    timing.write_json(_OUTPUT_JSON.value, results)


if __name__ == "__main__":
    app.run(main)
