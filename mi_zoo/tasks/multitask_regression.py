r"""Multitask regression of the MI paper (Jayakumar et al., ICLR 2020, §5):
one network, T tasks, the task given as a one-hot context.

Task i of T is the scalar function

    linear family:  y = a_i · x + b_i
    sine family:    y = a_i · sin(10 x) + b_i

with a_i, b_i ~ U(-1, 1) drawn per task from `data_seed`, and x ~ U(-1, 1)
(a scalar). The train set holds `examples_per_task` x's per task, the
held-out evaluation set `eval_examples_per_task` other x's per task (drawn
from the same seed, after the train x's). Targets are noise-free.

Every conditioning variant uses the same trunk, with widths n (first
layer) and k (conditioned layer) chosen so that the model has about
`parameter_budget` parameters (`choose_widths`):

    x [B, 1] -> Dense(n, relu) -> CONTEXT_BLOCK(n -> k, z) -> relu
             -> Dense(1)

where CONTEXT_BLOCK is one conditioned hidden layer (`CONDITIONINGS`):

- concat: `ConcatLinear(k)`, W[h; z] + b (the additive baseline);
- conditional_bias: `ConditionalBias(k)`, V h + zᵀU + b (the same function
  as concat, weights stored apart);
- conditional_scaling: Dense(k) then `ConditionalScaling`, σ(zᵀW + c) ∘ h';
- film: Dense(k) then `FiLM`, γ(z) ∘ h' + β(z);
- mi_full: `MultiplicativeInteraction(k, form="full")`, zᵀW h + zᵀU + V h + b
  (z generates the whole weight matrix of the layer);
- mi_low_rank: `MultiplicativeInteraction(k, form="low_rank", rank=r)`.

So every variant has one hidden layer on x, one conditioned hidden layer and
a linear read-out; the gating variants get a plain Dense before their
modulation so that their conditioned layer is a linear map of h too. The
model zoo (`CONDITIONINGS`, `build_model`, `parameter_count`,
`choose_widths`) is `mi_zoo.models.multitask_regression`; this module keeps
the data and the task.

The loss is the per-example squared error; evaluation (on the host, one
pass over the held-out set) reports the MSE over all tasks ("mse", also the
"loss"), and the mean, worst and best of the per-task MSEs.

    task = MultitaskRegressionTask(num_tasks=20, conditioning="mi_low_rank")
    trainer.train(task, trainer.TrainConfig(model_dir="/tmp/mtr"))
"""

import dataclasses
from typing import Dict

import numpy as np
import tensorflow as tf

from mi_zoo.core import registry as registry_lib
from mi_zoo.core import validation
from mi_zoo.models import multitask_regression as multitask_models

# The model zoo moved to mi_zoo.models.multitask_regression; the names stay
# here too for one release.
from mi_zoo.models.multitask_regression import CONDITIONINGS
from mi_zoo.models.multitask_regression import WIDTH_RATIO  # noqa: F401
from mi_zoo.models.multitask_regression import Conditioning  # noqa: F401
from mi_zoo.models.multitask_regression import choose_widths
from mi_zoo.models.multitask_regression import parameter_count
from mi_zoo.training import task as task_lib

#: Range of x and of a_i, b_i (both uniform).
X_RANGE = (-1.0, 1.0)
COEFFICIENT_RANGE = (-1.0, 1.0)
#: Frequency of the sine family.
SINE_FREQUENCY = 10.0

# ---------------------------------------------------------------- functions
FUNCTION_FAMILIES = registry_lib.Registry("function family")


@FUNCTION_FAMILIES.register("linear")
def linear(x, a, b):
    """y = a·x + b (numpy, any float dtype)."""
    return a * x + b


@FUNCTION_FAMILIES.register("sine")
def sine(x, a, b):
    """y = a·sin(10x) + b (numpy, any float dtype)."""
    return a * np.sin(SINE_FREQUENCY * x) + b


@dataclasses.dataclass
class Split:
    """One split, float64: x [N, 1], task [N] (int), z [N, T] one-hot,
    y [N, 1]."""

    x: np.ndarray
    task: np.ndarray
    z: np.ndarray
    y: np.ndarray


def make_data(
    num_tasks: int,
    function_family: str,
    examples_per_task: int,
    eval_examples_per_task: int,
    data_seed: int = 0,
):
    """Draws the tasks and both splits.

    Returns:
      (a [T], b [T], train Split, eval Split), all float64, examples
      ordered task by task.
    """
    validation.check_positive_int("num_tasks", num_tasks)
    validation.check_positive_int("examples_per_task", examples_per_task)
    validation.check_positive_int(
        "eval_examples_per_task", eval_examples_per_task
    )
    function = FUNCTION_FAMILIES.get(function_family)
    rng = np.random.default_rng(data_seed)
    a = rng.uniform(*COEFFICIENT_RANGE, size=num_tasks)
    b = rng.uniform(*COEFFICIENT_RANGE, size=num_tasks)

    def split(per_task):
        x = rng.uniform(*X_RANGE, size=(num_tasks * per_task, 1))
        task = np.repeat(np.arange(num_tasks), per_task)
        z = np.eye(num_tasks)[task]
        y = function(x, a[task, None], b[task, None])
        return Split(x, task, z, y)

    train = split(examples_per_task)
    return a, b, train, split(eval_examples_per_task)


# --------------------------------------------------------------------- task
class MultitaskRegressionTask(task_lib.Task):
    """T regression tasks through one conditioned network.

    Args:
      num_tasks: T (>= 1), also the size of the one-hot context.
      conditioning: a name of `CONDITIONINGS`.
      function_family: "linear" or "sine" (`FUNCTION_FAMILIES`).
      parameter_budget: the model is sized to about this many parameters.
      examples_per_task: training x's per task.
      eval_examples_per_task: held-out x's per task.
      data_seed: seed of a_i, b_i and the x's.
      rank: rank of mi_low_rank (ignored by the others).
    """

    def __init__(
        self,
        num_tasks: int = 10,
        conditioning: str = "mi_low_rank",
        function_family: str = "sine",
        parameter_budget: int = 20000,
        examples_per_task: int = 200,
        eval_examples_per_task: int = 100,
        data_seed: int = 0,
        rank: int = 8,
    ):
        self.conditioning_name = conditioning
        self.conditioning = CONDITIONINGS.build(conditioning)
        FUNCTION_FAMILIES.get(function_family)
        self.num_tasks = num_tasks
        self.function_family = function_family
        self.parameter_budget = parameter_budget
        self.rank = rank
        self.data_seed = data_seed
        self.a, self.b, self.train, self.eval = make_data(
            num_tasks,
            function_family,
            examples_per_task,
            eval_examples_per_task,
            data_seed,
        )
        self.first_width, self.width = choose_widths(
            conditioning, num_tasks, parameter_budget, rank
        )
        self.parameters = parameter_count(
            conditioning, num_tasks, self.first_width, self.width, rank
        )

    @staticmethod
    def _inputs(split: Split):
        return {
            "x": split.x.astype(np.float32),
            "z": split.z.astype(np.float32),
        }

    def prepare(self, batch_size, eval_batch_size, seed):
        data = (self._inputs(self.train), self.train.y.astype(np.float32))
        count = len(self.train.x)
        train = (
            tf.data.Dataset.from_tensor_slices(data)
            .shuffle(count, seed=seed, reshuffle_each_iteration=True)
            .repeat()
            .batch(batch_size, drop_remainder=True)
        )
        evaluation = tf.data.Dataset.from_tensor_slices(
            (self._inputs(self.eval), self.eval.y.astype(np.float32))
        ).batch(eval_batch_size)
        return task_lib.TaskData(
            train=task_lib.named_batches(train),
            eval=task_lib.named_batches(evaluation),
        )

    def build_model(self):
        return multitask_models.build_model(
            self.conditioning_name,
            self.num_tasks,
            self.first_width,
            self.width,
            self.rank,
        )

    def per_example_loss(self, targets, outputs, inputs):
        return tf.reduce_mean(tf.square(targets - outputs), axis=-1)

    def evaluate(self, model, batch_size) -> Dict[str, float]:
        """MSE over the held-out set, and per task (on the host)."""
        outputs = []
        inputs = self._inputs(self.eval)
        for start in range(0, len(self.eval.x), batch_size):
            outputs.append(
                np.asarray(
                    model(
                        {
                            k: v[start : start + batch_size]
                            for k, v in inputs.items()
                        },
                        training=False,
                    ),
                    np.float64,
                )
            )
        squared = (np.concatenate(outputs) - self.eval.y)[:, 0] ** 2
        per_task = np.bincount(
            self.eval.task, squared, self.num_tasks
        ) / np.bincount(self.eval.task, minlength=self.num_tasks)
        mse = float(squared.mean())
        return {
            "loss": mse,
            "mse": mse,
            "task_mse/mean": float(per_task.mean()),
            "task_mse/max": float(per_task.max()),
            "task_mse/min": float(per_task.min()),
        }

    def hparams(self):
        return {
            "num_tasks": self.num_tasks,
            "conditioning": self.conditioning_name,
            "function_family": self.function_family,
            "parameter_budget": self.parameter_budget,
            "first_width": self.first_width,
            "width": self.width,
            "rank": self.rank,
            "data_seed": self.data_seed,
        }
