"""Optimizers and learning-rate schedules with warm-up.

The optimizers are the ones the papers of the zoo trained with: Adam (MI,
BAN, FiLM, DAN), Adamax (BAN's released code), RMSprop (MLB) and SGD with
momentum (language models).

>>> schedule = WarmupSchedule(1e-3, warmup_steps=10, decay="cosine",
...                           decay_steps=100)
>>> [round(float(schedule(s)), 6) for s in (0, 5, 10, 110)]
[0.0001, 0.0006, 0.001, 0.0]
>>> steps = WarmupSchedule(1e-3, warmup_steps=2, decay="step",
...                        decay_rate=0.25, boundaries=(4, 6))
>>> [round(float(steps(s)), 8) for s in (0, 3, 4, 6)]
[0.0005, 0.001, 0.00025, 6.25e-05]
>>> optimizer = make_optimizer("adam", schedule, clip_norm=1.0)
>>> type(optimizer).__name__, optimizer.global_clipnorm
('Adam', 1.0)
"""

import math

import keras
from keras import ops

from mi_zoo.core import registry
from mi_zoo.core import validation

DECAYS = ("constant", "cosine", "linear", "exponential", "step")

OPTIMIZERS = registry.Registry("optimizer")
OPTIMIZERS.register("adam")(keras.optimizers.Adam)
OPTIMIZERS.register("adamax")(keras.optimizers.Adamax)
OPTIMIZERS.register("rmsprop")(keras.optimizers.RMSprop)
OPTIMIZERS.register("sgd")(
    lambda learning_rate, **kw: keras.optimizers.SGD(
        learning_rate, momentum=0.9, **kw
    )
)
OPTIMIZER_NAMES = OPTIMIZERS.names()


@keras.saving.register_keras_serializable(package="mi_zoo")
class WarmupSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up, lr(s) = learning_rate · (s + 1) / warmup_steps for
    s < warmup_steps, then a decay over `decay_steps` steps.

    Decays: "constant" (none), "cosine" (to 0, Loshchilov & Hutter 2017),
    "linear" (to 0), "exponential" (× `decay_rate` every `decay_steps`
    steps, without end) and "step" (× `decay_rate` at each of the
    `boundaries`, global steps counted from 0, warm-up included: the
    multi-step decay of BAN's and block.bootstrap's code).

    Args:
      learning_rate: the peak rate (> 0).
      warmup_steps: steps of linear warm-up (0 for none).
      decay: one of `DECAYS`.
      decay_steps: length of the cosine/linear decay, or the period of the
        exponential one (>= 1; ignored by "constant").
      decay_rate: factor of the exponential and the step decay, in (0, 1].
      boundaries: the "step" decay's steps, strictly increasing ints > 0
        (required by "step", refused by the other decays).
    """

    def __init__(
        self,
        learning_rate,
        warmup_steps=0,
        decay="constant",
        decay_steps=1,
        decay_rate=0.5,
        boundaries=(),
    ):
        if not (isinstance(learning_rate, (int, float)) and learning_rate > 0):
            raise ValueError(
                f"`learning_rate` must be a positive number, "
                f"got learning_rate={learning_rate!r}."
            )
        if not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise ValueError(
                f"`warmup_steps` must be an int >= 0, got "
                f"warmup_steps={warmup_steps!r}."
            )
        validation.check_choice("decay", decay, DECAYS)
        validation.check_positive_int("decay_steps", decay_steps)
        if not 0 < decay_rate <= 1:
            raise ValueError(
                f"`decay_rate` must be in (0, 1], got "
                f"decay_rate={decay_rate!r}."
            )
        boundaries = check_boundaries(boundaries)
        if (decay == "step") != bool(boundaries):
            raise ValueError(
                f"`boundaries` are needed by decay='step' and by no other "
                f"decay, got decay={decay!r} with boundaries={boundaries!r}."
            )
        self.learning_rate = float(learning_rate)
        self.warmup_steps = warmup_steps
        self.decay = decay
        self.decay_steps = decay_steps
        self.decay_rate = float(decay_rate)
        self.boundaries = boundaries

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warm = float(self.warmup_steps)
        warmup = self.learning_rate * (step + 1.0) / max(warm, 1.0)
        t = ops.maximum(step - warm, 0.0)  # steps since the warm-up
        fraction = ops.minimum(t / float(self.decay_steps), 1.0)
        if self.decay == "constant":
            decayed = ops.convert_to_tensor(self.learning_rate, "float32")
        elif self.decay == "cosine":
            decayed = (
                self.learning_rate * 0.5 * (1.0 + ops.cos(math.pi * fraction))
            )
        elif self.decay == "linear":
            decayed = self.learning_rate * (1.0 - fraction)
        elif self.decay == "exponential":
            decayed = self.learning_rate * ops.power(
                self.decay_rate, t / float(self.decay_steps)
            )
        else:  # step: one factor per boundary reached
            passed = ops.sum(
                ops.cast(
                    step >= ops.convert_to_tensor(self.boundaries, "float32"),
                    "float32",
                )
            )
            decayed = self.learning_rate * ops.power(self.decay_rate, passed)
        return ops.where(step < warm, warmup, decayed)

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "warmup_steps": self.warmup_steps,
            "decay": self.decay,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "boundaries": list(self.boundaries),
        }


def check_boundaries(boundaries):
    """`boundaries` as a tuple of strictly increasing ints > 0.

    Raises:
      ValueError: naming the received value otherwise.
    """
    values = tuple(boundaries)
    if not all(
        isinstance(b, int) and not isinstance(b, bool) and b > 0
        for b in values
    ) or any(a >= b for a, b in zip(values, values[1:])):
        raise ValueError(
            f"`boundaries` must be strictly increasing ints > "
            f"0, got boundaries={boundaries!r}."
        )
    return values


def parse_boundaries(text):
    """ "10,12" -> (10, 12): the "step" decay's boundaries written as a flag
    value (None or "" -> ()).

    Raises:
      ValueError: naming the received text when an item is not an int or
        the steps do not increase.
    """
    if not text:
        return ()
    try:
        values = tuple(int(item) for item in text.split(","))
    except ValueError:
        raise ValueError(
            f"`decay_boundaries` must be comma-separated steps, "
            f"e.g. '17340,20808', got decay_boundaries="
            f"{text!r}."
        ) from None
    try:
        return check_boundaries(values)
    except ValueError:
        raise ValueError(
            f"`decay_boundaries` must be strictly increasing steps > 0, got "
            f"decay_boundaries={text!r}."
        ) from None


def make_optimizer(name, learning_rate, clip_norm=None, loss_scale=False):
    """The optimizer called `name`.

    Args:
      name: one of `OPTIMIZER_NAMES`.
      learning_rate: a float or a `LearningRateSchedule`.
      clip_norm: clip the gradients to this global norm (None: no clipping).
      loss_scale: wrap in `keras.optimizers.LossScaleOptimizer` (dynamic
        loss scaling, needed with float16 mixed precision).

    Raises:
      ValueError: on an unknown name or a non-positive clip_norm.
    """
    validation.check_choice("optimizer", name, OPTIMIZER_NAMES)
    if clip_norm is not None and not clip_norm > 0:
        raise ValueError(
            f"`clip_norm` must be > 0 or None, got clip_norm={clip_norm!r}."
        )
    kwargs = {} if clip_norm is None else {"global_clipnorm": clip_norm}
    optimizer = OPTIMIZERS.build(name, learning_rate=learning_rate, **kwargs)
    if loss_scale:
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
