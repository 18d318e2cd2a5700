r"""Evaluates a preset (or a finished vqa run) on a fresh split of its
generated dataset, drawn from a seed, and prints the accuracy per question
type and a final JSON line.

  python -m mi_zoo.experiments.evaluate --preset=sort_of_clevr_film
  python -m mi_zoo.experiments.evaluate --preset=sort_of_clevr_film \
      --seed=7 --num_images=500
  python -m mi_zoo.experiments.evaluate --model_dir=/tmp/vqa --seed=7

The split is drawn by `mi_zoo.data.fresh_splits` (Sort-of-CLEVR, CLEVR-2D:
the generated datasets) and its questions and images go through the
model's codec as a user's do (`mi_zoo.predict.evaluation`). Without --seed
and --num_images a preset is evaluated on the split its metadata.json
documents (so the command reproduces the documented accuracy), a run on
seed 100 and 20 images. The training splits use seeds 0 (train), 1
(validation) and 2 (test) for Sort-of-CLEVR: any other seed is fresh.

The last line printed is JSON: {"overall": accuracy, "by_type": {type:
accuracy}}, the types named as the TensorBoard tags
`accuracy_by_type/<type>` name them (e.g. "non_relational/shape",
"relational/count").
"""

import json

from absl import app
from absl import flags

from mi_zoo.core import presets
from mi_zoo.experiments import common_flags
from mi_zoo.predict import evaluation

# --model_dir and --seed are the engine's flags (one absl registry per
# process); --num_images is a shared flag (common_flags).
flags.declare_key_flag("model_dir", flag_values=flags.FLAGS)
flags.declare_key_flag("seed", flag_values=flags.FLAGS)
PRESET = flags.DEFINE_string(
    "preset",
    None,
    "A shipped preset's name (mi_zoo.models.list_presets()) or a preset "
    "directory; or give --model_dir.",
)

#: A run's fresh split when --seed and --num_images are not given.
RUN_SEED, RUN_NUM_IMAGES = 100, 20
#: The engine's --seed means the split's seed here; None: as documented.
DEFAULTS = {"seed": None}
SHARED_FLAGS = {
    "num_images": common_flags.Usage(
        "Images of the fresh split (Sort-of-CLEVR asks 20 questions per "
        "image, CLEVR-2D one). Default: the preset's documented split, "
        f"or {RUN_NUM_IMAGES} for a run."
    ),
}


def split_of(directory: str, is_preset: bool):
    """(seed, num_images): the flags', else the preset's documented split
    (metadata.json "split"), else `RUN_SEED`, `RUN_NUM_IMAGES`."""
    seed, num_images = RUN_SEED, RUN_NUM_IMAGES
    if is_preset:
        split = presets.read_metadata(directory)["split"]
        seed, num_images = split["seed"], split["num_images"]
    seed = common_flags.value_or(flags.FLAGS["seed"], seed)
    return seed, common_flags.value_or(common_flags.NUM_IMAGES, num_images)


def directory_of_flags():
    """(directory, is_preset) of --preset or --model_dir (one of them)."""
    model_dir = flags.FLAGS.model_dir
    if (PRESET.value is None) == (model_dir is None):
        raise app.UsageError(
            "Give one of --preset and --model_dir, got "
            f"--preset={PRESET.value} and --model_dir={model_dir}."
        )
    if PRESET.value is not None:
        return presets.preset_dir(PRESET.value), True
    return model_dir, False


def evaluate_and_print():
    """Evaluates as the flags say; prints and returns the accuracies."""
    directory, is_preset = directory_of_flags()
    seed, num_images = split_of(directory, is_preset)
    result = evaluation.evaluate_directory(directory, seed, num_images)
    print(
        f"{PRESET.value or directory} on a fresh {result['dataset']} "
        f"split: seed {seed}, {num_images} images, "
        f"{result['questions']} questions"
    )
    for name, value in result["by_type"].items():
        print(f"  {name:<32} {value:.4f}")
    print(f"  {'overall':<32} {result['overall']:.4f}")
    print(
        json.dumps(
            {"overall": result["overall"], "by_type": result["by_type"]}
        )
    )
    return result


main, run = common_flags.entry_points(
    evaluate_and_print, DEFAULTS, SHARED_FLAGS
)


if __name__ == "__main__":
    run()
