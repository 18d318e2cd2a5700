"""The multitask actor-critic: conv torso -> context layer -> policy, value.

    obs uint8 [B, 7, 7, 3] -> one-hot cells [B, 7, 7, 20]
      -> Conv 2×2 16, relu -> max-pool 2 -> Conv 2×2 32, relu
      -> Conv 2×2 64, relu -> flatten: h [B, 64]
    CONTEXT(h, task id) -> relu -> [B, k]
      -> Dense(7): policy logits;  Dense(1): value

The context layer is chosen by name from `CONTEXTS`:

| name | layer |
|---|---|
| `none` | Dense(k)(h): the task is not given |
| `concat` | `ConcatLinear(k)(h, onehot(task))`: W[h; z] + b |
| `mi` | `MultiplicativeInteraction(k, form="full")(h, onehot(task))` |
| `mi_learned` | the same MI layer with z a learned `Embedding(T, e)(task)` |

`choose_hidden` picks each variant's width k so that the whole model has
about `parameter_budget` parameters, so the variants compare at matched
size (the full MI layer holds (T+1)·(n+1)·k parameters, so its k is the
smallest).

>>> import numpy as np
>>> from mi_zoo.rl import agent
>>> model = agent.build_agent("mi", num_tasks=4, parameter_budget=40000)
>>> logits, value = model([np.zeros((2, 7, 7, 3), np.uint8),
...                        np.array([0, 3], np.int32)])
>>> tuple(logits.shape), tuple(value.shape)
((2, 7), (2,))
>>> abs(model.count_params() - 40000) < 500
True
"""

import dataclasses
from typing import Callable

import keras
from keras import ops

from mi_zoo import layers as mi_layers
from mi_zoo.core import registry
from mi_zoo.rl import suite

#: Values of MiniGrid's three observation channels: object (0-10), colour
#: (0-5), state (0-2); the cell encoding one-hots each.
CHANNEL_SIZES = (11, 6, 3)
TORSO_FEATURES = 64
_CONVS = ((16, 2), (32, 2), (64, 2))  # (filters, kernel) of the torso


@keras.saving.register_keras_serializable(package="mi_zoo")
class _OneHotCells(keras.layers.Layer):
    """uint8 [B, H, W, 3] MiniGrid cells -> float [B, H, W, 20]: the
    one-hot object, colour and state of every cell."""

    def call(self, obs):
        obs = ops.cast(obs, "int32")
        parts = [
            ops.one_hot(obs[..., c], size, dtype=self.compute_dtype)
            for c, size in enumerate(CHANNEL_SIZES)
        ]
        return ops.concatenate(parts, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (sum(CHANNEL_SIZES),)


@dataclasses.dataclass(frozen=True)
class ContextBlock:
    """A context layer of width `units`: `apply(h, task_ids)` -> [B, k]
    and its exact parameter count."""

    apply: Callable
    parameters: int


#: name -> builder(units, num_tasks, features, embedding_dim) ->
#: ContextBlock.
CONTEXTS = registry.Registry("context")


@keras.saving.register_keras_serializable(package="mi_zoo")
class _TaskOneHot(keras.layers.Layer):
    """int task ids [B] -> float one-hot [B, T]."""

    def __init__(self, num_tasks, **kwargs):
        super().__init__(**kwargs)
        self.num_tasks = num_tasks

    def call(self, task_ids):
        return ops.one_hot(
            ops.cast(task_ids, "int32"),
            self.num_tasks,
            dtype=self.compute_dtype,
        )

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.num_tasks,)

    def get_config(self):
        return {**super().get_config(), "num_tasks": self.num_tasks}


@CONTEXTS.register("none")
def _none(units, num_tasks, features, embedding_dim):  # pylint: disable=unused-argument
    def apply(h, task_ids):  # pylint: disable=unused-argument
        return keras.layers.Dense(units, activation="relu", name="context")(h)

    return ContextBlock(apply, (features + 1) * units)


@CONTEXTS.register("concat")
def _concat(units, num_tasks, features, embedding_dim):  # pylint: disable=unused-argument
    def apply(h, task_ids):
        z = _TaskOneHot(num_tasks, name="task_one_hot")(task_ids)
        return mi_layers.ConcatLinear(
            units, activation="relu", name="context"
        )(h, z)

    return ContextBlock(apply, (features + num_tasks + 1) * units)


def _mi_layer(units):
    return mi_layers.MultiplicativeInteraction(
        units, form="full", activation="relu", name="context"
    )


@CONTEXTS.register("mi")
def _mi(units, num_tasks, features, embedding_dim):  # pylint: disable=unused-argument
    def apply(h, task_ids):
        z = _TaskOneHot(num_tasks, name="task_one_hot")(task_ids)
        return _mi_layer(units)(h, z)

    return ContextBlock(apply, (num_tasks + 1) * (features + 1) * units)


@CONTEXTS.register("mi_learned")
def _mi_learned(units, num_tasks, features, embedding_dim):
    def apply(h, task_ids):
        z = keras.layers.Embedding(
            num_tasks, embedding_dim, name="task_embedding"
        )(task_ids)
        return _mi_layer(units)(h, z)

    return ContextBlock(
        apply,
        num_tasks * embedding_dim
        + (embedding_dim + 1) * (features + 1) * units,
    )


def torso_parameters() -> int:
    channels, total = sum(CHANNEL_SIZES), 0
    for filters, kernel in _CONVS:
        total += (kernel * kernel * channels + 1) * filters
        channels = filters
    return total


def head_parameters(units: int) -> int:
    """Policy Dense(7) and value Dense(1) on k features."""
    return (units + 1) * (suite.NUM_ACTIONS + 1)


def parameter_count(
    context: str, num_tasks: int, units: int, embedding_dim: int = 8
) -> int:
    """Exact parameter count of `build_agent(context, ..., hidden=units)`."""
    block = CONTEXTS.build(
        context, units, num_tasks, TORSO_FEATURES, embedding_dim
    )
    return torso_parameters() + block.parameters + head_parameters(units)


def choose_hidden(
    context: str,
    num_tasks: int,
    parameter_budget: int,
    embedding_dim: int = 8,
    max_units: int = 4096,
) -> int:
    """The width k (>= 4) whose model is closest to `parameter_budget`."""
    return min(
        range(4, max_units + 1),
        key=lambda k: abs(
            parameter_count(context, num_tasks, k, embedding_dim)
            - parameter_budget
        ),
    )


def build_agent(
    context: str,
    num_tasks: int,
    parameter_budget: int = 40000,
    hidden: int = None,
    embedding_dim: int = 8,
) -> keras.Model:
    """The actor-critic: inputs [obs uint8 [B, 7, 7, 3], task id int32
    [B]], outputs [logits [B, 7], value [B]].

    Args:
      context: a name of `CONTEXTS`.
      num_tasks: T, the number of task ids.
      parameter_budget: size the context width k to about this many
        parameters (ignored when `hidden` is given).
      hidden: the width k of the context layer (default: from the budget).
      embedding_dim: width of the learned task embedding (mi_learned).
    """
    CONTEXTS.get(context)  # an unknown name raises, listing the known ones
    if hidden is None:
        hidden = choose_hidden(
            context, num_tasks, parameter_budget, embedding_dim
        )
    obs = keras.Input(suite.OBSERVATION_SHAPE, dtype="uint8", name="obs")
    task_ids = keras.Input((), dtype="int32", name="task_id")
    x = _OneHotCells(name="cells")(obs)
    for i, (filters, kernel) in enumerate(_CONVS):
        x = keras.layers.Conv2D(
            filters, kernel, activation="relu", name=f"conv{i}"
        )(x)
        if i == 0:
            x = keras.layers.MaxPooling2D(2, name="pool")(x)
    h = keras.layers.Flatten(name="features")(x)  # [B, 64]
    block = CONTEXTS.build(
        context, hidden, num_tasks, TORSO_FEATURES, embedding_dim
    )
    h = block.apply(h, task_ids)  # [B, k]
    logits = keras.layers.Dense(
        suite.NUM_ACTIONS,
        name="policy",
        kernel_initializer=keras.initializers.Orthogonal(0.01),
    )(h)
    value = keras.layers.Dense(1, name="value")(h)
    value = keras.layers.Reshape((), name="value_squeeze")(value)
    return keras.Model(
        [obs, task_ids], [logits, value], name=f"actor_critic_{context}"
    )
