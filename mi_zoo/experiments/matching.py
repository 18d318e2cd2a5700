r"""Trains an image–text matching model and reports retrieval recall.

With only --model_dir it trains a small m-DAN (Nam et al., CVPR 2017) on
generated CLEVR-2D captions (config "small": 5k train / 1k validation
scenes, built on first use in ~10 s, no download; region features, see
CLEVR2D_IMAGE_KIND) on the CPU in a few minutes, and evaluates image→text
and text→image retrieval over the 1000 validation images (chance
recall@1 = 0.001):

  python -m mi_zoo.experiments.matching --model_dir=/tmp/matching
  tensorboard --logdir /tmp/matching

Other settings:

  python -m mi_zoo.experiments.matching --image_kind=pixels \
      --hardest_negative --margin=0.1 --model_dir=/tmp/mdan_pixels
  python -m mi_zoo.experiments.matching --dataset=flickr30k \
      --data_dir=/data/flickr30k --model_size=paper --batch_size=128 \
      --strategy=mirrored --mixed_precision --model_dir=/tmp/mdan_flickr

(Under --strategy=mirrored every replica's negatives are its own share of
the batch; see mi_zoo/tasks/matching.py.) Killing a run and starting it
again with the same flags resumes it from its last checkpoint; the final
metrics are in <model_dir>/results.json.
"""

import sys

from absl import app
from absl import flags

from mi_zoo.data import matching_sources
from mi_zoo.experiments import common_flags
from mi_zoo.experiments import flags as training_flags
from mi_zoo.models import matching as matching_models
from mi_zoo.tasks import matching as matching_task

# --help lists the engine's flags too (they live in another module), and
# the shared data and model flags as SHARED_FLAGS describes them (run()).
flags.adopt_module_key_flags(training_flags)

# Shared with the VQA binary: --dataset, --data_dir, --dataset_config,
# --image_kind, --eval_split, --model, --model_size, --model_hparams,
# --train_limit, --eval_limit, --num_images (see common_flags).
_MARGIN = flags.DEFINE_float(
    "margin", 0.2, "Margin m of the bidirectional hinge ranking loss."
)
_HARDEST_NEGATIVE = flags.DEFINE_bool(
    "hardest_negative",
    False,
    "Use only the hardest in-batch negative per direction (VSE++) instead "
    "of the sum over all negatives (m-DAN).",
)

#: This binary's defaults of the shared flags that default to None.
DATASET, MODEL, NUM_IMAGES = "clevr2d", "mdan", 4
#: clevr2d builder config unless --dataset_config.
CLEVR2D_CONFIG = "small"
#: clevr2d image kind unless --image_kind: the pixel CNN's batch norm lets
#: the in-batch ranking loss lean on batch statistics (train in-batch r@1
#: 0.63 but eval, with moving averages, at chance after 300 steps), while
#: region features (no batch norm) reach r@1 0.56 / 0.12 in 300 steps
#: (measured while the batch norms had Keras's momentum 0.99, before
#: encoders.BN_MOMENTUM = 0.9; pixels were not measured again since).
CLEVR2D_IMAGE_KIND = "regions"

#: What the shared flags mean here: this binary's --help (common_flags.use).
SHARED_FLAGS = {
    "dataset": common_flags.Usage(
        f"Dataset: {', '.join(matching_sources.MATCHING_DATASETS.names())}. "
        f"clevr2d is generated (no download); flickr30k is read from "
        f"--data_dir.",
        DATASET,
    ),
    "data_dir": common_flags.Usage(
        "flickr30k: the folder holding the downloaded files; clevr2d: the "
        "TFDS data dir it is built into (default: TFDS's)."
    ),
    "dataset_config": common_flags.Usage(
        f"clevr2d only: the builder config, 'default' (50k train scenes) or "
        f"'small' (5k); default: {CLEVR2D_CONFIG}."
    ),
    "image_kind": common_flags.Usage(
        f"Image input: clevr2d: region features with boxes (regions) or raw "
        f"pixels through a CNN (pixels), default {CLEVR2D_IMAGE_KIND}; "
        f"flickr30k: pixels."
    ),
    "eval_split": common_flags.Usage(),
    "model": common_flags.Usage(
        f"Model of the matching zoo: "
        f"{', '.join(matching_models.MATCHING_MODELS.names())} "
        f"(mi_zoo/models/matching.py).",
        MODEL,
    ),
    "model_size": common_flags.Usage(
        "small: the CPU-sized arguments registered with the model "
        "(mi_zoo/models/matching.py); paper: the sizes of the model's "
        "paper."
    ),
    "model_hparams": common_flags.Usage(
        "Builder arguments over those of --model_size, 'name=value,...' "
        "(see the builders in mi_zoo/models/matching.py)."
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
    "train_steps": 1500,
    "batch_size": 32,
    "learning_rate": 1e-3,
    "eval_every": 500,
    "image_every": 500,
    "eval_batch_size": 250,
    "log_every": 100,
}

RECALL_KEYS = ("r@1", "r@5", "r@10")


def make_task() -> matching_task.MatchingTask:
    """The task of the flags; bad values raise `app.UsageError` naming the
    flag."""
    dataset = common_flags.choice(
        common_flags.DATASET,
        DATASET,
        matching_sources.MATCHING_DATASETS.names(),
    )
    model = common_flags.choice(
        common_flags.MODEL, MODEL, matching_models.MATCHING_MODELS.names()
    )
    try:
        hyperparameters = (
            matching_models.MATCHING_MODELS.parse_hyperparameters(
                model, common_flags.MODEL_HPARAMS.value
            )
        )
    except ValueError as e:
        raise app.UsageError(f"--model_hparams: {e}") from e
    if not _MARGIN.value > 0:
        raise app.UsageError(
            f"--margin must be positive, got --margin={_MARGIN.value}."
        )
    options = None
    image_kind = common_flags.IMAGE_KIND.value
    if dataset == "clevr2d":
        image_kind = image_kind or CLEVR2D_IMAGE_KIND
        options = {
            "config": common_flags.value_or(
                common_flags.DATASET_CONFIG, CLEVR2D_CONFIG
            )
        }
    elif common_flags.DATASET_CONFIG.value is not None:
        raise app.UsageError(
            f"--dataset_config applies to --dataset="
            f"clevr2d only, got --dataset={dataset}."
        )
    config = training_flags.train_config()
    return matching_task.MatchingTask(
        dataset,
        model,
        size=common_flags.MODEL_SIZE.value,
        hyperparameters=hyperparameters,
        eval_batch_size=config.eval_batch_size or config.batch_size,
        data_dir=common_flags.DATA_DIR.value,
        image_kind=image_kind,
        eval_split=common_flags.EVAL_SPLIT.value,
        train_limit=common_flags.TRAIN_LIMIT.value,
        eval_limit=common_flags.EVAL_LIMIT.value,
        options=options,
        num_images=common_flags.value_or(common_flags.NUM_IMAGES, NUM_IMAGES),
        margin=_MARGIN.value,
        hardest_negative=_HARDEST_NEGATIVE.value,
    )


def settings() -> dict:
    """Every flag of the run, with the shared flags' defaults resolved."""
    values = common_flags.run_settings(
        sys.modules[__name__], DATASET, MODEL, NUM_IMAGES
    )
    if values["dataset"] == "clevr2d":
        config = common_flags.value_or(
            common_flags.DATASET_CONFIG, CLEVR2D_CONFIG
        )
        values["dataset_config"] = getattr(config, "name", config)
        values["image_kind"] = values["image_kind"] or CLEVR2D_IMAGE_KIND
    return values


def results_table(task, results) -> str:
    """Recall@1/5/10 in both directions, rsum and chance."""
    data = task.data
    ev = results["eval"]
    lines = [
        f"{task.model_name} on {task.dataset}: "
        f"{results['parameters']:,} parameters, {results['step']} "
        f"steps; {data.num_eval_images} eval images, "
        f"{data.num_eval_captions} captions",
        f"  {'direction':<16}" + "".join(f"{k:>8}" for k in RECALL_KEYS),
    ]
    for direction in ("image_to_text", "text_to_image"):
        lines.append(
            f"  {direction:<16}"
            + "".join(f"{ev[f'{direction}/{k}']:>8.4f}" for k in RECALL_KEYS)
        )
    lines.append(
        f"  rsum {ev['rsum']:.1f}   eval loss {ev['loss']:.4f}   "
        f"chance r@1 {1.0 / data.num_eval_images:.4f}"
    )
    return "\n".join(lines)


def train_and_report():
    """Trains as the flags say; prints and returns the results."""
    task, results = training_flags.train_task(
        make_task, lambda task: settings()
    )
    print(results_table(task, results))
    return results


main, run = common_flags.entry_points(train_and_report, DEFAULTS, SHARED_FLAGS)


if __name__ == "__main__":
    run()
