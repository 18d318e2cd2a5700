"""The model zoo of the multitask regression experiment (Jayakumar et al.,
ICLR 2020, §5): one network for T scalar regression tasks, conditioned on
the task's one-hot context z by one of `CONDITIONINGS`.

    x [B, 1] -> Dense(n, relu) -> CONTEXT_BLOCK(n -> k, z) -> relu
             -> Dense(1)

`build_model` builds it, `parameter_count` counts its parameters in closed
form and `choose_widths` picks the widths n, k that match a parameter
budget. `mi_zoo.tasks.multitask_regression.MultitaskRegressionTask` trains
it (its module docstring lists the conditionings).
"""

import dataclasses
from typing import Callable
from typing import Tuple

import keras
import numpy as np

from mi_zoo import layers as mi_layers
from mi_zoo.core import registry as registry_lib
from mi_zoo.core import validation


@dataclasses.dataclass(frozen=True)
class Conditioning:
    """A conditioned hidden layer n -> k on context size m.

    Attributes:
      make: (k, rank) -> a callable (h, z) -> [B, k] of Keras layers.
      parameters: (n, m, k, rank) -> its exact parameter count.
    """

    make: Callable
    parameters: Callable


CONDITIONINGS = registry_lib.Registry("conditioning")


def _then(first, second):
    return lambda h, z: second(first(h), z)


@CONDITIONINGS.register("concat")
def concat():
    return Conditioning(
        make=lambda k, r: mi_layers.ConcatLinear(k, name="context"),
        parameters=lambda n, m, k, r: (n + m) * k + k,
    )


@CONDITIONINGS.register("conditional_bias")
def conditional_bias():
    return Conditioning(
        make=lambda k, r: mi_layers.ConditionalBias(k, name="context"),
        parameters=lambda n, m, k, r: n * k + m * k + k,
    )


@CONDITIONINGS.register("conditional_scaling")
def conditional_scaling():
    return Conditioning(
        make=lambda k, r: _then(
            keras.layers.Dense(k, name="context_linear"),
            mi_layers.ConditionalScaling(name="context"),
        ),
        parameters=lambda n, m, k, r: n * k + k + m * k + k,
    )


@CONDITIONINGS.register("film")
def film():
    return Conditioning(
        make=lambda k, r: _then(
            keras.layers.Dense(k, name="context_linear"),
            mi_layers.FiLM(name="context"),
        ),
        parameters=lambda n, m, k, r: n * k + k + 2 * (m * k + k),
    )


@CONDITIONINGS.register("mi_full")
def mi_full():
    return Conditioning(
        make=lambda k, r: mi_layers.MultiplicativeInteraction(
            k, form="full", name="context"
        ),
        parameters=lambda n, m, k, r: m * n * k + m * k + n * k + k,
    )


@CONDITIONINGS.register("mi_low_rank")
def mi_low_rank():
    return Conditioning(
        make=lambda k, r: mi_layers.MultiplicativeInteraction(
            k, form="low_rank", rank=r, name="context"
        ),
        parameters=lambda n, m, k, r: (
            m * r + n * r + r * k + m * k + n * k + k
        ),
    )


def parameter_count(
    conditioning: str,
    num_tasks: int,
    first_width: int,
    width: int,
    rank: int = 8,
) -> int:
    """Exact parameters of `build_model` (closed form): Dense(1 -> n),
    the context block n -> k and Dense(k -> 1)."""
    block = CONDITIONINGS.build(conditioning).parameters(
        first_width, num_tasks, width, rank
    )
    return 2 * first_width + block + width + 1


#: `choose_widths` keeps the first width n within this factor of k.
WIDTH_RATIO = 1.25


def choose_widths(
    conditioning: str, num_tasks: int, parameter_budget: int, rank: int = 8
) -> Tuple[int, int]:
    """(n, k): the widths whose parameter count is closest to the budget,
    with k/1.25 <= n <= 1.25 k (two widths make the match fine-grained: a
    single width of the full MI moves the count by ~2T·k per step). Ties
    go to n closest to k, then to the larger k.

    Raises:
      ValueError: if even n = k = 1 is over the budget by more than 2x.
    """
    CONDITIONINGS.get(conditioning)
    validation.check_positive_int("parameter_budget", parameter_budget)
    validation.check_positive_int("num_tasks", num_tasks)
    validation.check_positive_int("rank", rank)
    smallest = parameter_count(conditioning, num_tasks, 1, 1, rank)
    if smallest > 2 * parameter_budget:
        raise ValueError(
            f"parameter_budget={parameter_budget} is too small for "
            f"conditioning={conditioning!r} with num_tasks={num_tasks}: the "
            f"smallest model (widths 1) has {smallest} parameters."
        )
    best, best_key = (1, 1), None
    k = 1
    while True:
        low = max(1, int(np.ceil(k / WIDTH_RATIO)))
        if (
            parameter_count(conditioning, num_tasks, low, k, rank)
            > 2 * parameter_budget
        ):
            break
        for n in range(low, int(np.floor(k * WIDTH_RATIO)) + 1):
            count = parameter_count(conditioning, num_tasks, n, k, rank)
            key = (abs(count - parameter_budget), abs(n - k), -k)
            if best_key is None or key < best_key:
                best, best_key = (n, k), key
        k += 1
    return best


def build_model(
    conditioning: str,
    num_tasks: int,
    first_width: int,
    width: int,
    rank: int = 8,
) -> keras.Model:
    """The network on {"x": [B, 1], "z": [B, T]} -> [B, 1]: Dense(n, relu),
    the context block n -> k of `CONDITIONINGS[conditioning]`, relu and a
    Dense(1) read-out (n = first_width, k = width)."""
    block = CONDITIONINGS.build(conditioning)
    x = keras.Input((1,), name="x")
    z = keras.Input((num_tasks,), name="z")
    h = keras.layers.Dense(first_width, activation="relu", name="input_layer")(
        x
    )
    h = block.make(width, rank)(h, z)
    h = keras.layers.Activation("relu", name="context_relu")(h)
    y = keras.layers.Dense(1, name="readout")(h)
    return keras.Model({"x": x, "z": z}, y, name=f"multitask_{conditioning}")
