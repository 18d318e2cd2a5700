r"""Exports a finished vqa run as a preset: copies its model and codec,
evaluates it on fresh splits of its generated dataset and writes the
preset's config.json and metadata.json (docs/presets.md).

  python -m mi_zoo.experiments.vqa --model_dir=/tmp/vqa
  python -m mi_zoo.experiments.export_preset --model_dir=/tmp/vqa \
      --name=my_film --out=/tmp/presets \
      --train_command="python -m mi_zoo.experiments.vqa --model_dir=/tmp/vqa"
  python -m mi_zoo.experiments.evaluate --preset=/tmp/presets/my_film

The preset is written to --out/--name (default --out: the package's
presets folder, where the shipped presets live). Its documented accuracy is
measured on the split of --seed and --num_images (the split that
`evaluate --preset` uses by default and that the preset test re-checks),
and on a larger split of --report_num_images images drawn from --seed + 1
(0: none), the more precise number the docs quote.
"""

import os
import shutil
import sys

from absl import app
from absl import flags
import keras

import mi_zoo
from mi_zoo.core import presets
from mi_zoo.data import vqa_codec
from mi_zoo.experiments import common_flags
from mi_zoo.predict import evaluation
from mi_zoo.training import run_directory

# --model_dir, --seed and --overwrite are the engine's flags, --num_images
# a shared flag (one absl registry per process).
for _name in ("model_dir", "seed", "overwrite"):
    flags.declare_key_flag(_name, flag_values=flags.FLAGS)
NAME = flags.DEFINE_string("name", None, "The preset's name (its folder).")
OUT = flags.DEFINE_string(
    "out",
    presets.PRESETS_DIR,
    "The folder the preset's folder is written into (default: the "
    "package's presets, which an install carries).",
)
REPORT_NUM_IMAGES = flags.DEFINE_integer(
    "report_num_images",
    500,
    "Images of the larger split (seed --seed + 1) measured for the docs; "
    "0: none.",
    lower_bound=0,
)
TRAIN_COMMAND = flags.DEFINE_string(
    "train_command",
    "",
    "The command that trained the run, recorded in metadata.json.",
)

MODULE = "mi_zoo.experiments.export_preset"
#: The documented split: seed 100 (not a training split), 20 images.
DEFAULTS = {"seed": 100}
NUM_IMAGES = 20
SHARED_FLAGS = {
    "num_images": common_flags.Usage(
        "Images of the documented split (seed --seed), which "
        "evaluate --preset re-checks.",
        NUM_IMAGES,
    ),
}


def config_of_run(model_dir: str, image_kind: str) -> dict:
    """The preset config of a vqa run, from its flags.json."""
    settings = presets.read_json(
        os.path.join(model_dir, run_directory.FLAGS_FILE)
    )
    dataset, options = evaluation.dataset_of(model_dir)
    return presets.make_config(
        model=settings["model"],
        model_size=settings["model_size"],
        model_hparams=settings["model_hparams"],
        dataset=dataset,
        dataset_options=options,
        image_kind=image_kind,
    )


def export():
    """Writes the preset as the flags say; returns its metadata."""
    model_dir, name = flags.FLAGS.model_dir, NAME.value
    for flag, value in (("model_dir", model_dir), ("name", name)):
        if not value:
            raise app.UsageError(f"--{flag} is required.")
    if os.sep in name or name.startswith("."):
        raise ValueError(
            f"--name must be a folder name (no {os.sep}, not hidden), "
            f"got --name={name}."
        )
    seed, num_images = flags.FLAGS.seed, common_flags.NUM_IMAGES.value
    checked = evaluation.evaluate_directory(model_dir, seed, num_images)
    codec = vqa_codec.VqaCodec.load(
        os.path.join(model_dir, vqa_codec.FILENAME)
    )
    target = os.path.join(OUT.value, name)
    if os.path.exists(target):
        if not flags.FLAGS.overwrite:
            raise FileExistsError(
                f"The preset folder exists: pass --overwrite to replace it, "
                f"got --out={OUT.value} --name={name}."
            )
        shutil.rmtree(target)
    os.makedirs(target)
    for file in (run_directory.MODEL_FILE, vqa_codec.FILENAME):
        shutil.copyfile(
            os.path.join(model_dir, file), os.path.join(target, file)
        )
    config = config_of_run(model_dir, codec.spec.image_kind)
    presets.write_json(target, presets.CONFIG_FILE, config)
    results = presets.read_json(
        os.path.join(model_dir, run_directory.RESULTS_FILE)
    )
    metadata = {
        "name": name,
        "description": (
            f"{config['model']} ({config['model_size']}"
            f"{', ' + config['model_hparams'] if config['model_hparams'] else ''}"
            f") trained on {config['dataset']}, {results['step']} steps"
        ),
        "parameters": results["parameters"],
        "split": _split(checked),
        "accuracy": _accuracy(checked),
        "report": None,
        "validation_accuracy": results["eval"].get("accuracy"),
        "commands": {
            "train": TRAIN_COMMAND.value,
            "export": " ".join([f"python -m {MODULE}", *sys.argv[1:]]),
            "evaluate": (
                f"python -m mi_zoo.experiments.evaluate --preset={name}"
            ),
        },
        "versions": {"mi_zoo": mi_zoo.__version__, "keras": keras.__version__},
    }
    if REPORT_NUM_IMAGES.value:
        report = evaluation.evaluate_directory(
            model_dir, seed + 1, REPORT_NUM_IMAGES.value
        )
        metadata["report"] = {**_split(report), **_accuracy(report)}
    presets.write_json(target, presets.METADATA_FILE, metadata)
    print(f"Preset {name} in {target}")
    print(f"  documented split: {metadata['accuracy']['overall']:.4f}")
    if metadata["report"]:
        print(f"  report split: {metadata['report']['overall']:.4f}")
    return metadata


def _split(result):
    return {
        k: result[k]
        for k in ("dataset", "options", "seed", "num_images", "questions")
    }


def _accuracy(result):
    return {"overall": result["overall"], "by_type": result["by_type"]}


main, run = common_flags.entry_points(export, DEFAULTS, SHARED_FLAGS)


if __name__ == "__main__":
    run()
