r"""Multitask regression of the MI paper: T tasks through one network.

Trains one conditioning variant (concat, conditional_bias,
conditional_scaling, film, mi_full, mi_low_rank; see
mi_zoo/tasks/multitask_regression.py) on T tasks y = a_i·sin(10x) + b_i
(--function_family=sine) or y = a_i·x + b_i (linear), the task given as a
one-hot context, with the model sized to --parameter_budget parameters:

  python -m mi_zoo.experiments.multitask_regression \
      --model_dir=/tmp/mtr_mi_low_rank_T20 --num_tasks=20 \
      --conditioning=mi_low_rank
  tensorboard --logdir /tmp/mtr_mi_low_rank_T20   # train/eval loss curves

The held-out MSE (overall and per task: mean, max, min) is in
<model_dir>/results.json and in TensorBoard under eval/ (every 250 steps). One
run (3000 steps) takes ~30 s on 2 CPU cores, start-up and export included.
The whole comparison (all variants, T in
{1, 10, 20, 40}, several seeds) is benchmarks/multitask_regression_results.py.
"""

import sys

from absl import app
from absl import flags

from mi_zoo.experiments import flags as training_flags
from mi_zoo.models import multitask_regression as multitask_models
from mi_zoo.tasks import multitask_regression

# --help lists the shared flags too (they live in other modules).
flags.adopt_module_key_flags(training_flags)

_NUM_TASKS = flags.DEFINE_integer(
    "num_tasks",
    10,
    "T: the number of regression tasks (size of the one-hot context).",
    lower_bound=1,
)
_CONDITIONING = flags.DEFINE_enum(
    "conditioning",
    "mi_low_rank",
    list(multitask_models.CONDITIONINGS.names()),
    "How the context enters the trunk's conditioned layer.",
)
_FUNCTION_FAMILY = flags.DEFINE_enum(
    "function_family",
    "sine",
    list(multitask_regression.FUNCTION_FAMILIES.names()),
    "sine: y = a_i·sin(10x) + b_i; linear: y = a_i·x + b_i.",
)
_PARAMETER_BUDGET = flags.DEFINE_integer(
    "parameter_budget",
    20000,
    "Size the model (its two hidden widths) to about this many parameters.",
    lower_bound=1,
)
_TRUNK_RANK = flags.DEFINE_integer(
    "trunk_rank",
    8,
    "Rank of the mi_low_rank conditioned layer.",
    lower_bound=1,
)
_FUNCTION_FAMILY_EXAMPLES = flags.DEFINE_integer(
    "function_family_examples", 200, "Training x's per task.", lower_bound=1
)
_FUNCTION_FAMILY_EVAL_EXAMPLES = flags.DEFINE_integer(
    "function_family_eval_examples",
    100,
    "Held-out x's per task.",
    lower_bound=1,
)
_FUNCTION_FAMILY_SEED = flags.DEFINE_integer(
    "function_family_seed",
    0,
    "Seed of the tasks' a_i, b_i and of the "
    "x's (--seed seeds the weights and the data order).",
    lower_bound=0,
)

# Defaults of this binary for the engine's flags.
DEFAULTS = {
    "train_steps": 3000,
    "batch_size": 64,
    "learning_rate": 3e-3,
    "decay": "cosine",
    "eval_every": 250,
    "log_every": 50,
    "checkpoint_every": 1000,
    "histogram_every": 0,
    "image_every": 0,
}


def make_task() -> multitask_regression.MultitaskRegressionTask:
    """The task of the flags; bad values raise `app.UsageError` naming
    the flag."""
    try:
        return multitask_regression.MultitaskRegressionTask(
            num_tasks=_NUM_TASKS.value,
            conditioning=_CONDITIONING.value,
            function_family=_FUNCTION_FAMILY.value,
            parameter_budget=_PARAMETER_BUDGET.value,
            examples_per_task=_FUNCTION_FAMILY_EXAMPLES.value,
            eval_examples_per_task=_FUNCTION_FAMILY_EVAL_EXAMPLES.value,
            data_seed=_FUNCTION_FAMILY_SEED.value,
            rank=_TRUNK_RANK.value,
        )
    except ValueError as e:
        raise app.UsageError(
            f"--parameter_budget={_PARAMETER_BUDGET.value} / --num_tasks="
            f"{_NUM_TASKS.value} / --conditioning={_CONDITIONING.value}: "
            f"{e}"
        ) from e


def settings(task) -> dict:
    values = training_flags.settings(sys.modules[__name__])
    values.update({f"model/{k}": v for k, v in task.hparams().items()})
    values["parameters"] = task.parameters
    return values


def train_and_report():
    """Trains as the flags say; prints and returns the results."""
    task, results = training_flags.train_task(make_task, settings)
    print(
        f"{task.conditioning_name}, T={task.num_tasks} "
        f"({task.function_family}): {results['parameters']:,} parameters "
        f"(widths {task.first_width}, {task.width}), "
        f"{results['step']} steps"
    )
    print(
        f"  held-out MSE: {results['eval']['mse']:.5f} (worst task "
        f"{results['eval']['task_mse/max']:.5f})"
    )
    return results


main, run = training_flags.entry_points(train_and_report, DEFAULTS)


if __name__ == "__main__":
    run()
