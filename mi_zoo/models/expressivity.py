"""The model zoo of the expressivity experiment (Jayakumar et al., ICLR 2020,
section 3): which models fit a target function of two vectors x, z ∈ R^d.

`MODELS`: "mlp" (Dense(width, relu) then Dense(k) on [x; z]), "mi_full"
(one full-form MI layer; no width), "mi_low_rank" (one low-rank MI layer
of rank = width). Each `ModelKind` builds the Keras model, counts its
parameters in closed form and gives the range of widths searched.
`mi_zoo.tasks.expressivity.ExpressivityTask` trains them;
`mi_zoo.experiments.expressivity_search` searches the width.
"""

import dataclasses
from typing import Callable
from typing import Tuple

import keras

from mi_zoo.core.registry import Registry
from mi_zoo.layers.multiplicative_interaction import MultiplicativeInteraction


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
    return keras.Model(
        {"x": x, "z": z}, keras.layers.Dense(k, name="out")(h), name="mlp"
    )


def _build_mi(form):
    def build(d, k, width):
        x, z = _inputs(d)
        rank = width if form == "low_rank" else None
        y = MultiplicativeInteraction(k, form=form, rank=rank, name="mi")(x, z)
        return keras.Model({"x": x, "z": z}, y, name=f"mi_{form}")

    return build


MODELS.register("mlp")(
    lambda: ModelKind(
        _build_mlp,
        lambda d, k, h: 2 * d * h + h + h * k + k,
        lambda d: (4, 4096),
        "hidden units",
    )
)
MODELS.register("mi_full")(
    lambda: ModelKind(
        _build_mi("full"),
        lambda d, k, w: d * d * k + 2 * d * k + k,
        lambda d: (1, 1),
        "-",
    )
)
MODELS.register("mi_low_rank")(
    lambda: ModelKind(
        _build_mi("low_rank"),
        lambda d, k, r: 2 * d * r + r * k + 2 * d * k + k,
        lambda d: (1, 2 * d),
        "rank",
    )
)


def get_model_kind(name: str) -> ModelKind:
    return MODELS.build(name)


def parameter_count(
    model_kind: str, input_dim: int, output_dim: int, width: int
) -> int:
    """Parameters of `MODELS[model_kind]` (equal to its count_params())."""
    return get_model_kind(model_kind).parameters(input_dim, output_dim, width)
