r"""Trains a model of the VQA zoo and reports accuracy per question type.

With only --model_dir it trains a small FiLM network on generated
Sort-of-CLEVR (no download) on the CPU in a few minutes:

  python -m mi_zoo.experiments.vqa --model_dir=/tmp/vqa
  tensorboard --logdir /tmp/vqa

Other models, datasets and sizes:

  python -m mi_zoo.experiments.vqa --model=ban --dataset=clevr2d \
      --image_kind=regions --model_dir=/tmp/ban_clevr2d
  python -m mi_zoo.experiments.vqa --model=mlb --model_size=paper \
      --model_hparams=glimpses=4 --dataset=vqa2 --data_dir=/data/vqa2 \
      --strategy=mirrored --mixed_precision --model_dir=/tmp/mlb_vqa2

End to end from images, through a pretrained feature backbone inside the
model (frozen; --finetune_backbone trains it too; docs/features.md):

  python -m mi_zoo.experiments.vqa --dataset=clevr --data_dir=/data/clevr \
      --model=mlb --image_kind=backbone --backbone=resnet50 \
      --model_dir=/tmp/mlb_resnet50_clevr

A paper's training recipe on the real corpus (model, size and training
settings; flags given explicitly override it; docs/recipes.md):

  python -m mi_zoo.experiments.vqa --recipe=ban8_vqa2 --data_dir=/data/vqa2 \
      --model_dir=/tmp/ban8_vqa2

Killing a run and starting it again with the same flags resumes it from its
last checkpoint; the final metrics are in <model_dir>/results.json.
"""

import os
import sys
from typing import Optional

from absl import app
from absl import flags

from mi_zoo.core import specs
from mi_zoo.data import vqa_sources
from mi_zoo.experiments import common_flags
from mi_zoo.experiments import flags as training_flags
from mi_zoo.experiments import recipes
from mi_zoo.models import backbones as backbone_registry
from mi_zoo.models import vqa as vqa_models
from mi_zoo.tasks import vqa as vqa_task

# --help lists the engine's flags too (they live in another module), and
# the shared data and model flags as SHARED_FLAGS describes them (run()).
flags.adopt_module_key_flags(training_flags)

# The data and model flags (--dataset, --model, --model_size, ...) are
# shared with the matching and lm binaries (one absl flag registry per
# process): they live in common_flags.

RECIPE = flags.DEFINE_string(
    "recipe",
    None,
    f"A paper's training recipe: {', '.join(recipes.RECIPES.names())}. "
    f"Sets the dataset, the model, its size and hyper-parameters and the "
    f"training flags (optimizer, learning rate, warm-up and decay, batch "
    f"size, steps, clipping) as the authors trained; flags given on the "
    f"command line win (--model_hparams is read after the recipe's; "
    f"another --model leaves the recipe's hyper-parameters out). "
    f"docs/recipes.md lists every value and its source.",
)

BACKBONE = flags.DEFINE_string(
    "backbone",
    None,
    f"--image_kind=backbone: the pretrained feature backbone inside the "
    f"model, one of {', '.join(backbone_registry.BACKBONES.names())} "
    f"(default {vqa_task.VqaTask.DEFAULT_BACKBONE}). It reads the "
    f"dataset's images at their size (in [0, 1]; its own preprocessing is "
    f"inside the model) and the model reads its grid features.",
)
BACKBONE_WEIGHTS = flags.DEFINE_string(
    "backbone_weights",
    None,
    "--image_kind=backbone: 'imagenet' (the default; Keras downloads them "
    "once), 'none' (random) or the path of a .weights.h5 file of the "
    "backbone (include_top=False).",
)
BACKBONE_LAYER = flags.DEFINE_string(
    "backbone_layer",
    None,
    "--image_kind=backbone: the layer whose output is the grid (default: "
    "the backbone's last feature map).",
)
BACKBONE_GRID = flags.DEFINE_list(
    "backbone_grid",
    None,
    "--image_kind=backbone: 'rows,columns' to average-pool the backbone's "
    "cells to (default: keep them).",
)
FINETUNE_BACKBONE = flags.DEFINE_boolean(
    "finetune_backbone",
    None,
    "--image_kind=backbone: train the backbone too (default: frozen, its "
    "batch norms in inference mode).",
)
#: The backbone flags, which apply to --image_kind=backbone only.
BACKBONE_FLAGS = (
    BACKBONE,
    BACKBONE_WEIGHTS,
    BACKBONE_LAYER,
    BACKBONE_GRID,
    FINETUNE_BACKBONE,
)

#: This binary's defaults of the shared flags that default to None.
DATASET, MODEL, NUM_IMAGES = "sort_of_clevr", "film", 6

#: What the shared flags mean here: this binary's --help (common_flags.use).
SHARED_FLAGS = {
    "dataset": common_flags.Usage(
        f"Dataset: {', '.join(vqa_sources.VQA_DATASETS.names())}. "
        f"sort_of_clevr and clevr2d are generated (no download); clevr and "
        f"vqa2 are read from --data_dir.",
        DATASET,
    ),
    "data_dir": common_flags.Usage(
        "clevr/vqa2: the folder holding the downloaded files; clevr2d: the "
        "TFDS data dir it is built into (default: TFDS's); sort_of_clevr: "
        "none (generated in memory)."
    ),
    "dataset_config": common_flags.Usage(
        "clevr2d only: the builder config, 'default' (50k train scenes; "
        "the default) or 'small' (5k)."
    ),
    "image_kind": common_flags.Usage(
        "Image input (default: the dataset's): raw pixels through a CNN "
        "(sort_of_clevr, clevr, clevr2d), region features with boxes "
        "(clevr2d, vqa2), or backbone: the pixels (sort_of_clevr, clevr, "
        "clevr2d) through a pretrained feature backbone inside the model "
        "(--backbone, --backbone_weights, --backbone_layer, "
        "--backbone_grid, --finetune_backbone), trained end to end."
    ),
    "eval_split": common_flags.Usage(),
    "model": common_flags.Usage(
        f"Model of the VQA zoo: {', '.join(vqa_models.VQA_MODELS.names())} "
        f"(mi_zoo/models/vqa.py).",
        MODEL,
    ),
    "model_size": common_flags.Usage(
        "small: the CPU-sized arguments registered with the model "
        "(mi_zoo/models/vqa.py); paper: the sizes of the model's paper."
    ),
    "model_hparams": common_flags.Usage(
        "Builder arguments over those of --model_size, e.g. "
        "'glimpses=4,hidden=512' (see the builders in mi_zoo/models/vqa.py)."
    ),
    "train_limit": common_flags.Usage(),
    "eval_limit": common_flags.Usage(),
    "num_images": common_flags.Usage(
        "Examples drawn in the TensorBoard image summaries.", NUM_IMAGES
    ),
}

# Defaults of this binary for the engine's flags: the quick run above.
DEFAULTS = {
    "precise_bn_batches": 20,
    "train_steps": 2000,
    "batch_size": 64,
    "learning_rate": 1e-3,
    "eval_every": 500,
    "image_every": 500,
}


def make_task() -> vqa_task.VqaTask:
    dataset = common_flags.choice(
        common_flags.DATASET, DATASET, vqa_sources.VQA_DATASETS.names()
    )
    model = common_flags.choice(
        common_flags.MODEL, MODEL, vqa_models.VQA_MODELS.names()
    )
    try:
        hyperparameters = vqa_models.VQA_MODELS.parse_hyperparameters(
            model, common_flags.MODEL_HPARAMS.value
        )
    except ValueError as e:
        raise app.UsageError(f"--model_hparams: {e}") from e
    options = None
    if common_flags.DATASET_CONFIG.value is not None:
        if dataset != "clevr2d":
            raise app.UsageError(
                f"--dataset_config applies to --dataset="
                f"clevr2d only, got --dataset={dataset}."
            )
        options = {"config": common_flags.DATASET_CONFIG.value}
    config = training_flags.train_config()
    return vqa_task.VqaTask(
        dataset,
        model,
        size=common_flags.MODEL_SIZE.value,
        hyperparameters=hyperparameters,
        eval_batch_size=config.eval_batch_size or config.batch_size,
        data_dir=common_flags.DATA_DIR.value,
        image_kind=common_flags.IMAGE_KIND.value,
        backbone=backbone_spec(),
        eval_split=common_flags.EVAL_SPLIT.value,
        train_limit=common_flags.TRAIN_LIMIT.value,
        eval_limit=common_flags.EVAL_LIMIT.value,
        options=options,
        num_images=common_flags.value_or(common_flags.NUM_IMAGES, NUM_IMAGES),
    )


def backbone_spec() -> Optional[specs.BackboneSpec]:
    """The `BackboneSpec` of the backbone flags (None unless
    --image_kind=backbone).

    Raises:
      app.UsageError: for a backbone flag without --image_kind=backbone,
        an unknown backbone (listing the known ones), or bad weights or
        grid.
    """
    kind = common_flags.IMAGE_KIND.value
    if kind != "backbone":
        for holder in BACKBONE_FLAGS:
            if holder.value is not None:
                raise app.UsageError(
                    f"--{holder.name} applies to --image_kind=backbone "
                    f"only, got "
                    + (
                        "no --image_kind."
                        if kind is None
                        else f"--image_kind={kind}."
                    )
                )
        return None
    name = common_flags.choice(
        BACKBONE,
        vqa_task.VqaTask.DEFAULT_BACKBONE,
        backbone_registry.BACKBONES.names(),
    )
    weights = BACKBONE_WEIGHTS.value or "imagenet"
    if weights == "none":
        weights = None
    elif weights != "imagenet" and not (
        weights.endswith(".weights.h5") and os.path.isfile(weights)
    ):
        raise app.UsageError(
            f"--backbone_weights must be 'imagenet', 'none' or an existing "
            f".weights.h5 file, got --backbone_weights={weights}."
        )
    grid = BACKBONE_GRID.value
    if grid is not None:
        if len(grid) != 2 or not all(g.isdigit() and int(g) > 0 for g in grid):
            raise app.UsageError(
                f"--backbone_grid must be 'rows,columns', two positive "
                f"integers, got --backbone_grid={','.join(grid)}."
            )
        grid = tuple(int(g) for g in grid)
    return specs.BackboneSpec(
        name,
        layer=BACKBONE_LAYER.value,
        grid=grid,
        weights=weights,
        trainable=bool(FINETUNE_BACKBONE.value),
    )


def settings() -> dict:
    """Every flag of the run, with the shared flags' defaults resolved."""
    return common_flags.run_settings(
        sys.modules[__name__], DATASET, MODEL, NUM_IMAGES
    )


def print_results(task, results):
    """The final accuracy, per question type."""
    print(
        f"{task.model_name} on {task.dataset}: {results['parameters']:,} "
        f"parameters, {results['step']} steps"
    )
    for name, value in results["eval"].items():
        print(f"  {name:<48} {value:.4f}")


def train_and_report():
    """Trains as the flags say (after --recipe's); prints and returns the
    results."""
    if RECIPE.value is not None:
        recipes.apply(RECIPE.value)
    task, results = training_flags.train_task(
        make_task, lambda task: settings()
    )
    print_results(task, results)
    return results


main, run = common_flags.entry_points(train_and_report, DEFAULTS, SHARED_FLAGS)


if __name__ == "__main__":
    run()
