r"""Fits a multiplicative-interaction model and an additive baseline to
generated data whose target is a bilinear function of input and context.

The teacher is y = zᵀW*x (+ noise) with a random W* of shape [m, n, k]: the
context z selects the linear map applied to x, which a single MI layer can
represent and a network fed with the concatenation [x; z] cannot. The binary
trains both on the same data and prints a table of parameters and errors.

Usage:

  python -m mi_zoo.experiments.demo --form=low_rank --rank=8 --steps=500 \
      --model_dir=/tmp/mi_demo   # TensorBoard logs and the .keras models
"""

from absl import flags
from absl import logging
import keras
import numpy as np

from mi_zoo import layers

# The engine's flags: this binary reads --batch_size, --learning_rate,
# --seed and --model_dir from them.
from mi_zoo.experiments import flags as training_flags

FLAGS = flags.FLAGS

_FORM = flags.DEFINE_enum(
    "form",
    "full",
    ["full", "low_rank", "diagonal", "scalar"],
    "Form of the MultiplicativeInteraction layer.",
)
_RANK = flags.DEFINE_integer(
    "rank",
    4,
    "Rank of the low-rank form (ignored by the others).",
    lower_bound=1,
)
_INPUT_SIZE = flags.DEFINE_integer(
    "input_size", 16, "n: size of x.", lower_bound=1
)
_CONTEXT_SIZE = flags.DEFINE_integer(
    "context_size", 8, "m: size of z.", lower_bound=1
)
_OUTPUT_SIZE = flags.DEFINE_integer(
    "output_size", 4, "k: size of y.", lower_bound=1
)
_HIDDEN = flags.DEFINE_integer(
    "hidden", 64, "Hidden units of the baseline MLP on [x; z].", lower_bound=1
)
_EXAMPLES = flags.DEFINE_integer(
    "examples", 8192, "Training examples.", lower_bound=1
)
_STEPS = flags.DEFINE_integer(
    "steps", 2000, "Training steps per model.", lower_bound=1
)
_NOISE = flags.DEFINE_float(
    "noise", 0.01, "Std of the target noise.", lower_bound=0.0
)


def make_data(teacher, examples, noise, rng):
    """Returns ((x, z), y), y = zᵀW*x + noise: x [E, n], z [E, m], y [E, k].

    Args:
      teacher: W*, [m, n, k].
      examples: E.
      noise: std of the Gaussian noise added to y.
      rng: a NumPy Generator.
    """
    m, n, _ = teacher.shape
    x = rng.normal(size=(examples, n))  # [E, n]
    z = rng.normal(size=(examples, m))  # [E, m]
    y = np.einsum("em,mnk,en->ek", z, teacher, x)  # [E, k]
    y += noise * rng.normal(size=y.shape)
    cast = lambda a: a.astype("float32")
    return (cast(x), cast(z)), cast(y)


def mi_model(form, rank, n, m, k):
    """[x, z] -> MultiplicativeInteraction -> y (a Dense head for the
    diagonal and scalar forms, whose output size is n)."""
    x, z = keras.Input((n,), name="x"), keras.Input((m,), name="z")
    if form in ("full", "low_rank"):
        kwargs = {"rank": rank} if form == "low_rank" else {}
        y = layers.MultiplicativeInteraction(k, form=form, **kwargs)(x, z)
    else:
        h = layers.MultiplicativeInteraction(form=form)(x, z)  # [B, n]
        y = keras.layers.Dense(k)(h)
    return keras.Model([x, z], y, name=f"mi_{form}")


def concat_model(hidden, n, m, k):
    """[x, z] -> ConcatLinear -> ReLU -> Dense -> y: the additive baseline."""
    x, z = keras.Input((n,), name="x"), keras.Input((m,), name="z")
    h = layers.ConcatLinear(hidden, activation="relu")(x, z)  # [B, hidden]
    return keras.Model([x, z], keras.layers.Dense(k)(h), name="concat_mlp")


def fit(model, train, test, model_dir):
    """Trains with Adam on MSE; returns (train mse, test mse)."""
    model.compile(keras.optimizers.Adam(FLAGS.learning_rate), loss="mse")
    epoch_steps = max(1, len(train[1]) // FLAGS.batch_size)
    callbacks = []
    if model_dir:
        callbacks.append(
            keras.callbacks.TensorBoard(f"{model_dir}/{model.name}")
        )
    history = model.fit(
        *train,
        batch_size=FLAGS.batch_size,
        verbose=0,
        callbacks=callbacks,
        epochs=-(-_STEPS.value // epoch_steps),
        steps_per_epoch=epoch_steps,
    )
    if model_dir:
        model.save(f"{model_dir}/{model.name}.keras")
    return history.history["loss"][-1], model.evaluate(*test, verbose=0)


def train_and_compare():
    """Trains both models on one generated task; returns {name: test mse}."""
    keras.utils.set_random_seed(FLAGS.seed)
    rng = np.random.default_rng(FLAGS.seed)
    n, m, k = _INPUT_SIZE.value, _CONTEXT_SIZE.value, _OUTPUT_SIZE.value
    teacher = rng.normal(size=(m, n, k)) / np.sqrt(m * n)  # W*: [m, n, k]
    train = make_data(teacher, _EXAMPLES.value, _NOISE.value, rng)
    test = make_data(teacher, 2048, _NOISE.value, rng)
    models = [
        mi_model(_FORM.value, _RANK.value, n, m, k),
        concat_model(_HIDDEN.value, n, m, k),
    ]
    print(f"{'model':<14}{'params':>8}{'train mse':>12}{'test mse':>12}")
    results = {}
    for model in models:
        train_mse, test_mse = fit(model, train, test, FLAGS.model_dir)
        results[model.name] = test_mse
        print(
            f"{model.name:<14}{model.count_params():>8}"
            f"{train_mse:>12.4f}{test_mse:>12.4f}"
        )
    logging.info("Variance of the test targets: %.4f", float(np.var(test[1])))
    return results


main, run = training_flags.entry_points(train_and_compare, {})


if __name__ == "__main__":
    run()
