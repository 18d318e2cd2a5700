"""Data and model flags shared by the experiment binaries (vqa, matching,
lm).

absl flags live in one process-wide registry, so two binaries imported
together (as in the tests) cannot both define `--dataset`. Each flag is
defined here once; `--dataset`, `--model` and `--num_images` default to None
and each binary resolves None to its own default (`choice`, `value_or`) and
checks names against its own registry (`choice` raises `app.UsageError`
naming the flag and listing the choices).

Each binary states what the shared flags mean for it, and their defaults,
in a {flag name: `Usage`} dict passed to `use` in its `run()`, before
`app.run` (`entry_points` makes that `run()`): its `--help` then lists its
own choices and defaults, and leaves out the shared flags it does not read.
"""

import dataclasses
import os
import sys
from typing import Any
from typing import Mapping
from typing import Optional
from typing import Sequence

from absl import app
from absl import flags

from mi_zoo.experiments import flags as training_flags

SIZES = ("small", "paper")

DATASET = flags.DEFINE_string(
    "dataset",
    None,
    "Dataset of the binary's registry (its --help lists the choices and "
    "its default).",
)
DATA_DIR = flags.DEFINE_string(
    "data_dir",
    None,
    "Where the dataset is read from or built into (see the binary's --help).",
)
DATASET_CONFIG = flags.DEFINE_string(
    "dataset_config",
    None,
    "Builder config of a generated dataset (see the binary's --help).",
)
IMAGE_KIND = flags.DEFINE_enum(
    "image_kind",
    None,
    ["pixels", "regions", "backbone"],
    "Image input (default: the dataset's): raw pixels through a CNN, "
    "region features with boxes, or pixels through a pretrained backbone "
    "inside the model (vqa only).",
)
EVAL_SPLIT = flags.DEFINE_string(
    "eval_split",
    None,
    "Split evaluated (default: the dataset's validation or test split).",
)
MODEL = flags.DEFINE_string(
    "model",
    None,
    "Model of the binary's zoo (its --help lists the choices "
    "and its default).",
)
MODEL_SIZE = flags.DEFINE_enum(
    "model_size",
    "small",
    SIZES,
    "small: the CPU-sized arguments registered with the model; paper: the "
    "sizes of the model's paper.",
)
MODEL_HPARAMS = flags.DEFINE_string(
    "model_hparams",
    "",
    "Builder arguments over those of --model_size, 'name=value,...' (see the "
    "builders in mi_zoo/models/).",
)
TRAIN_LIMIT = flags.DEFINE_integer(
    "train_limit",
    None,
    "Use only the first N training examples.",
    lower_bound=1,
)
EVAL_LIMIT = flags.DEFINE_integer(
    "eval_limit", None, "Evaluate only the first N examples.", lower_bound=1
)
NUM_IMAGES = flags.DEFINE_integer(
    "num_images",
    None,
    "Examples drawn in the TensorBoard image summaries "
    "(default: the binary's own).",
    lower_bound=1,
)

#: The flags of this module, in the order of `settings()`.
SHARED = (
    DATASET,
    DATA_DIR,
    DATASET_CONFIG,
    IMAGE_KIND,
    EVAL_SPLIT,
    MODEL,
    MODEL_SIZE,
    MODEL_HPARAMS,
    TRAIN_LIMIT,
    EVAL_LIMIT,
    NUM_IMAGES,
)


@dataclasses.dataclass(frozen=True)
class Usage:
    """What a shared flag means for one binary.

    Attributes:
      help: the flag's help in the binary's --help: its choices and what its
        default means there (None: the help defined in this module).
      default: the binary's default, made the flag's default so that --help
        shows it (None: the flag keeps its default; say in `help` what the
        binary does then).
    """

    help: Optional[str] = None
    default: Any = None


def use(binary, usages: Mapping[str, Usage]) -> None:
    """Gives the shared flags the meaning they have for `binary`.

    Call it in the binary's `run()`, before `app.run`. Each flag named in
    `usages` gets the binary's help and default, and `--help` lists it with
    the binary's own flags (the key flags of absl's main module,
    `sys.argv[0]`, also under a console script, whose main module is the
    script: it gets the binary's flags and docstring too). The shared flags
    not named are left out of `--help`, and their help (in `--helpfull`)
    says that the binary does not read them.

    Args:
      binary: the binary's module (`sys.modules[__name__]`).
      usages: {shared flag name: `Usage`}.

    Raises:
      ValueError: naming a flag that is not one of `SHARED`.
    """
    names = {holder.name for holder in SHARED}
    unknown = sorted(set(usages) - names)
    if unknown:
        raise ValueError(
            f"Not shared flags: {unknown}; the shared flags "
            f"are {sorted(names)}."
        )
    binary_name = _short_name(binary)
    main = sys.argv[0]
    registry = flags.FLAGS
    for flag in registry.get_key_flags_for_module(binary):
        registry.register_key_flag_for_module(main, flag)
    for holder in SHARED:
        flag = registry[holder.name]
        usage = usages.get(holder.name)
        if usage is None:
            flag.help = f"Not read by {binary_name}."
            continue
        if usage.help is not None:
            flag.help = usage.help
        if usage.default is not None:
            registry.set_default(holder.name, usage.default)
        registry.register_key_flag_for_module(main, flag)
    main_module = sys.modules.get("__main__")
    if (
        main_module is not None
        and main_module is not binary
        and not getattr(main_module, "__doc__", None)
    ):
        main_module.__doc__ = binary.__doc__


def entry_points(train_and_report, defaults, usages: Mapping[str, Usage]):
    """The `main(argv)` and `run()` of a binary that reads shared flags:
    `flags.entry_points` whose `run` first calls `use(binary, usages)`.

    Args:
      train_and_report: () -> results, defined in the binary's module.
      defaults: {engine flag name: the binary's default}.
      usages: {shared flag name: `Usage`}, as for `use`.

    Returns:
      (main, run).
    """
    return training_flags.entry_points(
        train_and_report,
        defaults,
        before_run=lambda binary: use(binary, usages),
    )


def _short_name(module) -> str:
    """ "vqa" for mi_zoo.experiments.vqa, also when it runs as __main__."""
    spec = getattr(module, "__spec__", None)
    if spec is not None:
        return spec.name.rpartition(".")[2]
    if module.__name__ != "__main__":
        return module.__name__.rpartition(".")[2]
    return os.path.splitext(os.path.basename(module.__file__))[0]


def choice(flag, default: str, choices: Sequence[str]) -> str:
    """The flag's value (None: `default`), which must be one of `choices`.

    Raises:
      app.UsageError: naming the flag, echoing the value and listing the
        choices.
    """
    value = default if flag.value is None else flag.value
    if value not in choices:
        raise app.UsageError(
            f"--{flag.name}={value!r} is not one of {sorted(choices)}."
        )
    return value


def value_or(flag, default):
    """The flag's value, or `default` when it is None."""
    return default if flag.value is None else flag.value


def settings() -> dict:
    """{flag name: value} of the flags of this module (for flags.json)."""
    return {holder.name: holder.value for holder in SHARED}


def run_settings(binary, dataset: str, model: str, num_images: int) -> dict:
    """Every flag of a run of `binary` (flags.json, the TensorBoard
    settings): the engine's and the binary's flags (`flags.settings`) and
    the shared flags, with --dataset, --model and --num_images resolved to
    the binary's defaults `dataset`, `model`, `num_images` when unset."""
    values = training_flags.settings(binary)
    values.update(settings())
    values.update(
        dataset=value_or(DATASET, dataset),
        model=value_or(MODEL, model),
        num_images=value_or(NUM_IMAGES, num_images),
    )
    return values
