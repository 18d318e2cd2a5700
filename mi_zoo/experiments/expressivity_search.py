"""The width search of the expressivity experiment: the smallest width of a
model that fits a target below the error threshold, one engine run per width.

- `search_width`: doubling then bisection of the width until a `run(width)`
  reaches the threshold (assumes the error falls with the width).
- `train_width`: one engine run of an `ExpressivityTask` (reusing a finished
  run's results.json).
- `run_search`: `search_width` over `train_width` runs, written to
  search.json.

Used by the binary `mi_zoo.experiments.expressivity` and by
benchmarks/expressivity_results.py. (Moved from `mi_zoo.tasks.expressivity`,
which, on a lower floor, cannot re-export them.)
"""

import dataclasses
import json
import os
from typing import Callable
from typing import Dict
from typing import Optional
from typing import Tuple

from mi_zoo.core import validation
from mi_zoo.models.expressivity import get_model_kind
from mi_zoo.tasks.expressivity import MSE_THRESHOLD
from mi_zoo.tasks.expressivity import ExpressivityTask
from mi_zoo.tasks.expressivity import get_target
from mi_zoo.training import trainer


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


def search_width(
    run: Callable[[int], float],
    smallest: int,
    largest: int,
    threshold: float = MSE_THRESHOLD,
    tolerance: float = 0.25,
) -> SearchResult:
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
        raise ValueError(
            f"`largest` must be >= `smallest`, got "
            f"largest={largest}, smallest={smallest}."
        )
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
        1, tolerance * failing
    ):
        mid = (failing + passing) // 2
        if passes(mid):
            passing = mid
        else:
            failing = mid
    return SearchResult(True, passing, tried, largest)


def train_width(
    target_function: str,
    input_dim: int,
    model_kind: str,
    width: int,
    config,
    strategy=None,
    settings=None,
    train_examples: int = 16384,
    eval_examples: int = 4096,
    data_seed: int = 0,
    train_fn=None,
    interactive=None,
) -> Dict[str, object]:
    """Trains one configuration with the engine in `config.model_dir`
    (reusing its results.json when the run is finished); returns the
    results with "width", "target_variance" and "parameters"."""
    path = os.path.join(config.model_dir, "results.json")
    task = ExpressivityTask(
        target_function,
        input_dim,
        model_kind,
        width,
        train_examples,
        eval_examples,
        data_seed,
    )
    if os.path.exists(path) and not config.overwrite:
        with open(path) as f:
            results = json.load(f)
    else:
        results = (train_fn or trainer.train)(
            task, config, strategy, settings=settings, interactive=interactive
        )
    results = dict(results)
    results.update(width=task.width, target_variance=task.target_variance)
    return results


def run_search(
    target_function: str,
    input_dim: int,
    model_kind: str,
    make_config: Callable[[str], object],
    model_dir: str,
    threshold: float = MSE_THRESHOLD,
    tolerance: float = 0.25,
    width_range: Optional[Tuple[int, int]] = None,
    **train_kwargs,
) -> Dict[str, object]:
    """`search_width` over fresh engine runs in `<model_dir>/width_<w>`
    (`make_config(sub_dir)` gives each run's TrainConfig); returns a
    JSON-able summary, also written to `<model_dir>/search.json`."""
    kind = get_model_kind(model_kind)
    k = get_target(target_function).output_dim(input_dim)
    smallest, largest = width_range or kind.width_range(input_dim)
    runs: Dict[int, Dict[str, object]] = {}

    def run(width):
        sub = os.path.join(model_dir, f"width_{width}")
        runs[width] = train_width(
            target_function,
            input_dim,
            model_kind,
            width,
            make_config(sub),
            **train_kwargs,
        )
        return runs[width]["eval"]["mse"]

    result = search_width(run, smallest, largest, threshold, tolerance)
    variance = next(iter(runs.values()))["target_variance"]
    summary = {
        "target_function": target_function,
        "input_dim": input_dim,
        "model": model_kind,
        "threshold": threshold,
        "target_variance": variance,
        "reached": result.reached,
        "width": result.width,
        "parameters": (
            kind.parameters(input_dim, k, result.width)
            if result.reached
            else None
        ),
        "largest_width": result.largest,
        "largest_parameters": kind.parameters(input_dim, k, result.largest),
        "tried": [
            {
                "width": w,
                "mse": m,
                "parameters": kind.parameters(input_dim, k, w),
            }
            for w, m in sorted(result.tried.items())
        ],
    }
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "search.json"), "w") as f:
        json.dump(summary, f, indent=2)
    return summary
