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
"""

from typing import Dict, Mapping, Optional

import keras
import numpy as np
import tensorflow as tf

from mi_zoo.data import vqa_sources
from mi_zoo import explain
from mi_zoo import viz
from mi_zoo.models import objectives
from mi_zoo.models import vqa as vqa_models
from mi_zoo.training import metrics as metrics_lib
from mi_zoo.training import task as task_lib

SIZES = ("small", "paper")


class VqaTask(task_lib.Task):
    """Trains `VQA_MODELS[model]` on `VQA_DATASETS[dataset]`.

    Args:
      dataset: a name of `vqa_sources.VQA_DATASETS`.
      model: a name of `mi_zoo.models.VQA_MODELS`.
      size: "small" (the preset of `vqa_models.SMALL_SIZES`, for CPUs) or
        "paper" (the builder's defaults, the papers' sizes).
      hyperparameters: builder arguments that override the size preset.
      eval_batch_size: batch of the evaluation pass.
      data_dir, image_kind, eval_split, train_limit, eval_limit, options:
        passed to `vqa_sources.load_vqa_data`.
      num_images: examples drawn in the image summaries.
    """

    #: The explain binary writes its figures into the run's folder.
    outputs = ("explanations",)

    def __init__(self, dataset: str, model: str, size: str = "small",
                 hyperparameters: Optional[Mapping[str, object]] = None,
                 eval_batch_size: int = 256, data_dir: Optional[str] = None,
                 image_kind: Optional[str] = None,
                 eval_split: Optional[str] = None,
                 train_limit: Optional[int] = None,
                 eval_limit: Optional[int] = None,
                 options: Optional[Mapping[str, object]] = None,
                 num_images: int = 6):
        vqa_sources.VQA_DATASETS.get(dataset)  # Unknown names fail here.
        vqa_models.VQA_MODELS.get(model)
        if size not in SIZES:
            raise ValueError(f"`size` (--model_size) must be one of {SIZES},"
                             f" got size={size!r}.")
        self.dataset = dataset
        self.model_name = model
        self.size = size
        self.hyperparameters = dict(
            vqa_models.SMALL_SIZES.get(model, {}) if size == "small" else {})
        self.hyperparameters.update(hyperparameters or {})
        self.eval_batch_size = eval_batch_size
        self.data_dir, self.options = data_dir, options
        self._load_args = dict(data_dir=data_dir, image_kind=image_kind,
                               eval_split=eval_split,
                               train_limit=train_limit,
                               eval_limit=eval_limit, options=options)
        self.num_images = num_images
        self.data = None
        self._examples = None

    # Data and model.
    def train_dataset(self, batch_size, seed):
        self.data = vqa_sources.load_vqa_data(
            self.dataset, batch_size=batch_size,
            eval_batch_size=self.eval_batch_size, seed=seed,
            **self._load_args)
        self.train_checkpointable = self.data.train_checkpointable
        return self.data.train

    def eval_dataset(self, batch_size):
        if batch_size == self.eval_batch_size:
            return self.data.eval
        return self.data.eval.unbatch().batch(batch_size)

    @property
    def spec(self):
        return self.data.spec

    def build_model(self):
        return vqa_models.build_vqa_model(self.model_name, self.data.spec,
                                          **self.hyperparameters)

    # Loss and metrics.
    def per_example_loss(self, targets, outputs, inputs):
        return objectives.per_example_loss(
            self.data.spec.answer_convention, targets, outputs)

    def make_metrics(self, mode):
        """"accuracy" (the VQA accuracy), the convention's training scores
        ("soft_score" for sigmoid) and, in eval, the accuracy per type."""
        metrics = {name: keras.metrics.Mean(name=name) for name in
                   objectives.score_names(self.data.spec.answer_convention)}
        if mode == "eval":
            metrics["accuracy_by_type"] = metrics_lib.PerTypeAccuracy(
                self.data.question_types, name="accuracy_by_type")
        return metrics

    def update_metrics(self, metrics, targets, outputs, info=None):
        scores = objectives.scores(self.data.spec.answer_convention,
                                   targets, outputs)
        for name, value in scores.items():
            metrics[name].update_state(value)
        if info is not None and "accuracy_by_type" in metrics:
            metrics["accuracy_by_type"].update_state(scores["accuracy"],
                                                     info["question_type"])

    def metric_results(self, metrics):
        results = super().metric_results(metrics)
        results.pop("accuracy_by_type/overall", None)  # = accuracy
        return results

    def hparams(self):
        return {"dataset": self.dataset, "model": self.model_name,
                "model_size": self.size,
                **{f"model/{k}": v for k, v in self.hyperparameters.items()}}

    # Figures.
    def _example_batch(self):
        if self._examples is None:
            inputs, targets, _ = next(iter(self.data.eval.unbatch().batch(
                self.num_images)))
            self._examples = (inputs, targets)
        return self._examples

    def question_text(self, tokens) -> str:
        return " ".join(self.data.words[t] for t in tokens if t > 0)

    def summary_images(self, model) -> Dict[str, np.ndarray]:
        """"examples": each image with its question, the predicted answer
        (with its probability) and the true one; "explanations" (models with
        attention or a Hadamard fusion): the same examples with Kim &
        Zhang's Hadamard explanation and the attention glimpses drawn over
        the image and the question's tokens coloured by their scores
        (`mi_zoo.explain.batch_figures`)."""
        inputs, targets = self._example_batch()
        inputs = {k: np.asarray(v) for k, v in inputs.items()}
        logits = np.asarray(model(inputs, training=False), np.float32)
        if self.data.spec.answer_convention == "softmax":
            probs = tf.nn.softmax(logits).numpy()
            truth = np.asarray(targets)
        else:
            probs = tf.nn.sigmoid(logits).numpy()
            truth = np.argmax(np.asarray(targets), axis=-1)  # most votes
        panels, captions = [], []
        for i in range(logits.shape[0]):
            best = int(np.argmax(logits[i]))
            lines = [f"Q: {self.question_text(inputs['question'][i])}",
                     f"pred: {self.data.answers[best]} ({probs[i, best]:.2f})"
                     f"   true: {self.data.answers[int(truth[i])]}"]
            captions.append(lines[1:])
            panels.append(viz.caption_panel(self._picture(inputs, i),
                                                lines))
        images = {"examples": np.stack(viz.pad_to_same_size(panels))}
        if (vqa_models.attention_axes(model)
                or explain.hadamard_layers(model)):
            words = [[self.data.words[t] for t in row]
                     for row in inputs["question"]]
            drawn = explain.batch_figures(
                model, inputs, words, captions,
                pixels=self.data.spec.image_kind == "pixels")
            images["explanations"] = np.stack(
                viz.pad_to_same_size(drawn))
        return images

    def _picture(self, inputs, i):
        """The example's image: pixels, or a blank canvas for features."""
        if self.data.spec.image_kind == "pixels":
            return viz.to_uint8(inputs["image"][i])
        return np.full((192, 192, 3), 255, np.uint8)
