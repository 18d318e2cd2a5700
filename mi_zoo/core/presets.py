"""Presets: trained models shipped with mi_zoo (or published by a user) as
directories, found by name.

A preset directory holds (docs/presets.md):

  * `model.keras`: the trained Keras model (`MODEL_FILE`, a run's
    `training.run_directory.MODEL_FILE`);
  * `predictor.json`: its codec, the question words and tokenizer, the
    answers, the input shapes and the image scaling (`CODEC_FILE`, a run's
    `data.vqa_codec.FILENAME`);
  * `config.json` (`CONFIG_FILE`): what the model is and what it was
    trained on: {"format": "mi_zoo.preset", "version": 1, "task": "vqa",
    "model", "model_size", "model_hparams", "dataset", "dataset_options",
    "image_kind"};
  * `metadata.json` (`METADATA_FILE`): the measured accuracy, the fresh
    splits (seed, number of images) it was measured on and the commands
    that trained and exported it.

The shipped presets live in the package's `presets/` folder (`PRESETS_DIR`,
installed with the package). Everything here is plain files and JSON: the
Keras model is loaded by `mi_zoo.models.from_preset`, the predictor by
`mi_zoo.predict.Predictor.from_preset`.

    list_presets()                        # ('sort_of_clevr_film',)
    read_config(preset_dir("sort_of_clevr_film"))["dataset"]
    # 'sort_of_clevr'

>>> config = make_config("film", "small", "", "sort_of_clevr", {}, "pixels")
>>> tuple(config) == CONFIG_KEYS, config["format"]
(True, 'mi_zoo.preset')
"""

import json
import os
from typing import Any
from typing import Dict
from typing import Optional
from typing import Tuple

#: The shipped presets: mi_zoo/presets/<name>/.
PRESETS_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "presets"
)
MODEL_FILE = "model.keras"
CODEC_FILE = "predictor.json"
CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"
#: Every file a preset directory holds.
FILES = (MODEL_FILE, CODEC_FILE, CONFIG_FILE, METADATA_FILE)
FORMAT, VERSION = "mi_zoo.preset", 1
#: The keys of config.json.
CONFIG_KEYS = (
    "format",
    "version",
    "task",
    "model",
    "model_size",
    "model_hparams",
    "dataset",
    "dataset_options",
    "image_kind",
)


def list_presets(root: Optional[str] = None) -> Tuple[str, ...]:
    """The names of the presets in `root` (default: the shipped ones,
    `PRESETS_DIR`), sorted: its sub-folders that hold a config.json."""
    root = PRESETS_DIR if root is None else root
    if not os.path.isdir(root):
        return ()
    return tuple(
        sorted(
            name
            for name in os.listdir(root)
            if os.path.isfile(os.path.join(root, name, CONFIG_FILE))
        )
    )


def preset_dir(preset: str) -> str:
    """The directory of a preset: a shipped preset's name, or the path of
    a preset directory (one that holds a config.json).

    Raises:
      ValueError: for a name that is no preset and no preset directory
        (listing the shipped presets), or a preset directory that lacks
        one of `FILES`.
    """
    if not isinstance(preset, (str, os.PathLike)) or not os.fspath(preset):
        raise ValueError(
            f"`preset` must be a preset name or directory, got "
            f"preset={preset!r}."
        )
    preset = os.fspath(preset)
    if os.path.isfile(os.path.join(preset, CONFIG_FILE)):
        path = preset
    elif preset in list_presets():
        path = os.path.join(PRESETS_DIR, preset)
    else:
        names = ", ".join(list_presets()) or "none"
        raise ValueError(
            f"Unknown preset: the shipped presets are {names} (or give a "
            f"preset directory, one holding {CONFIG_FILE}), got "
            f"preset={preset!r}."
        )
    missing = [f for f in FILES if not os.path.isfile(os.path.join(path, f))]
    if missing:
        raise ValueError(
            f"The preset directory lacks {', '.join(missing)} (a preset "
            f"holds {', '.join(FILES)}), got preset={preset!r}."
        )
    return path


def read_json(path: str) -> Dict[str, Any]:
    """A JSON object from a file (a preset's, or a run's flags.json).

    Raises:
      ValueError: when the file is not valid JSON or not an object.
    """
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(
            f"The preset file is not valid JSON ({e}), got {path!r}."
        ) from None
    if not isinstance(value, dict):
        raise ValueError(
            f"The preset file is not a JSON object, got {path!r}."
        )
    return value


def read_config(directory: str) -> Dict[str, Any]:
    """The config.json of a preset directory.

    Raises:
      ValueError: when it is not a version-1 mi_zoo preset config or lacks
        one of `CONFIG_KEYS`.
    """
    path = os.path.join(directory, CONFIG_FILE)
    config = read_json(path)
    if config.get("format") != FORMAT or config.get("version") != VERSION:
        raise ValueError(
            f"The preset config must have format {FORMAT!r} and version "
            f"{VERSION}, got format={config.get('format')!r} and "
            f"version={config.get('version')!r} in {path!r}."
        )
    missing = [k for k in CONFIG_KEYS if k not in config]
    if missing:
        raise ValueError(
            f"The preset config lacks {', '.join(missing)}, got {path!r}."
        )
    return config


def read_metadata(directory: str) -> Dict[str, Any]:
    """The metadata.json of a preset directory (accuracy, splits,
    commands)."""
    return read_json(os.path.join(directory, METADATA_FILE))


def make_config(
    model: str,
    model_size: str,
    model_hparams: str,
    dataset: str,
    dataset_options: Optional[Dict[str, Any]],
    image_kind: str,
    task: str = "vqa",
) -> Dict[str, Any]:
    """The config.json value of a preset (`CONFIG_KEYS`)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "task": task,
        "model": model,
        "model_size": model_size,
        "model_hparams": model_hparams,
        "dataset": dataset,
        "dataset_options": dict(dataset_options or {}),
        "image_kind": image_kind,
    }


def write_json(directory: str, name: str, value: Dict[str, Any]) -> str:
    """Writes `value` as indented JSON to directory/name (atomically);
    returns the path."""
    path = os.path.join(directory, name)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1, sort_keys=False)
        f.write("\n")
    os.replace(path + ".tmp", path)
    return path
