"""The VQA objective: loss, training score and accuracy of each answer
convention, for the engine (`VqaTask`) and for Keras's `compile` alike.

Answer conventions (`VqaSpec.answer_convention`):

* "softmax": one correct answer per question (Sort-of-CLEVR, CLEVR-2D,
  CLEVR). Targets: the answer ids, int [B]. Loss: the cross-entropy of the
  softmax. Accuracy: exact match of the argmax answer (CLEVR's metric),
  which is also the training score.
* "sigmoid": ten human answers per question (VQA v2). Targets: float
  [B, A] answer COUNTS, n = how many of the 10 annotators gave each answer
  of the answer set (answers outside the set are dropped; `vqa_answers.
  AnswerVocab.targets(..., "counts")`). Loss: the binary cross-entropy of
  each answer's logit against its soft score min(n / 3, 1), summed over the
  A answers (Teney et al. 2018; BAN's code scales the mean by A, the same).
  Training score "soft_score": min(n / 3, 1) of the argmax answer.
  Accuracy: the official VQA accuracy of the argmax answer (Antol et al.,
  ICCV 2015, and the official evaluation script): the mean over the 10
  leave-one-out subsets of 9 annotators of min(#matches in the subset / 3,
  1), in closed form ((10 - n) min(n / 3, 1) + n min((n - 1) / 3, 1)) / 10.

The sigmoid targets are counts because the soft score does not determine
the accuracy: an answer of 3 annotators scores 1 and is 0.9 accurate, one of
4 or more scores 1 and is 1.0 accurate. Counts determine both. The two
formulas of a count are `mi_zoo.core.vqa_scores`, which the data readers
(floor 4, importing only `mi_zoo.core`) share.

One number per path: `answer_loss(spec)` is `per_example_loss` averaged over
the batch, which is what the engine minimises, and the metric named the VQA
accuracy ("accuracy" in `VqaTask`, "vqa_accuracy" or "accuracy" in
`answer_metrics`) is `accuracy`:

    model.compile("adamax", objectives.answer_loss(spec),
                  metrics=objectives.answer_metrics(spec))
    loss = objectives.per_example_loss(spec.answer_convention, y, logits)
    scores = objectives.scores(spec.answer_convention, y, logits)
    # {"accuracy": [B], "soft_score": [B] (sigmoid only)}

"""

from typing import Dict
from typing import Tuple

import keras
from keras import ops

from mi_zoo.core import validation
from mi_zoo.core import vqa_scores
from mi_zoo.core.vqa_scores import NUM_ANNOTATORS

CONVENTIONS = ("softmax", "sigmoid")


def check_convention(convention: str) -> str:
    validation.check_choice("answer_convention", convention, CONVENTIONS)
    return convention


def score_names(convention: str) -> Tuple[str, ...]:
    """The keys of `scores`: "accuracy" first, then the training scores."""
    if check_convention(convention) == "softmax":
        return ("accuracy",)
    return ("accuracy", "soft_score")


def per_example_loss(convention: str, targets, logits):
    """float32 [B] loss of each question (see the module docstring).

    Args:
      convention: "softmax" or "sigmoid".
      targets: answer ids [B] (softmax) or answer counts [B, A] (sigmoid).
      logits: [B, A].
    """
    logits = ops.cast(logits, "float32")
    if check_convention(convention) == "softmax":
        return keras.losses.sparse_categorical_crossentropy(
            targets, logits, from_logits=True
        )
    soft = vqa_scores.soft_score(ops.cast(targets, "float32"), ops.minimum)
    return ops.sum(
        ops.binary_crossentropy(soft, logits, from_logits=True), axis=-1
    )


def probabilities(convention: str, logits):
    """float32 [B, A] answer probabilities of the logits: their softmax
    (one answer per question, a distribution), or each answer's sigmoid
    (the probability that annotators give it; they need not sum to 1).

    Args:
      convention: "softmax" or "sigmoid".
      logits: [B, A].

    Example:

        probabilities("softmax", [[0.0, 0.0]])  # [[0.5, 0.5]]
    """
    logits = ops.cast(logits, "float32")
    if check_convention(convention) == "softmax":
        return ops.softmax(logits, axis=-1)
    return ops.sigmoid(logits)


def target_of_answer(targets, logits):
    """targets[b, argmax logits[b]], float32 [B]: the count (or score) of
    each question's predicted answer."""
    best = ops.expand_dims(ops.argmax(logits, axis=-1), -1)
    return ops.squeeze(
        ops.take_along_axis(ops.cast(targets, "float32"), best, axis=-1), -1
    )


def scores(
    convention: str, targets, logits, num_annotators: int = NUM_ANNOTATORS
) -> Dict[str, object]:
    """{name: float32 [B]} of `score_names(convention)`: "accuracy" (the VQA
    accuracy: exact match, or the official accuracy of the argmax answer)
    and, for sigmoid, "soft_score" (min(n / 3, 1) of the argmax answer)."""
    if check_convention(convention) == "softmax":
        best = ops.cast(ops.argmax(logits, axis=-1), "int32")
        hit = ops.equal(
            ops.cast(ops.reshape(targets, ops.shape(best)), "int32"), best
        )
        return {"accuracy": ops.cast(hit, "float32")}
    count = target_of_answer(targets, logits)
    return {
        "accuracy": vqa_scores.official_accuracy(
            count, float(num_annotators), ops.minimum
        ),
        "soft_score": vqa_scores.soft_score(count, ops.minimum),
    }


def accuracy(
    convention: str, targets, logits, num_annotators: int = NUM_ANNOTATORS
):
    """float32 [B]: the VQA accuracy of each question's argmax answer."""
    return scores(convention, targets, logits, num_annotators)["accuracy"]


@keras.saving.register_keras_serializable(package="mi_zoo")
class AnswerLoss(keras.losses.Loss):
    """`per_example_loss` of an answer convention, as a Keras loss
    (averaged over the batch by default, as the engine does).

    Args:
      answer_convention: "softmax" or "sigmoid".
      reduction, name, dtype: as for `keras.losses.Loss`.
    """

    def __init__(
        self,
        answer_convention: str = "softmax",
        reduction="sum_over_batch_size",
        name="answer_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.answer_convention = check_convention(answer_convention)

    def call(self, y_true, y_pred):
        return per_example_loss(self.answer_convention, y_true, y_pred)

    def get_config(self):
        return {
            **super().get_config(),
            "answer_convention": self.answer_convention,
        }


@keras.saving.register_keras_serializable(package="mi_zoo")
def soft_score_of_answer(y_true, y_pred):
    """Training score of sigmoid targets: min(n / 3, 1) of the argmax
    answer. y_true: [B, A] answer counts; y_pred: [B, A] logits. [B]."""
    return scores("sigmoid", y_true, y_pred)["soft_score"]


@keras.saving.register_keras_serializable(package="mi_zoo")
class VqaAccuracy(keras.metrics.Metric):
    """Official VQA accuracy of the argmax answer, averaged over questions.

    Targets (`y_true`, [B, num_answers]) are, by default, per-question answer
    COUNTS: how many of the 10 annotators gave each answer of the vocabulary
    (the sigmoid convention's targets). The accuracy of the argmax of
    `y_pred` is then exactly the official 10-choose-9 average
    (`vqa_scores.official_accuracy`). With `target_type="scores"`, `y_true` holds
    per-answer scores and the metric is y_true[argmax]: exact for "official"
    scores (`AnswerVocab.targets(..., "official")`), the usual overestimate
    for min(n/3, 1) soft scores.

    Args:
      target_type: "counts" or "scores".
      num_annotators: annotators per question (10 for VQA v2).
      name: metric name.
      dtype: metric dtype.
    """

    def __init__(
        self,
        target_type: str = "counts",
        num_annotators: int = NUM_ANNOTATORS,
        name="vqa_accuracy",
        dtype=None,
    ):
        super().__init__(name=name, dtype=dtype)
        validation.check_choice(
            "target_type", target_type, ("counts", "scores")
        )
        validation.check_positive_int("num_annotators", num_annotators)
        self.target_type = target_type
        self.num_annotators = num_annotators
        self.total = self.add_variable(
            shape=(), initializer="zeros", name="total"
        )
        self.count = self.add_variable(
            shape=(), initializer="zeros", name="count"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.convert_to_tensor(y_pred)
        if len(y_true.shape) != 2 or len(y_pred.shape) != 2:
            raise ValueError(
                f"VqaAccuracy expects [batch, num_answers] y_true and y_pred, "
                f"got shapes {tuple(y_true.shape)} and {tuple(y_pred.shape)}."
            )
        if self.target_type == "counts":
            value = accuracy("sigmoid", y_true, y_pred, self.num_annotators)
        else:
            value = target_of_answer(y_true, y_pred)
        if sample_weight is None:
            weight = ops.ones_like(value)
        else:
            weight = ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
        self.total.assign_add(ops.cast(ops.sum(value * weight), self.dtype))
        self.count.assign_add(ops.cast(ops.sum(weight), self.dtype))

    def result(self):
        return ops.divide_no_nan(self.total, self.count)

    def reset_state(self):
        self.total.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        return {
            **super().get_config(),
            "target_type": self.target_type,
            "num_annotators": self.num_annotators,
        }


def answer_loss(spec) -> AnswerLoss:
    """The Keras loss of `spec`'s answer convention: `per_example_loss`
    averaged over the batch, the number the engine minimises."""
    return AnswerLoss(spec.answer_convention)


def answer_metrics(spec):
    """Keras metrics of `spec`'s answer convention. softmax: "accuracy"
    (exact match); sigmoid: "vqa_accuracy" (the official accuracy; targets
    are answer counts) and "soft_score" (the training score)."""
    if check_convention(spec.answer_convention) == "softmax":
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    return [
        VqaAccuracy(name="vqa_accuracy"),
        keras.metrics.MeanMetricWrapper(
            soft_score_of_answer, name="soft_score"
        ),
    ]


@keras.saving.register_keras_serializable(package="mi_zoo")
def vqa_soft_accuracy(y_true, y_pred):
    """Deprecated (kept so that models compiled with it still load): the
    score y_true[argmax] of score targets. Use `answer_metrics`."""
    return target_of_answer(y_true, y_pred)
