"""absl binaries: `python -m mi_zoo.experiments.<name> --helpfull`.

Importing this package (which `python -m mi_zoo.experiments.<name>` and the
`mi-zoo-*` console scripts do before TensorFlow is imported) keeps
TensorFlow's and TFDS's log noise out of a run, unless the command line has
absl's `--verbosity=1` (or `-v 1`, or higher), which shows everything again:

  * `TF_CPP_MIN_LOG_LEVEL=3` (only if the environment does not set it): no
    C++ INFO, WARNING or ERROR lines, e.g. "oneDNN supports DT_BOOL only on
    platforms with AVX-512" (logged when a graph transposes a bool tensor)
    or the grappler cost model's "Error in PredictCost()" for the
    CropAndResize op of CLEVR-2D's region features;
  * TensorFlow is imported here, and the two lines that its two native
    libraries write at load time whatever the log level ("WARNING: All log
    messages before absl::InitializeLog() is called ..." and "oneDNN custom
    operations are on ...") are dropped from what the import writes to
    stderr (everything else it writes is passed on);
  * the Python loggers of TensorFlow, TFDS, Keras and TensorBoard show
    warnings and errors only (not "Assets written to ...", the SavedModel
    "unsupported characters" renames, "Constructing tf.data.Dataset ..."),
    and once: absl's handler is installed before TensorFlow, which then does
    not add a second one.

The binaries' own progress lines (absl INFO) are unaffected. The generated
datasets announce their generation in one line of their own (see
`Clevr2d` and `SortOfClevr`).
"""

import importlib
import importlib.util
import logging
import os
import re
import sys
import tempfile

from absl import logging as absl_logging

#: Packages whose Python INFO (and DEBUG) log lines a quiet run hides.
NOISY_PACKAGES = (
    "tensorflow",
    "tensorflow_datasets",
    "keras",
    "tf_keras",
    "tensorboard",
)

#: Lines that TensorFlow's native libraries write while being imported,
#: whatever TF_CPP_MIN_LOG_LEVEL says.
_IMPORT_BANNERS = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|\S+ [\d:.]+ +\d+ port\.cc:\d+\] oneDNN custom operations are on)"
)


def requested_verbosity(argv):
    """The value of absl's --verbosity (-v) flag on `argv`, or None.

    Reads `--verbosity=N`, `--verbosity N`, `-v=N`, `-v N` (one or two
    dashes); the last one wins, as in absl; arguments after `--` are not
    flags. Non-integer values are ignored (absl rejects them later).
    """
    value = None
    args = list(argv[1:])
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            break
        if arg.startswith("-"):
            name, equals, text = arg.lstrip("-").partition("=")
            if name in ("v", "verbosity"):
                if not equals and i + 1 < len(args):
                    i += 1
                    text = args[i]
                try:
                    value = int(text)
                except ValueError:
                    pass
        i += 1
    return value


def is_quiet(argv=None) -> bool:
    """Whether a run with `argv` (default: sys.argv) keeps the noise out:
    unless --verbosity is 1 or more."""
    verbosity = requested_verbosity(sys.argv if argv is None else argv)
    return verbosity is None or verbosity < 1


class _NoisyInfoFilter(logging.Filter):
    """Drops records below WARNING logged from a file of NOISY_PACKAGES
    (TensorFlow logs through absl's logger as well as its own)."""

    def __init__(self):
        super().__init__()
        self._folders = None

    def folders(self):
        if self._folders is None:
            folders = []
            for name in NOISY_PACKAGES:
                try:
                    spec = importlib.util.find_spec(name)
                except (ImportError, ValueError):
                    spec = None
                for folder in spec and spec.submodule_search_locations or ():
                    folders.append(os.path.join(os.path.realpath(folder), ""))
            self._folders = tuple(folders)
        return self._folders

    def filter(self, record):
        if record.levelno >= logging.WARNING:
            return True
        path = os.path.realpath(record.pathname or "")
        return not path.startswith(self.folders())


def _import_tensorflow_without_banners():
    """Imports TensorFlow with file descriptor 2 sent to a temporary file,
    then writes back to stderr all it received except `_IMPORT_BANNERS`."""
    if "tensorflow" in sys.modules:
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        importlib.import_module("tensorflow")
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            importlib.import_module("tensorflow")
        finally:
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [
                line
                for line in captured.read().splitlines(keepends=True)
                if not _IMPORT_BANNERS.match(line)
            ]
            data = b"".join(kept)
            while data:
                data = data[os.write(2, data) :]


def quiet_logs():
    """Keeps TensorFlow's and TFDS's log noise out of this process (see the
    module docstring); call before TensorFlow is imported. Values already
    in the environment are kept."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    tf_logger = logging.getLogger("tensorflow")
    if tf_logger.level == logging.NOTSET:
        tf_logger.setLevel(logging.WARNING)
    noisy = _NoisyInfoFilter()
    for logger in (absl_logging.get_absl_logger(), tf_logger):
        if not any(isinstance(f, _NoisyInfoFilter) for f in logger.filters):
            logger.addFilter(noisy)
    # absl's handler on the root logger now (app.run would add it later):
    # TensorFlow then adds no stderr handler of its own to its logger, which
    # printed each of its warnings twice ("WARNING:tensorflow:..." and
    # absl's "W... file.py:N] ...").
    absl_logging.use_absl_handler()
    try:
        level = int(os.environ["TF_CPP_MIN_LOG_LEVEL"])
    except ValueError:
        level = 0
    if level >= 1:
        _import_tensorflow_without_banners()


if is_quiet():
    quiet_logs()
