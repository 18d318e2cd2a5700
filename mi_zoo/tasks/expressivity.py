"""The expressivity task of the MI paper: how many parameters does a model
need to fit a target function of two vectors?

Jayakumar et al. (ICLR 2020, section 3) compare a one-hidden-layer ReLU MLP
on the concatenation [x; z] with a single multiplicative-interaction layer
f(x, z) (`mi_zoo.layers.MultiplicativeInteraction`) on targets of
x, z ~ N(0, I_d): the MLP needs far more parameters for multiplicative
targets. Here:

- `TARGETS`: target functions, each with a float64 NumPy formula
  (`Target.numpy`) and its output size. "sum" (x + z, R^d), "dot" (xᵀz,
  scalar), "elementwise" (x ∘ z, R^d), "bilinear" (xᵀWz, scalar, with a fixed
  W ~ N(0, 1/d) drawn from the data seed, so that its variance is d like
  the dot product's).
- `MODELS`: the model zoo, in `mi_zoo.models.expressivity` (re-exported
  here with `ModelKind`, `get_model_kind` and `parameter_count`).
- `ExpressivityTask`: Gaussian train and held-out eval sets generated in
  memory from a seed, per-example MSE (mean over output components), and a
  host-side evaluation reporting `mse` (the absolute MSE compared with the
  threshold, 0.1 in the paper), `target_variance` (the mean variance of a
  target component on the eval set, for scale) and `normalized_mse`.

The width search (`search_width`, `train_width`, `run_search`, which run the
engine) moved to `mi_zoo.experiments.expressivity_search`; a task may not
import the experiments floor, so import them from there.

    task = ExpressivityTask("dot", input_dim=8, model_kind="mlp", width=64)
    results = trainer.train(task, trainer.TrainConfig(model_dir=...))
    results["eval"]["mse"]
"""

import dataclasses
from typing import Callable

import numpy as np
import tensorflow as tf

from mi_zoo.core import validation
from mi_zoo.core.registry import Registry

# The model zoo moved to mi_zoo.models.expressivity; the names stay here too
# for one release.
from mi_zoo.models.expressivity import MODELS  # noqa: F401
from mi_zoo.models.expressivity import ModelKind  # noqa: F401
from mi_zoo.models.expressivity import get_model_kind
from mi_zoo.models.expressivity import parameter_count  # noqa: F401
from mi_zoo.training import task as task_lib

#: The paper's error threshold (absolute mean squared error).
MSE_THRESHOLD = 0.1


# ----------------------------------------------------------------- targets
@dataclasses.dataclass(frozen=True)
class Target:
    """A target function of x, z ∈ R^d.

    Attributes:
      name: its name in `TARGETS`.
      formula: how it reads, for tables.
      output_dim: d -> k, the output size.
      fn: (x [N, d], z [N, d], params) -> [N, k] in float64.
      make_params: (d, rng) -> the fixed parameters (e.g. W), or None.
    """

    name: str
    formula: str
    output_dim: Callable[[int], int]
    fn: Callable[[np.ndarray, np.ndarray, object], np.ndarray]
    make_params: Callable[[int, np.random.Generator], object] = lambda d, rng: (
        None
    )

    def numpy(self, x, z, params=None) -> np.ndarray:
        """The float64 target [N, k] of x, z [N, d]."""
        x = np.asarray(x, np.float64)
        z = np.asarray(z, np.float64)
        return np.asarray(self.fn(x, z, params), np.float64)


TARGETS = Registry("target function")


def _register_target(target: Target):
    TARGETS.register(target.name)(lambda: target)


_register_target(Target("sum", "x + z", lambda d: d, lambda x, z, p: x + z))
_register_target(
    Target(
        "dot",
        "xᵀz",
        lambda d: 1,
        lambda x, z, p: np.sum(x * z, -1, keepdims=True),
    )
)
_register_target(
    Target("elementwise", "x ∘ z", lambda d: d, lambda x, z, p: x * z)
)
_register_target(
    Target(
        "bilinear",
        "xᵀWz, W ~ N(0, 1/d)",
        lambda d: 1,
        lambda x, z, w: np.einsum("ni,ij,nj->n", x, w, z)[:, None],
        lambda d, rng: rng.normal(scale=1 / np.sqrt(d), size=(d, d)),
    )
)


def get_target(name: str) -> Target:
    return TARGETS.build(name)


# -------------------------------------------------------------------- data
def make_data(
    target: Target,
    input_dim: int,
    examples: int,
    rng: np.random.Generator,
    params=None,
):
    """({"x", "z"} float32 [N, d], targets float32 [N, k]) with
    x, z ~ N(0, I)."""
    x = rng.standard_normal((examples, input_dim))
    z = rng.standard_normal((examples, input_dim))
    y = target.numpy(x, z, params)
    return (
        {"x": x.astype(np.float32), "z": z.astype(np.float32)},
        y.astype(np.float32),
    )


class ExpressivityTask(task_lib.Task):
    """Fits `TARGETS[target_function]` with `MODELS[model_kind]`.

    Args:
      target_function: a name of `TARGETS`.
      input_dim: d, the size of x and of z.
      model_kind: a name of `MODELS`.
      width: hidden units (mlp) or rank (mi_low_rank); ignored (1) for
        mi_full.
      train_examples, eval_examples: sizes of the in-memory sets (distinct
        draws from `data_seed`).
      data_seed: seed of the data and of the target's fixed parameters.
    """

    def __init__(
        self,
        target_function: str,
        input_dim: int,
        model_kind: str,
        width: int = 1,
        train_examples: int = 16384,
        eval_examples: int = 4096,
        data_seed: int = 0,
    ):
        self.target = get_target(target_function)
        self.model_kind = get_model_kind(model_kind)
        for name, value in (
            ("input_dim", input_dim),
            ("width", width),
            ("train_examples", train_examples),
            ("eval_examples", eval_examples),
        ):
            validation.check_positive_int(name, value)
        self.target_name = target_function
        self.model_name = model_kind
        self.input_dim = input_dim
        self.output_dim = self.target.output_dim(input_dim)
        self.width = width if self.model_kind.searchable else 1
        self.data_seed = data_seed
        rng = np.random.default_rng(data_seed)
        self.params = self.target.make_params(input_dim, rng)
        self.train = make_data(
            self.target, input_dim, train_examples, rng, self.params
        )
        self.eval = make_data(
            self.target, input_dim, eval_examples, rng, self.params
        )
        self.target_variance = float(np.mean(np.var(self.eval[1], axis=0)))

    @property
    def parameters(self) -> int:
        return self.model_kind.parameters(
            self.input_dim, self.output_dim, self.width
        )

    def prepare(self, batch_size, eval_batch_size, seed):
        """Shuffled train batches; no eval batches (`evaluate` runs on the
        host over the whole eval set)."""
        del eval_batch_size
        ds = tf.data.Dataset.from_tensor_slices(self.train)
        train = (
            ds.shuffle(len(self.train[1]), seed=seed)
            .repeat()
            .batch(batch_size, drop_remainder=True)
        )
        return task_lib.TaskData(train=task_lib.named_batches(train))

    def build_model(self):
        return self.model_kind.build(
            self.input_dim, self.output_dim, self.width
        )

    def per_example_loss(self, targets, outputs, inputs):
        del inputs
        outputs = tf.cast(outputs, tf.float32)
        return tf.reduce_mean(tf.square(targets - outputs), axis=-1)

    def update_metrics(self, metrics, targets, outputs, info=None):
        del metrics, targets, outputs, info  # MSE is the loss.

    def evaluate(self, model, batch_size):
        inputs, targets = self.eval
        outputs = np.concatenate(
            [
                np.asarray(
                    model(
                        {k: v[i : i + batch_size] for k, v in inputs.items()},
                        training=False,
                    ),
                    np.float64,
                )
                for i in range(0, len(targets), batch_size)
            ]
        )
        mse = float(np.mean((outputs - targets) ** 2))
        return {
            "loss": mse,
            "mse": mse,
            "target_variance": self.target_variance,
            "normalized_mse": mse / self.target_variance,
        }

    def hparams(self):
        return {
            "target_function": self.target_name,
            "input_dim": self.input_dim,
            "model": self.model_name,
            "width": self.width,
            "parameters": self.parameters,
        }
