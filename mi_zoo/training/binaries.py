"""What every absl binary of mi_zoo shares: its `main(argv)` and entry
point, and one `error: <message>` line on stderr for an error the user can
fix (a bad flag, a missing file, a refused run directory) instead of a
traceback.

The training binaries (`mi_zoo.experiments`, through
`mi_zoo.experiments.flags`, which re-exports these names) and the tools
below them (`python -m mi_zoo.features.extract`) use it:

    main = binaries.main_calling(extract_and_report)
    binaries.run_binary(main, {})

It lives with the engine because the engine's errors (`RunDirectoryError`,
`CheckpointError`, `ConfigError`) are among those it reports in one line.
"""

import contextlib
import os
import sys
import traceback

from absl import app
from absl import flags

from mi_zoo.training import checkpoints
from mi_zoo.training import run_directory
from mi_zoo.training import trainer


def as_flag_message(error: trainer.ConfigError) -> str:
    """The engine's message about config field `f` in the words of the
    binaries: `--f`."""
    return str(error).replace(f"`{error.field}`", f"--{error.field}")


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
