"""The VQA task: a model of the VQA zoo on a dataset of `vqa_sources`.

    task = VqaTask("sort_of_clevr", "film", size="small")
    results = training.train(task, training.TrainConfig(model_dir=...))

Loss, training score and accuracy are those of the spec's answer
convention in `mi_zoo.models.objectives`: softmax datasets use the
cross-entropy of the answer id and exact-match accuracy; sigmoid datasets
(VQA v2, whose targets are answer counts) the binary cross-entropy of the
soft scores min(n/3, 1) summed over the answers, "accuracy" the official
VQA accuracy and "soft_score" the soft score of the predicted answer.
Evaluation adds the accuracy per question type.

With image_kind "backbone" a pretrained feature backbone sits inside the
model (`models.encoders.encode_backbone`): the dataset's pixel images go
through it, frozen unless the `BackboneSpec` says `trainable`, and the
model trains end to end from images:

    task = VqaTask("clevr", "mlb", image_kind="backbone",
                   backbone=specs.BackboneSpec("resnet50"),
                   data_dir="/data/clevr")

The run's predictor.json then holds the backbone (name, layer, grid,
weights) and its input size in its spec, so that `mi_zoo.predict`
resizes a user's image as training did.
"""

import dataclasses
import os
from typing import Dict
from typing import Optional

import keras
import numpy as np

from mi_zoo import explain
from mi_zoo import models
from mi_zoo import viz
from mi_zoo.core import specs
from mi_zoo.data import vqa_codec
from mi_zoo.data import vqa_sources
from mi_zoo.models import objectives
from mi_zoo.models import vqa as vqa_models
from mi_zoo.tasks import zoo_task
from mi_zoo.training import metrics as metrics_lib


class VqaTask(zoo_task.ZooTask):
    """Trains `VQA_MODELS[model]` on `VQA_DATASETS[dataset]`.

    Args:
      dataset: a name of `vqa_sources.VQA_DATASETS`.
      model: a name of `mi_zoo.models.VQA_MODELS`.
      size: one of the model's sizes (`VQA_MODELS.sizes(model)`): "small"
        (for CPUs) or "paper" (the builder's defaults, the papers' sizes).
      hyperparameters: builder arguments over the size's.
      eval_batch_size: batch of the evaluation pass.
      data_dir, image_kind, eval_split, train_limit, eval_limit, options:
        passed to `vqa_sources.load_vqa_data`.
      num_images: examples drawn in the image summaries.
      backbone: with image_kind "backbone" (a pretrained backbone inside
        the model, reading the dataset's pixels at their size), its
        `BackboneSpec` (None: `DEFAULT_BACKBONE` with ImageNet weights,
        frozen); None for the other image kinds.

    Raises:
      ValueError: see `ZooTask`; also for a backbone without image_kind
        "backbone", and (when the data loads) for image_kind "backbone" on
        a dataset without pixel images.
    """

    #: The backbone of image_kind "backbone" when none is given.
    DEFAULT_BACKBONE = "resnet50"

    DATASETS = vqa_sources.VQA_DATASETS
    # From the package, not models.vqa: its __init__ imports every module that
    # registers a VQA model (relation_network: rn, cnn_mlp), which Bazel's
    # per-module deps would otherwise leave out.
    MODELS = models.VQA_MODELS
    load_data = staticmethod(vqa_sources.load_vqa_data)

    #: The explain binary writes its figures into the run's folder;
    #: predictor.json is what `mi_zoo.predict.Predictor` reads.
    outputs = ("explanations", vqa_codec.FILENAME)

    _examples = None  # (inputs, targets) drawn in the image summaries.

    def __init__(
        self,
        dataset: str,
        model: str,
        *args,
        image_kind: Optional[str] = None,
        backbone: Optional[specs.BackboneSpec] = None,
        **kwargs,
    ):
        if image_kind == "backbone":
            if backbone is None:
                backbone = specs.BackboneSpec(self.DEFAULT_BACKBONE)
            if not isinstance(backbone, specs.BackboneSpec):
                raise ValueError(
                    f"`backbone` must be a BackboneSpec, got "
                    f"backbone={backbone!r}."
                )
        elif backbone is not None:
            raise ValueError(
                f"`backbone` applies to image_kind='backbone' only, got "
                f"image_kind={image_kind!r} and backbone={backbone!r}."
            )
        self.backbone = backbone
        # The backbone reads the dataset's pixels.
        super().__init__(
            dataset,
            model,
            *args,
            image_kind="pixels" if backbone is not None else image_kind,
            **kwargs,
        )

    def prepare(self, batch_size, eval_batch_size, seed):
        try:
            return super().prepare(batch_size, eval_batch_size, seed)
        except ValueError as e:
            if self.backbone is None or "image_kind" not in str(e):
                raise
            raise ValueError(
                f"image_kind='backbone' (--image_kind=backbone) reads the "
                f"dataset's pixel images, which the {self.dataset!r} "
                f"dataset does not have, got dataset={self.dataset!r}."
            ) from e

    def adapt_data(self, data):
        """With a backbone, the pixel data's spec becomes image_kind
        "backbone" with the `BackboneSpec` (so the model builds it and the
        run's codec records it)."""
        if self.backbone is None:
            return data
        spec = dataclasses.replace(
            data.spec, image_kind="backbone", backbone=self.backbone
        )
        return dataclasses.replace(data, spec=spec)

    def hparams(self):
        values = super().hparams()
        if self.backbone is not None:
            # The HParams plugin takes bool, int, float and str values.
            values.update(
                {
                    f"backbone/{k}": (
                        v if isinstance(v, (bool, int, float, str)) else str(v)
                    )
                    for k, v in dataclasses.asdict(self.backbone).items()
                }
            )
        return values

    # Loss and metrics.
    def per_example_loss(self, targets, outputs, inputs):
        return objectives.per_example_loss(
            self.data.spec.answer_convention, targets, outputs
        )

    def make_metrics(self, mode):
        """ "accuracy" (the VQA accuracy), the convention's training scores
        ("soft_score" for sigmoid) and, in eval, the accuracy per type."""
        metrics = {
            name: keras.metrics.Mean(name=name)
            for name in objectives.score_names(
                self.data.spec.answer_convention
            )
        }
        if mode == "eval":
            metrics["accuracy_by_type"] = metrics_lib.PerTypeAccuracy(
                self.data.question_types, name="accuracy_by_type"
            )
        return metrics

    def update_metrics(self, metrics, targets, outputs, info=None):
        scores = objectives.scores(
            self.data.spec.answer_convention, targets, outputs
        )
        for name, value in scores.items():
            metrics[name].update_state(value)
        if info is not None and "accuracy_by_type" in metrics:
            metrics["accuracy_by_type"].update_state(
                scores["accuracy"], info["question_type"]
            )

    def metric_results(self, metrics):
        results = super().metric_results(metrics)
        results.pop("accuracy_by_type/overall", None)  # = accuracy
        return results

    # Run files.
    def write_run_files(self, model_dir: str):
        """Writes predictor.json: the words, answers and image
        preprocessing that `mi_zoo.predict.Predictor` needs to answer
        questions about a user's image (`vqa_codec`)."""
        self.data.codec().save(os.path.join(model_dir, vqa_codec.FILENAME))

    # Figures.
    def _example_batch(self):
        if self._examples is None:
            batch = next(iter(self.eval_batches(self.num_images)))
            self._examples = (batch["inputs"], batch["targets"])
        return self._examples

    def question_text(self, tokens) -> str:
        return " ".join(self.data.words[t] for t in tokens if t > 0)

    def summary_images(self, model) -> Dict[str, np.ndarray]:
        """ "examples": each image with its question, the predicted answer
        (with its probability) and the true one; "explanations" (models with
        attention or a Hadamard fusion): the same examples with Kim &
        Zhang's Hadamard explanation and the attention glimpses drawn over
        the image and the question's tokens coloured by their scores
        (`mi_zoo.explain.batch_figures`)."""
        inputs, targets = self._example_batch()
        inputs = {k: np.asarray(v) for k, v in inputs.items()}
        logits = np.asarray(model(inputs, training=False), np.float32)
        probs = np.asarray(
            objectives.probabilities(self.data.spec.answer_convention, logits)
        )
        if self.data.spec.answer_convention == "softmax":
            truth = np.asarray(targets)
        else:
            truth = np.argmax(np.asarray(targets), axis=-1)  # most votes
        panels, captions = [], []
        for i in range(logits.shape[0]):
            best = int(np.argmax(logits[i]))
            lines = [
                f"Q: {self.question_text(inputs['question'][i])}",
                f"pred: {self.data.answers[best]} ({probs[i, best]:.2f})"
                f"   true: {self.data.answers[int(truth[i])]}",
            ]
            captions.append(lines[1:])
            panels.append(viz.caption_panel(self._picture(inputs, i), lines))
        images = {"examples": np.stack(viz.pad_to_same_size(panels))}
        if vqa_models.attention_axes(model) or explain.hadamard_layers(model):
            words = [
                [self.data.words[t] for t in row] for row in inputs["question"]
            ]
            drawn = explain.batch_figures(
                model,
                inputs,
                words,
                captions,
                pixels=self.data.spec.reads_pixels,
            )
            images["explanations"] = np.stack(viz.pad_to_same_size(drawn))
        return images

    def _picture(self, inputs, i):
        """The example's image: pixels, or a blank canvas for features."""
        if self.data.spec.reads_pixels:
            return viz.to_uint8(inputs["image"][i])
        return np.full((192, 192, 3), 255, np.uint8)
