r"""Explains a trained VQA run: figures and, on CLEVR-2D, the pointing game.

Reads the run's flags.json to rebuild its data and model (an
--image_kind=backbone run's backbone from its predictor.json), loads the
weights (model.keras of a finished run, else the latest checkpoint), and
writes into --explain_dir (default <model_dir>/explanations):

- example_000.png, ...: for --explain_figures examples of the evaluation
  split, the image with Kim & Zhang's Hadamard explanation (models with a
  Hadamard fusion: mlb, marn, mi, ban, mfb, mfh) and each attention map's
  glimpses drawn over it, the question with its tokens coloured by their
  z-scores (red positive, blue negative), and the prediction;
- pointing_game.json and pointing_game.md (CLEVR-2D only): how much of each
  map lies in the boxes of the objects the question is about, per question
  type, beside random maps (see mi_zoo/explain/pointing.py).

  python -m mi_zoo.experiments.vqa --model=mlb --dataset=clevr2d \
      --model_hparams=stem_layers=3 --train_steps=5000 \
      --model_dir=/tmp/mlb_clevr2d
  python -m mi_zoo.experiments.explain --model_dir=/tmp/mlb_clevr2d \
      --pointing_examples=1000
"""

import json
import os

from absl import app
from absl import flags
from absl import logging
import keras
import numpy as np
import tensorflow as tf

from mi_zoo import viz
from mi_zoo.data import vqa_codec
from mi_zoo.data import vqa_sources
from mi_zoo.experiments import flags as training_flags
from mi_zoo.explain import clevr_2d_pointing
from mi_zoo.explain import explanation_figure
from mi_zoo.explain import pointing
from mi_zoo.models import vqa as vqa_models
from mi_zoo.tasks import vqa as vqa_task
from mi_zoo.training import run_directory

# --model_dir is the engine's flag (one absl registry per process).
flags.declare_key_flag("model_dir", flag_values=flags.FLAGS)
_EXPLAIN_DIR = flags.DEFINE_string(
    "explain_dir",
    None,
    "Where the figures and tables go (default <model_dir>/explanations).",
)
_EXPLAIN_FIGURES = flags.DEFINE_integer(
    "explain_figures",
    16,
    "Examples of the evaluation split to draw.",
    lower_bound=0,
)
_POINTING_EXAMPLES = flags.DEFINE_integer(
    "pointing_examples",
    500,
    "Evaluation examples scored in the pointing "
    "game (CLEVR-2D runs only; 0 skips it).",
    lower_bound=0,
)
_EXPLAIN_LAYER = flags.DEFINE_string(
    "explain_layer",
    None,
    "Fusion layer whose Hadamard product is "
    "explained (default: the model's last one).",
)
_GUIDED = flags.DEFINE_bool(
    "guided",
    True,
    "Back-propagate the image gradient through guided "
    "ReLUs, as Kim & Zhang do.",
)
_EXPLAIN_BATCH_SIZE = flags.DEFINE_integer(
    "explain_batch_size",
    32,
    "Examples per forward/backward pass.",
    lower_bound=1,
)


def _backbone_of(model_dir, values):
    """The backbone of an --image_kind=backbone run: its predictor.json's
    (written when the run starts), else none (the task's default)."""
    codec_file = os.path.join(model_dir, vqa_codec.FILENAME)
    if values.get("image_kind") != "backbone" or not os.path.exists(
        codec_file
    ):
        return None
    return vqa_codec.VqaCodec.load(codec_file).spec.backbone


def load_run(model_dir):
    """(task, model) of a vqa run directory, the model with its trained
    weights. Raises app.UsageError naming --model_dir when it is no run."""
    settings_file = os.path.join(model_dir, run_directory.FLAGS_FILE)
    if not os.path.exists(settings_file):
        raise app.UsageError(
            f"--model_dir={model_dir} holds no run of the "
            f"vqa binary (no {run_directory.FLAGS_FILE})."
        )
    with open(settings_file, encoding="utf-8") as f:
        values = json.load(f)
    if "dataset" not in values or "model" not in values:
        raise app.UsageError(
            f"--model_dir={model_dir} is not a run of the "
            "vqa binary (its flags have no dataset/model)."
        )
    options = (
        {"config": values["dataset_config"]}
        if values.get("dataset_config")
        else None
    )
    task = vqa_task.VqaTask(
        values["dataset"],
        values["model"],
        size=values["model_size"],
        hyperparameters=vqa_models.VQA_MODELS.parse_hyperparameters(
            values["model"], values.get("model_hparams") or ""
        ),
        eval_batch_size=_EXPLAIN_BATCH_SIZE.value,
        data_dir=values.get("data_dir"),
        image_kind=values.get("image_kind"),
        backbone=_backbone_of(model_dir, values),
        eval_split=values.get("eval_split"),
        options=options,
    )
    exported = os.path.join(model_dir, "model.keras")
    if os.path.exists(exported):
        return task, keras.models.load_model(exported)
    model = task.build_model()
    latest = tf.train.latest_checkpoint(os.path.join(model_dir, "checkpoints"))
    if latest is None:
        raise app.UsageError(
            f"--model_dir={model_dir} has neither "
            "model.keras nor a checkpoint."
        )
    tf.train.Checkpoint(model=model).restore(latest).expect_partial()
    logging.info("Restored %s", latest)
    return task, model


def _lines(task, logits, answers):
    best = np.argmax(logits, axis=-1)
    return [
        [f"pred: {task.data.answers[b]}   true: {task.data.answers[int(a)]}"]
        for b, a in zip(best, answers)
    ]


def write_figures(task, model, out_dir, count):
    """Draws the first `count` evaluation examples; returns the paths."""
    paths, done = [], 0
    for batch in task.eval_batches(_EXPLAIN_BATCH_SIZE.value):
        inputs, targets = batch["inputs"], np.asarray(batch["targets"])
        if targets.ndim > 1:  # Soft scores (VQA v2): the best answer.
            targets = np.argmax(targets, axis=-1)
        inputs = {k: np.asarray(v) for k, v in inputs.items()}
        logits = np.asarray(model(inputs, training=False))
        words = [
            [task.data.words[t] for t in row] for row in inputs["question"]
        ]
        drawn = explanation_figure.batch_figures(
            model,
            inputs,
            words,
            _lines(task, logits, targets),
            pixels=task.spec.reads_pixels,
            layer=_EXPLAIN_LAYER.value,
            guided=_GUIDED.value,
        )
        for figure in drawn[: count - done]:
            paths.append(
                viz.save_png(
                    os.path.join(out_dir, f"example_{done:03d}.png"), figure
                )
            )
            done += 1
        if done >= count:
            break
    return paths


def explain():
    """Writes the figures and the pointing game; returns the table."""
    model_dir = flags.FLAGS.model_dir
    if not model_dir:
        raise app.UsageError("--model_dir (the run to explain) is required.")
    task, model = load_run(model_dir)
    out_dir = _EXPLAIN_DIR.value or os.path.join(model_dir, "explanations")
    os.makedirs(out_dir, exist_ok=True)
    paths = write_figures(task, model, out_dir, _EXPLAIN_FIGURES.value)
    print(f"{len(paths)} figures in {out_dir}")
    if not _POINTING_EXAMPLES.value:
        return None
    if task.dataset != "clevr2d":
        print(
            f"No pointing game: it needs CLEVR-2D's programs and boxes, "
            f"and this run is on {task.dataset}."
        )
        return None
    builder = vqa_sources.clevr_2d_builder_for(
        task.data_dir, (task.options or {}).get("config", "default")
    )
    game = clevr_2d_pointing.clevr_2d_pointing_game(
        model,
        builder,
        split="validation",
        image_kind=task.spec.image_kind,
        num_examples=_POINTING_EXAMPLES.value,
        batch_size=_EXPLAIN_BATCH_SIZE.value,
        layer=_EXPLAIN_LAYER.value,
        guided=_GUIDED.value,
    )
    table = game.table()
    with open(
        os.path.join(out_dir, "pointing_game.json"), "w", encoding="utf-8"
    ) as f:
        json.dump(table, f, indent=2, sort_keys=True)
    text = (
        f"# Pointing game: {task.model_name} on CLEVR-2D "
        f"({task.spec.image_kind})\n\nMass inside the referents' boxes "
        "(a uniform map scores the box area):\n\n"
        + pointing.markdown_table(table, "mass")
        + "\n\nHit rate (the map's maximum inside a box):\n\n"
        + pointing.markdown_table(table, "hit")
        + "\n"
    )
    with open(
        os.path.join(out_dir, "pointing_game.md"), "w", encoding="utf-8"
    ) as f:
        f.write(text)
    print(text)
    return table


main, run = training_flags.entry_points(explain, {})


if __name__ == "__main__":
    run()
