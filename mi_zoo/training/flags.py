"""The engine's absl flags, shared by every experiment binary.

Importing this module defines the flags once per process; a binary adds its
own flags and, in `train_and_report`:

    strategy = flags.make_strategy()   # first: splits the CPU if asked
    results = trainer.train(task, flags.train_config(), strategy,
                            settings=flags.settings(sys.modules[__name__]))

then `main = flags.main_calling(train_and_report)` and an entry point
`run()` that calls `flags.run_binary(main, DEFAULTS)`.
"""

import contextlib
import os
import sys
import traceback

from absl import app
from absl import flags

from mi_zoo.training import checkpoints
from mi_zoo.training import optimization
from mi_zoo.training import run_directory
from mi_zoo.training import strategies
from mi_zoo.training import trainer

_MODEL_DIR = flags.DEFINE_string(
    "model_dir", None,
    "Run directory: checkpoints, TensorBoard logs (point `tensorboard "
    "--logdir` here), flags.json, results.json and the exported model. A "
    "run started again with the same flags resumes from its last "
    "checkpoint.")
_STRATEGY = flags.DEFINE_enum(
    "strategy", "auto", strategies.STRATEGY_NAMES,
    "tf.distribute strategy. auto: mirrored over all GPUs when there are "
    "several, else one device; mirrored: all GPUs, or the --cpu_replicas "
    "logical CPUs; multi_worker: MultiWorkerMirroredStrategy over the "
    "cluster in TF_CONFIG; tpu: TPUStrategy.")
_CPU_REPLICAS = flags.DEFINE_integer(
    "cpu_replicas", 1,
    "Split the CPU into this many logical devices, so that "
    "--strategy=mirrored trains that many replicas without a GPU.",
    lower_bound=1)
_TRAIN_STEPS = flags.DEFINE_integer("train_steps", 1000,
                                    "Optimizer steps.", lower_bound=1)
_BATCH_SIZE = flags.DEFINE_integer(
    "batch_size", 64,
    "Global batch size (split over replicas and workers).", lower_bound=1)
_EVAL_BATCH_SIZE = flags.DEFINE_integer(
    "eval_batch_size", None, "Global evaluation batch (default: "
    "--batch_size).", lower_bound=1)
_OPTIMIZER = flags.DEFINE_enum("optimizer", "adam",
                               optimization.OPTIMIZER_NAMES, "Optimizer.")
_LEARNING_RATE = flags.DEFINE_float("learning_rate", 1e-3,
                                    "Peak learning rate.", lower_bound=0.0)
_WARMUP_STEPS = flags.DEFINE_integer(
    "warmup_steps", 0, "Steps of linear learning-rate warm-up.",
    lower_bound=0)
_DECAY = flags.DEFINE_enum("decay", "constant", optimization.DECAYS,
                           "Learning-rate decay after the warm-up.")
_DECAY_STEPS = flags.DEFINE_integer(
    "decay_steps", None, "Length of the cosine/linear decay, or period of "
    "the exponential one (default: the steps after the warm-up).",
    lower_bound=1)
_DECAY_RATE = flags.DEFINE_float(
    "decay_rate", 0.5, "Factor of the exponential decay per --decay_steps.",
    lower_bound=0.0, upper_bound=1.0)
_CLIP_NORM = flags.DEFINE_float(
    "clip_norm", None, "Clip gradients to this global norm.",
    lower_bound=0.0)
_MIXED_PRECISION = flags.DEFINE_bool(
    "mixed_precision", False,
    "Compute in float16 (GPU, with loss scaling) or bfloat16 (CPU/TPU); "
    "variables stay float32.")
_JIT_COMPILE = flags.DEFINE_bool(
    "jit_compile", False, "Compile the forward and backward pass with XLA.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the weights, dropout and "
                             "data order.", lower_bound=0)
_DETERMINISTIC = flags.DEFINE_bool(
    "deterministic", False, "Deterministic TensorFlow ops (slower): the "
    "same seed gives the same numbers, also across a resume.")
_LOG_EVERY = flags.DEFINE_integer(
    "log_every", 50, "Steps between train scalars and progress lines.",
    lower_bound=1)
_EVAL_EVERY = flags.DEFINE_integer(
    "eval_every", 500, "Steps between evaluations (0: only at the end).",
    lower_bound=0)
_CHECKPOINT_EVERY = flags.DEFINE_integer(
    "checkpoint_every", 200, "Steps between checkpoints: a killed run loses "
    "at most this many steps.", lower_bound=1)
_HISTOGRAM_EVERY = flags.DEFINE_integer(
    "histogram_every", 500, "Steps between weight and gradient histograms "
    "(0: never).", lower_bound=0)
_IMAGE_EVERY = flags.DEFINE_integer(
    "image_every", 500, "Steps between image summaries (0: only at the "
    "end).", lower_bound=0)
_KEEP_CHECKPOINTS = flags.DEFINE_integer(
    "keep_checkpoints", 3, "Checkpoints kept on disk.", lower_bound=1)
_PRECISE_BN_BATCHES = flags.DEFINE_integer(
    "precise_bn_batches", 0,
    "Before each evaluation and the export, recompute the batch norms' "
    "moving statistics over this many train batches with the current "
    "weights (precise BN); 0: keep training's moving averages.",
    lower_bound=0)
_OVERWRITE = flags.DEFINE_bool(
    "overwrite", False, "Delete an earlier run's files in --model_dir "
    "(only a run's own: flags.json, checkpoints/, train/, eval/, "
    "results.json, model.keras, saved_model/ and the binary's outputs; a "
    "folder holding anything else is refused) and train again. Without it "
    "a finished run is refused, unless a larger --train_steps extends it.")
_EXPORT = flags.DEFINE_bool(
    "export", True, "Write model.keras and a SavedModel at the end.")


def make_strategy():
    """The strategy of --strategy and --cpu_replicas (call before any TF
    op)."""
    return strategies.make_strategy(_STRATEGY.value, _CPU_REPLICAS.value)


def train_config(**overrides) -> trainer.TrainConfig:
    """The `TrainConfig` of the flags; `overrides` replace flag values (a
    binary's own defaults, say)."""
    values = {
        "model_dir": _MODEL_DIR.value,
        "train_steps": _TRAIN_STEPS.value,
        "batch_size": _BATCH_SIZE.value,
        "eval_batch_size": _EVAL_BATCH_SIZE.value,
        "optimizer": _OPTIMIZER.value,
        "learning_rate": _LEARNING_RATE.value,
        "warmup_steps": _WARMUP_STEPS.value,
        "decay": _DECAY.value,
        "decay_steps": _DECAY_STEPS.value,
        "decay_rate": _DECAY_RATE.value,
        "clip_norm": _CLIP_NORM.value,
        "mixed_precision": _MIXED_PRECISION.value,
        "jit_compile": _JIT_COMPILE.value,
        "seed": _SEED.value,
        "deterministic": _DETERMINISTIC.value,
        "log_every": _LOG_EVERY.value,
        "eval_every": _EVAL_EVERY.value,
        "checkpoint_every": _CHECKPOINT_EVERY.value,
        "histogram_every": _HISTOGRAM_EVERY.value,
        "image_every": _IMAGE_EVERY.value,
        "keep_checkpoints": _KEEP_CHECKPOINTS.value,
        "precise_bn_batches": _PRECISE_BN_BATCHES.value,
        "overwrite": _OVERWRITE.value,
        "export": _EXPORT.value,
    }
    values.update(overrides)
    if not values["model_dir"]:
        raise app.UsageError("--model_dir is required: the run directory "
                             "for checkpoints, TensorBoard logs and "
                             "results.")
    return trainer.TrainConfig(**values)


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


def main_calling(train_and_report):
    """The `main(argv)` of a binary: refuses extra arguments, then calls
    `train_and_report()` (whose results it does not return: `app.run`
    would pass them to `sys.exit`). Errors propagate; `run_binary` turns
    those the user can fix into one line."""

    def main(argv):
        if len(argv) > 1:
            raise app.UsageError(f"Unexpected arguments: {argv[1:]}. Flags "
                                 f"are written --name=value.")
        train_and_report()

    return main


#: Errors a user can fix when mi_zoo's own checks raise them: a bad value,
#: a missing or malformed file, a refused model_dir.
_USER_ERRORS = (ValueError, OSError, run_directory.RunDirectoryError,
                checkpoints.CheckpointError)
#: Errors that are the user's to fix wherever they are raised.
_FILE_ERRORS = (FileNotFoundError, NotADirectoryError, IsADirectoryError,
                PermissionError)


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
