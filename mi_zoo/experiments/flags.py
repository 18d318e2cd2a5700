"""The engine's absl flags, shared by every experiment binary, made from
the fields of `mi_zoo.training.trainer.TrainConfig` (one default and one
help per setting, in the dataclass) plus the strategy flags.

Importing this module defines the flags once per process; a binary adds its
own flags and, in `train_and_report`:

    task, results = flags.train_task(make_task, settings)

(the strategy first, which splits the CPU if asked, then the task, then
`trainer.train` with the `TrainConfig` of the flags), then its `main(argv)`
and console-script entry point:

    main, run = flags.entry_points(train_and_report, DEFAULTS)

(`common_flags.entry_points(train_and_report, DEFAULTS, SHARED_FLAGS)` for
a binary that reads the shared flags).
"""

import dataclasses
import os
import sys

from absl import app
from absl import flags

from mi_zoo.training import strategies
from mi_zoo.training import trainer

# Every binary's main, entry point and one-line user errors (re-exported:
# the binaries and mi_zoo.training.flags import them from here).
from mi_zoo.training.binaries import as_flag_message  # noqa: F401
from mi_zoo.training.binaries import is_user_error  # noqa: F401
from mi_zoo.training.binaries import main_calling  # noqa: F401
from mi_zoo.training.binaries import parse_flags  # noqa: F401
from mi_zoo.training.binaries import run_binary  # noqa: F401
from mi_zoo.training.binaries import set_defaults  # noqa: F401
from mi_zoo.training.binaries import user_error_exit  # noqa: F401

_STRATEGY = flags.DEFINE_enum(
    "strategy",
    "auto",
    strategies.STRATEGY_NAMES,
    "tf.distribute strategy. auto: mirrored over all GPUs when there are "
    "several, else one device; mirrored: all GPUs, or the --cpu_replicas "
    "logical CPUs; multi_worker: MultiWorkerMirroredStrategy over the "
    "cluster in TF_CONFIG; tpu: TPUStrategy.",
)
_CPU_REPLICAS = flags.DEFINE_integer(
    "cpu_replicas",
    1,
    "Split the CPU into this many logical devices, so that "
    "--strategy=mirrored trains that many replicas without a GPU.",
    lower_bound=1,
)


def define_config_flags(config_class, flag_values=flags.FLAGS):
    """Defines one absl flag per field of the dataclass `config_class`,
    with the field's default, and its metadata's `help`, `lower_bound`,
    `upper_bound` and `choices`; returns {field name: FlagHolder}.
    A field without a default gets a flag defaulting to None (the config
    refuses None where it needs a value)."""
    holders = {}
    for field in dataclasses.fields(config_class):
        meta = field.metadata
        default = (
            None if field.default is dataclasses.MISSING else field.default
        )
        kind = trainer.field_type(field)
        bounds = {
            k: meta[k] for k in ("lower_bound", "upper_bound") if k in meta
        }
        args = (field.name, default, meta.get("help", ""))
        if meta.get("choices") is not None:
            holder = flags.DEFINE_enum(
                *args[:2],
                list(meta["choices"]),
                args[2],
                flag_values=flag_values,
            )
        elif kind is bool:
            holder = flags.DEFINE_bool(*args, flag_values=flag_values)
        elif kind is int:
            holder = flags.DEFINE_integer(
                *args, flag_values=flag_values, **bounds
            )
        elif kind is float:
            holder = flags.DEFINE_float(
                *args, flag_values=flag_values, **bounds
            )
        elif kind is str:
            holder = flags.DEFINE_string(*args, flag_values=flag_values)
        else:
            raise TypeError(
                f"{config_class.__name__}.{field.name}: no flag "
                f"type for {field.type!r}."
            )
        holders[field.name] = holder
    return holders


_CONFIG_FLAGS = define_config_flags(trainer.TrainConfig)


def make_strategy():
    """The strategy of --strategy and --cpu_replicas (call before any TF
    op)."""
    return strategies.make_strategy(_STRATEGY.value, _CPU_REPLICAS.value)


def train_config(**overrides) -> trainer.TrainConfig:
    """The `TrainConfig` of the flags; `overrides` replace flag values (a
    binary's own defaults, say). A value the config refuses is a usage
    error naming its flag."""
    values = {name: holder.value for name, holder in _CONFIG_FLAGS.items()}
    values.update(overrides)
    try:
        return trainer.TrainConfig(**values)
    except trainer.ConfigError as e:
        raise app.UsageError(as_flag_message(e)) from None


def settings(binary) -> dict:
    """{flag name: value} of every engine flag and every flag of `binary`
    (the binary's module), for flags.json and the TensorBoard settings."""
    names = {__name__, binary.__name__}
    files = {os.path.abspath(binary.__file__)}
    values = {}
    for module, module_flags in flags.FLAGS.flags_by_module_dict().items():
        if module in names or os.path.abspath(module) in files:
            for flag in module_flags:
                values[flag.name] = flag.value
    return values


def train_task(make_task, settings):
    """Trains the task of a binary as the flags say.

    Makes the strategy of the flags first (it splits the CPU if asked,
    before any TF op), then `make_task()`, then runs `trainer.train` with
    the `TrainConfig` of the flags.

    Args:
      make_task: () -> the binary's `Task`.
      settings: task -> {name: value}, the run's settings (flags.json and
        the TensorBoard settings).

    Returns:
      (task, the engine's results).
    """
    strategy = make_strategy()
    task = make_task()
    results = trainer.train(
        task, train_config(), strategy, settings=settings(task)
    )
    return task, results


def entry_points(train_and_report, defaults, before_run=None):
    """The `main(argv)` and the console-script `run()` of a binary.

    Args:
      train_and_report: () -> results, the binary's work, defined in the
        binary's module.
      defaults: {engine flag name: the binary's default} (`run_binary`).
      before_run: None, or binary module -> None, called first by `run`
        (`common_flags.entry_points` gives the shared flags their meaning
        there).

    Returns:
      (main, run): `main_calling(train_and_report)`, and the entry point
      that calls `before_run` and runs `main` with `run_binary`.
    """
    main = main_calling(train_and_report)
    binary = sys.modules[train_and_report.__module__]

    def run():
        """The binary's entry point (its console script, `python -m`)."""
        if before_run is not None:
            before_run(binary)
        run_binary(main, defaults)

    return main, run
