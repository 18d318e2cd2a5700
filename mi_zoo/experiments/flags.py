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

import contextlib
import dataclasses
import os
import sys
import traceback

from absl import app
from absl import flags

from mi_zoo.training import checkpoints
from mi_zoo.training import run_directory
from mi_zoo.training import strategies
from mi_zoo.training import trainer

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


def as_flag_message(error: trainer.ConfigError) -> str:
    """The engine's message about config field `f` in the words of the
    binaries: `--f`."""
    return str(error).replace(f"`{error.field}`", f"--{error.field}")


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


def main_calling(train_and_report):
    """The `main(argv)` of a binary: refuses extra arguments, then calls
    `train_and_report()` (whose results it does not return: `app.run`
    would pass them to `sys.exit`). Errors propagate; `run_binary` turns
    those the user can fix into one line."""

    def main(argv):
        if len(argv) > 1:
            raise app.UsageError(
                f"Unexpected arguments: {argv[1:]}. Flags "
                f"are written --name=value."
            )
        train_and_report()

    return main


#: Errors a user can fix when mi_zoo's own checks raise them: a bad value,
#: a missing or malformed file, a refused model_dir.
_USER_ERRORS = (
    ValueError,
    OSError,
    run_directory.RunDirectoryError,
    checkpoints.CheckpointError,
)
#: Errors that are the user's to fix wherever they are raised.
_FILE_ERRORS = (
    FileNotFoundError,
    NotADirectoryError,
    IsADirectoryError,
    PermissionError,
)


def is_user_error(error: BaseException) -> bool:
    """Whether `error` is one the user can fix: a usage error, a file that
    is missing or cannot be read, or a `ValueError`/`OSError`/refused run
    raised by mi_zoo's own checks (whose messages name the flag or file and
    the fix). The same types raised inside TensorFlow or Keras are bugs or
    surprises, and keep their traceback."""
    if isinstance(error, (app.UsageError, flags.Error) + _FILE_ERRORS):
        return True
    if not isinstance(error, _USER_ERRORS):
        return False
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and _is_mi_zoo_file(tb.tb_frame.f_code.co_filename)


def _is_mi_zoo_file(path: str) -> bool:
    package = os.path.dirname(os.path.abspath(__file__))  # .../mi_zoo/training
    return os.path.abspath(path).startswith(os.path.dirname(package) + os.sep)


def _fail(error: BaseException, exit_code: int):
    message = " ".join(str(error).split()) or type(error).__name__
    if flags.FLAGS.is_parsed() and flags.FLAGS["verbosity"].value >= 1:
        traceback.print_exception(error)
    print(f"error: {message}", file=sys.stderr)
    sys.exit(exit_code)


@contextlib.contextmanager
def user_error_exit():
    """Turns an error the user can fix (`is_user_error`) into one line,
    `error: <message>` on stderr, and exit status 2 (usage: flags,
    arguments) or 1 (files, the model_dir), without a traceback or the flag
    help (`--verbosity=1` prints the traceback too). Other errors propagate
    with their traceback."""
    try:
        yield
    except Exception as e:  # pylint: disable=broad-except
        if not is_user_error(e):
            raise
        if isinstance(e, trainer.ConfigError):
            e = app.UsageError(as_flag_message(e))
        usage = isinstance(e, (app.UsageError, flags.Error))
        _fail(e, 2 if usage else 1)


def parse_flags(argv):
    """absl's flag parsing (the `flags_parser` of `app.run`), with a bad
    flag reported as one `error:` line and exit status 2 instead of the
    help text."""
    try:
        return flags.FLAGS(argv)
    except flags.Error as e:
        _fail(e, 2)


def run_binary(main, defaults):
    """A binary's entry point: its own defaults for engine flags, then
    `app.run(main)`, with a bad flag or an error the user can fix reported
    in one `error:` line (`parse_flags`, `user_error_exit`)."""
    set_defaults(defaults)

    def main_reporting_user_errors(argv):
        with user_error_exit():
            main(argv)

    app.run(main_reporting_user_errors, flags_parser=parse_flags)


def set_defaults(defaults):
    """Sets a binary's own defaults for engine flags ({name: value}); call
    before `app.run`."""
    for name, value in defaults.items():
        flags.FLAGS.set_default(name, value)
