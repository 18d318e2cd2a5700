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
- `MODELS`: "mlp" (Dense(width, relu) then Dense(k) on [x; z]), "mi_full"
  (one full-form MI layer; no width), "mi_low_rank" (one low-rank MI layer
  of rank = width).
- `ExpressivityTask`: Gaussian train and held-out eval sets generated in
  memory from a seed, per-example MSE (mean over output components), and a
  host-side evaluation reporting `mse` (the absolute MSE compared with the
  threshold, 0.1 in the paper), `target_variance` (the mean variance of a
  target component on the eval set, for scale) and `normalized_mse`.
- `search_width`: doubling then bisection of the width until a `run(width)`
  reaches the threshold (assumes the error falls with the width).

    task = ExpressivityTask("dot", input_dim=8, model_kind="mlp", width=64)
    results = trainer.train(task, trainer.TrainConfig(model_dir=...))
    results["eval"]["mse"]
"""

import dataclasses
import json
import os
from typing import Callable, Dict, List, Optional, Tuple

import keras
import numpy as np
import tensorflow as tf

from mi_zoo.core import validation
from mi_zoo.core.registry import Registry
from mi_zoo.layers.multiplicative_interaction import MultiplicativeInteraction
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
    make_params: Callable[[int, np.random.Generator], object] = (
        lambda d, rng: None)

    def numpy(self, x, z, params=None) -> np.ndarray:
        """The float64 target [N, k] of x, z [N, d]."""
        x = np.asarray(x, np.float64)
        z = np.asarray(z, np.float64)
        return np.asarray(self.fn(x, z, params), np.float64)


TARGETS = Registry("target function")


def _register_target(target: Target):
    TARGETS.register(target.name)(lambda: target)


_register_target(Target("sum", "x + z", lambda d: d,
                        lambda x, z, p: x + z))
_register_target(Target("dot", "xᵀz", lambda d: 1,
                        lambda x, z, p: np.sum(x * z, -1, keepdims=True)))
_register_target(Target("elementwise", "x ∘ z", lambda d: d,
                        lambda x, z, p: x * z))
_register_target(Target(
    "bilinear", "xᵀWz, W ~ N(0, 1/d)", lambda d: 1,
    lambda x, z, w: np.einsum("ni,ij,nj->n", x, w, z)[:, None],
    lambda d, rng: rng.normal(scale=1 / np.sqrt(d), size=(d, d))))


def get_target(name: str) -> Target:
    return TARGETS.build(name)


# ------------------------------------------------------------------ models
@dataclasses.dataclass(frozen=True)
class ModelKind:
    """A model family of `MODELS`.

    Attributes:
      build: (d, k, width) -> keras.Model on {"x": [B, d], "z": [B, d]}.
      parameters: (d, k, width) -> its parameter count (closed form).
      width_range: d -> (smallest, largest) width searched; (1, 1) when the
        model has no width.
      width_name: what the width is ("hidden units", "rank", "-").
    """

    build: Callable[[int, int, int], keras.Model]
    parameters: Callable[[int, int, int], int]
    width_range: Callable[[int], Tuple[int, int]]
    width_name: str

    @property
    def searchable(self) -> bool:
        return self.width_range(2) != (1, 1)


MODELS = Registry("expressivity model")


def _inputs(d):
    return (keras.Input((d,), name="x"), keras.Input((d,), name="z"))


def _build_mlp(d, k, width):
    x, z = _inputs(d)
    h = keras.layers.Concatenate()([x, z])
    h = keras.layers.Dense(width, activation="relu", name="hidden")(h)
    return keras.Model({"x": x, "z": z}, keras.layers.Dense(k, name="out")(h),
                       name="mlp")


def _build_mi(form):
    def build(d, k, width):
        x, z = _inputs(d)
        rank = width if form == "low_rank" else None
        y = MultiplicativeInteraction(k, form=form, rank=rank,
                                      name="mi")(x, z)
        return keras.Model({"x": x, "z": z}, y, name=f"mi_{form}")
    return build


MODELS.register("mlp")(lambda: ModelKind(
    _build_mlp, lambda d, k, h: 2 * d * h + h + h * k + k,
    lambda d: (4, 4096), "hidden units"))
MODELS.register("mi_full")(lambda: ModelKind(
    _build_mi("full"), lambda d, k, w: d * d * k + 2 * d * k + k,
    lambda d: (1, 1), "-"))
MODELS.register("mi_low_rank")(lambda: ModelKind(
    _build_mi("low_rank"), lambda d, k, r: 2 * d * r + r * k + 2 * d * k + k,
    lambda d: (1, 2 * d), "rank"))


def get_model_kind(name: str) -> ModelKind:
    return MODELS.build(name)


def parameter_count(model_kind: str, input_dim: int, output_dim: int,
                    width: int) -> int:
    """Parameters of `MODELS[model_kind]` (equal to its count_params())."""
    return get_model_kind(model_kind).parameters(input_dim, output_dim, width)


# -------------------------------------------------------------------- data
def make_data(target: Target, input_dim: int, examples: int,
              rng: np.random.Generator, params=None):
    """({"x", "z"} float32 [N, d], targets float32 [N, k]) with
    x, z ~ N(0, I)."""
    x = rng.standard_normal((examples, input_dim))
    z = rng.standard_normal((examples, input_dim))
    y = target.numpy(x, z, params)
    return ({"x": x.astype(np.float32), "z": z.astype(np.float32)},
            y.astype(np.float32))


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

    def __init__(self, target_function: str, input_dim: int,
                 model_kind: str, width: int = 1,
                 train_examples: int = 16384, eval_examples: int = 4096,
                 data_seed: int = 0):
        self.target = get_target(target_function)
        self.model_kind = get_model_kind(model_kind)
        for name, value in (("input_dim", input_dim), ("width", width),
                            ("train_examples", train_examples),
                            ("eval_examples", eval_examples)):
            validation.check_positive_int(name, value)
        self.target_name = target_function
        self.model_name = model_kind
        self.input_dim = input_dim
        self.output_dim = self.target.output_dim(input_dim)
        self.width = width if self.model_kind.searchable else 1
        self.data_seed = data_seed
        rng = np.random.default_rng(data_seed)
        self.params = self.target.make_params(input_dim, rng)
        self.train = make_data(self.target, input_dim, train_examples, rng,
                               self.params)
        self.eval = make_data(self.target, input_dim, eval_examples, rng,
                              self.params)
        self.target_variance = float(np.mean(np.var(self.eval[1], axis=0)))

    @property
    def parameters(self) -> int:
        return self.model_kind.parameters(self.input_dim, self.output_dim,
                                          self.width)

    def train_dataset(self, batch_size, seed):
        ds = tf.data.Dataset.from_tensor_slices(self.train)
        return ds.shuffle(len(self.train[1]), seed=seed).repeat().batch(
            batch_size, drop_remainder=True)

    def build_model(self):
        return self.model_kind.build(self.input_dim, self.output_dim,
                                     self.width)

    def per_example_loss(self, targets, outputs, inputs):
        del inputs
        outputs = tf.cast(outputs, tf.float32)
        return tf.reduce_mean(tf.square(targets - outputs), axis=-1)

    def update_metrics(self, metrics, targets, outputs, info=None):
        del metrics, targets, outputs, info  # MSE is the loss.

    def evaluate(self, model, batch_size):
        inputs, targets = self.eval
        outputs = np.concatenate([
            np.asarray(model({k: v[i:i + batch_size]
                              for k, v in inputs.items()}, training=False),
                       np.float64)
            for i in range(0, len(targets), batch_size)])
        mse = float(np.mean((outputs - targets) ** 2))
        return {"loss": mse, "mse": mse,
                "target_variance": self.target_variance,
                "normalized_mse": mse / self.target_variance}

    def hparams(self):
        return {"target_function": self.target_name,
                "input_dim": self.input_dim, "model": self.model_name,
                "width": self.width, "parameters": self.parameters}


# ------------------------------------------------------------------ search
@dataclasses.dataclass
class SearchResult:
    """The outcome of `search_width`.

    Attributes:
      reached: whether some width reached the threshold.
      width: the smallest width found reaching it (None if not reached).
      tried: {width: mse} of every width run.
      largest: the largest width searched.
    """

    reached: bool
    width: Optional[int]
    tried: Dict[int, float]
    largest: int


def search_width(run: Callable[[int], float], smallest: int, largest: int,
                 threshold: float = MSE_THRESHOLD,
                 tolerance: float = 0.25) -> SearchResult:
    """Smallest width w in [smallest, largest] with run(w) <= threshold.

    Doubles the width from `smallest` (capped at `largest`) until the
    threshold is met, then bisects between the last failing and the first
    passing width until they are within a factor 1 + `tolerance` (or
    adjacent). Assumes run() falls with the width; run() is called at most
    once per width.
    """
    validation.check_positive_int("smallest", smallest)
    validation.check_positive_int("largest", largest)
    if largest < smallest:
        raise ValueError(f"`largest` must be >= `smallest`, got "
                         f"largest={largest}, smallest={smallest}.")
    tried: Dict[int, float] = {}

    def passes(w):
        if w not in tried:
            tried[w] = float(run(w))
        return tried[w] <= threshold

    failing, width = None, smallest
    while not passes(width):
        failing = width
        if width >= largest:
            return SearchResult(False, None, tried, largest)
        width = min(2 * width, largest)
    passing = width
    while failing is not None and passing - failing > max(
            1, tolerance * failing):
        mid = (failing + passing) // 2
        if passes(mid):
            passing = mid
        else:
            failing = mid
    return SearchResult(True, passing, tried, largest)


def train_width(target_function: str, input_dim: int, model_kind: str,
                width: int, config, strategy=None, settings=None,
                train_examples: int = 16384, eval_examples: int = 4096,
                data_seed: int = 0, train_fn=None,
                interactive=None) -> Dict[str, object]:
    """Trains one configuration with the engine in `config.model_dir`
    (reusing its results.json when the run is finished); returns the
    results with "width", "target_variance" and "parameters"."""
    from mi_zoo.training import trainer  # pylint: disable=g-import-not-at-top
    path = os.path.join(config.model_dir, "results.json")
    task = ExpressivityTask(target_function, input_dim, model_kind, width,
                            train_examples, eval_examples, data_seed)
    if os.path.exists(path) and not config.overwrite:
        with open(path) as f:
            results = json.load(f)
    else:
        results = (train_fn or trainer.train)(
            task, config, strategy, settings=settings,
            interactive=interactive)
    results = dict(results)
    results.update(width=task.width, target_variance=task.target_variance)
    return results


def run_search(target_function: str, input_dim: int, model_kind: str,
               make_config: Callable[[str], object], model_dir: str,
               threshold: float = MSE_THRESHOLD, tolerance: float = 0.25,
               width_range: Optional[Tuple[int, int]] = None,
               **train_kwargs) -> Dict[str, object]:
    """`search_width` over fresh engine runs in `<model_dir>/width_<w>`
    (`make_config(sub_dir)` gives each run's TrainConfig); returns a
    JSON-able summary, also written to `<model_dir>/search.json`."""
    kind = get_model_kind(model_kind)
    k = get_target(target_function).output_dim(input_dim)
    smallest, largest = width_range or kind.width_range(input_dim)
    runs: Dict[int, Dict[str, object]] = {}

    def run(width):
        sub = os.path.join(model_dir, f"width_{width}")
        runs[width] = train_width(target_function, input_dim, model_kind,
                                  width, make_config(sub), **train_kwargs)
        return runs[width]["eval"]["mse"]

    result = search_width(run, smallest, largest, threshold, tolerance)
    variance = next(iter(runs.values()))["target_variance"]
    summary = {
        "target_function": target_function, "input_dim": input_dim,
        "model": model_kind, "threshold": threshold,
        "target_variance": variance, "reached": result.reached,
        "width": result.width,
        "parameters": (kind.parameters(input_dim, k, result.width)
                       if result.reached else None),
        "largest_width": result.largest,
        "largest_parameters": kind.parameters(input_dim, k, result.largest),
        "tried": [{"width": w, "mse": m,
                   "parameters": kind.parameters(input_dim, k, w)}
                  for w, m in sorted(result.tried.items())],
    }
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "search.json"), "w") as f:
        json.dump(summary, f, indent=2)
    return summary
