"""Data and model flags shared by the experiment binaries (vqa, matching).

absl flags live in one process-wide registry, so two binaries imported
together (as in the tests) cannot both define `--dataset`. Each flag is
defined here once; `--dataset`, `--model` and `--num_images` default to None
and each binary resolves None to its own default (`choice`, `value_or`) and
checks names against its own registry (`choice` raises `app.UsageError`
naming the flag and listing the choices).
"""

from typing import Sequence

from absl import app
from absl import flags

SIZES = ("small", "paper")

DATASET = flags.DEFINE_string(
    "dataset", None,
    "Dataset of the binary's registry (default: the binary's own). vqa: "
    "sort_of_clevr (default), clevr2d, clevr, vqa2; matching: clevr2d "
    "(default), flickr30k. Generated datasets (sort_of_clevr, clevr2d) need "
    "no download; the others are read from --data_dir.")
DATA_DIR = flags.DEFINE_string(
    "data_dir", None,
    "clevr/vqa2/flickr30k: the folder holding the downloaded files; "
    "clevr2d: the TFDS data dir it is built into (default: TFDS's).")
DATASET_CONFIG = flags.DEFINE_string(
    "dataset_config", None,
    "clevr2d only: the builder config, 'default' (50k train scenes) or "
    "'small' (5k; default of the matching binary).")
IMAGE_KIND = flags.DEFINE_enum(
    "image_kind", None, ["pixels", "regions"],
    "Image input (default: the dataset's): raw pixels through a CNN, or "
    "region features with boxes (clevr2d, vqa2).")
EVAL_SPLIT = flags.DEFINE_string(
    "eval_split", None, "Split evaluated (default: the dataset's validation "
    "or test split).")
MODEL = flags.DEFINE_string(
    "model", None, "Model of the binary's zoo (default: the binary's own; "
    "vqa: film, matching: mdan).")
MODEL_SIZE = flags.DEFINE_enum(
    "model_size", "small", SIZES,
    "small: the CPU-sized preset (SMALL_SIZES of mi_zoo/models/vqa.py or "
    "matching.py); paper: the sizes of the model's paper.")
MODEL_HPARAMS = flags.DEFINE_string(
    "model_hparams", "",
    "Builder arguments over the size preset, e.g. 'glimpses=4,hidden=512' "
    "(see the builders in mi_zoo/models/).")
TRAIN_LIMIT = flags.DEFINE_integer(
    "train_limit", None, "Use only the first N training examples.",
    lower_bound=1)
EVAL_LIMIT = flags.DEFINE_integer(
    "eval_limit", None, "Evaluate only the first N examples.",
    lower_bound=1)
NUM_IMAGES = flags.DEFINE_integer(
    "num_images", None, "Examples drawn in the TensorBoard image summaries "
    "(default: the binary's own).", lower_bound=1)


def choice(flag, default: str, choices: Sequence[str]) -> str:
    """The flag's value (None: `default`), which must be one of `choices`.

    Raises:
      app.UsageError: naming the flag, echoing the value and listing the
        choices.
    """
    value = default if flag.value is None else flag.value
    if value not in choices:
        raise app.UsageError(
            f"--{flag.name}={value!r} is not one of {sorted(choices)}.")
    return value


def value_or(flag, default):
    """The flag's value, or `default` when it is None."""
    return default if flag.value is None else flag.value


def settings() -> dict:
    """{flag name: value} of the flags of this module (for flags.json)."""
    return {name: flags.FLAGS[name].value for name in (
        "dataset", "data_dir", "dataset_config", "image_kind", "eval_split",
        "model", "model_size", "model_hparams", "train_limit", "eval_limit",
        "num_images")}
