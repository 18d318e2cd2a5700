r"""The MI paper's expressivity experiment: parameters needed to fit a target.

Fits a target function of x, z ~ N(0, I_d) (mi_zoo/tasks/expressivity.py:
sum x + z, dot xᵀz, elementwise x ∘ z, bilinear xᵀWz) with a one-hidden-layer
ReLU MLP on [x; z], or one multiplicative-interaction layer (full or low
rank), and reports the held-out mean squared error against the paper's
absolute threshold 0.1 (with the target's variance beside it).

One configuration (an MLP of 64 hidden units on the 8-d dot product):

  python -m mi_zoo.experiments.expressivity --model_dir=/tmp/expr_dot_mlp \
      --target_function=dot --input_dim=8 --expressivity_model=mlp \
      --widths=64
  tensorboard --logdir /tmp/expr_dot_mlp   # eval/mse, eval/target_variance

Several widths (one engine run each, in <model_dir>/width_<w>):
--widths=16,64,256. The search for the smallest width reaching
--mse_threshold (doubling from the model's smallest width, then bisection
to within --expressivity_tolerance; each candidate a fresh engine run in
<model_dir>/width_<w>, reused when started again):

  python -m mi_zoo.experiments.expressivity --model_dir=/tmp/expr_search \
      --target_function=elementwise --input_dim=4 \
      --expressivity_model=mi_low_rank --expressivity_search

It writes <model_dir>/search.json (smallest width and parameter count, or
"reached": false, and every width tried). The width is the hidden units of
"mlp", the rank of "mi_low_rank"; "mi_full" has none. All the targets,
dimensions and models in one table and plot: benchmarks/expressivity_results.py.
"""

import os
import sys

from absl import app
from absl import flags

from mi_zoo.experiments import expressivity_search
from mi_zoo.experiments import flags as training_flags
from mi_zoo.models import expressivity as expressivity_models
from mi_zoo.tasks import expressivity

# --help lists the shared flags too (they live in other modules).
flags.adopt_module_key_flags(training_flags)

_TARGET_FUNCTION = flags.DEFINE_string(
    "target_function",
    "dot",
    "Target of mi_zoo.tasks.expressivity.TARGETS: sum, dot, elementwise, "
    "bilinear.",
)
_INPUT_DIM = flags.DEFINE_integer("input_dim", 8, "d: size of x and of z.")
_MODEL = flags.DEFINE_string(
    "expressivity_model",
    "mlp",
    "Model of mi_zoo.models.expressivity.MODELS: mlp, mi_full, mi_low_rank.",
)
_WIDTHS = flags.DEFINE_list(
    "widths",
    None,
    "Widths trained (mlp: hidden units; mi_low_rank: rank; ignored by "
    "mi_full); default: the model's smallest width. Several: one run each "
    "in <model_dir>/width_<w>.",
)
_SEARCH = flags.DEFINE_bool(
    "expressivity_search",
    False,
    "Search the smallest width reaching --mse_threshold instead of "
    "training --widths.",
)
_MSE_THRESHOLD = flags.DEFINE_float(
    "mse_threshold",
    expressivity.MSE_THRESHOLD,
    "Absolute held-out MSE a model must reach (the paper's 0.1).",
)
_MIN_WIDTH = flags.DEFINE_integer(
    "expressivity_min_width",
    None,
    "First width of the search (default: the model's).",
)
_MAX_WIDTH = flags.DEFINE_integer(
    "expressivity_max_width",
    None,
    "Largest width of the search (default: the model's: mlp 4096, "
    "mi_low_rank 2d).",
)
_TOLERANCE = flags.DEFINE_float(
    "expressivity_tolerance",
    0.25,
    "The bisection stops when the passing width is within this factor of "
    "the failing one.",
)
_TRAIN_EXAMPLES = flags.DEFINE_integer(
    "expressivity_train_examples", 16384, "Training examples (in memory)."
)
_EVAL_EXAMPLES = flags.DEFINE_integer(
    "expressivity_eval_examples", 4096, "Held-out evaluation examples."
)
_DATA_SEED = flags.DEFINE_integer(
    "expressivity_data_seed",
    0,
    "Seed of the data and of the bilinear target's W.",
)

# Defaults of this binary for the engine's flags.
DEFAULTS = {
    "train_steps": 1500,
    "batch_size": 128,
    "eval_batch_size": 4096,
    "learning_rate": 1e-2,
    "decay": "cosine",
    "eval_every": 500,
    "log_every": 100,
    "checkpoint_every": 1000,
    "histogram_every": 0,
    "image_every": 0,
    "export": False,
}


def _positive(flag):
    if flag.value is not None and flag.value <= 0:
        raise app.UsageError(f"--{flag.name}={flag.value} must be > 0.")
    return flag.value


def check_flags():
    """The validated (target, d, model) of the flags.

    Raises:
      app.UsageError: naming the flag at fault.
    """
    if _TARGET_FUNCTION.value not in expressivity.TARGETS:
        raise app.UsageError(
            f"--target_function={_TARGET_FUNCTION.value!r} is not one of "
            f"{list(expressivity.TARGETS.names())}."
        )
    if _MODEL.value not in expressivity_models.MODELS:
        raise app.UsageError(
            f"--expressivity_model={_MODEL.value!r} is not one of "
            f"{list(expressivity_models.MODELS.names())}."
        )
    for flag in (
        _INPUT_DIM,
        _MIN_WIDTH,
        _MAX_WIDTH,
        _TRAIN_EXAMPLES,
        _EVAL_EXAMPLES,
    ):
        _positive(flag)
    if not _MSE_THRESHOLD.value > 0:
        raise app.UsageError(
            f"--mse_threshold={_MSE_THRESHOLD.value} must be > 0."
        )
    if not _TOLERANCE.value >= 0:
        raise app.UsageError(
            f"--expressivity_tolerance={_TOLERANCE.value} must be >= 0."
        )
    return _TARGET_FUNCTION.value, _INPUT_DIM.value, _MODEL.value


def widths(model) -> list:
    """--widths as ints (default: the model's smallest width)."""
    if not _WIDTHS.value:
        return [
            expressivity_models.get_model_kind(model).width_range(
                _INPUT_DIM.value
            )[0]
        ]
    try:
        values = [int(w) for w in _WIDTHS.value]
    except ValueError:
        raise app.UsageError(
            f"--widths={','.join(_WIDTHS.value)} must be positive integers."
        ) from None
    if any(w <= 0 for w in values):
        raise app.UsageError(
            f"--widths={','.join(_WIDTHS.value)} must be positive integers."
        )
    return values


def _train_kwargs(strategy):
    return {
        "strategy": strategy,
        "settings": training_flags.settings(sys.modules[__name__]),
        "train_examples": _TRAIN_EXAMPLES.value,
        "eval_examples": _EVAL_EXAMPLES.value,
        "data_seed": _DATA_SEED.value,
    }


def train_and_report():
    """Trains (or searches) as the flags say; prints and returns the
    results: the engine's results of one width, {width: results} of
    several, or the search summary."""
    target, d, model = check_flags()
    strategy = training_flags.make_strategy()
    config = training_flags.train_config()
    kwargs = _train_kwargs(strategy)
    if _SEARCH.value:
        kind = expressivity_models.get_model_kind(model)
        smallest, largest = kind.width_range(d)
        smallest = _MIN_WIDTH.value or smallest
        largest = _MAX_WIDTH.value or largest
        if largest < smallest:
            raise app.UsageError(
                f"--expressivity_max_width={largest} must be >= "
                f"--expressivity_min_width={smallest}."
            )
        summary = expressivity_search.run_search(
            target,
            d,
            model,
            lambda sub: training_flags.train_config(model_dir=sub),
            config.model_dir,
            _MSE_THRESHOLD.value,
            _TOLERANCE.value,
            (smallest, largest),
            **kwargs,
        )
        for row in summary["tried"]:
            print(
                f"  width {row['width']}: {row['parameters']:,} "
                f"parameters, mse {row['mse']:.4g}"
            )
        if summary["reached"]:
            print(
                f"{model} on {target} (d={d}): {summary['parameters']:,} "
                f"parameters (width {summary['width']}) reach mse <= "
                f"{_MSE_THRESHOLD.value} (target variance "
                f"{summary['target_variance']:.3g})"
            )
        else:
            print(
                f"{model} on {target} (d={d}): not reached up to width "
                f"{largest} ({summary['largest_parameters']:,} "
                f"parameters)"
            )
        return summary
    values = widths(model)
    all_results = {}
    for width in values:
        sub = (
            config.model_dir
            if len(values) == 1
            else os.path.join(config.model_dir, f"width_{width}")
        )
        results = expressivity_search.train_width(
            target,
            d,
            model,
            width,
            training_flags.train_config(model_dir=sub),
            **kwargs,
        )
        all_results[width] = results
        print(
            f"{model} width {results['width']} on {target} (d={d}): "
            f"{results['parameters']:,} parameters, mse "
            f"{results['eval']['mse']:.4g} (threshold "
            f"{_MSE_THRESHOLD.value}, target variance "
            f"{results['target_variance']:.3g})"
        )
    return all_results[values[0]] if len(values) == 1 else all_results


main, run = training_flags.entry_points(train_and_report, DEFAULTS)


if __name__ == "__main__":
    run()
