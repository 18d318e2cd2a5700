"""Answer heads, losses and metrics for the two VQA answer conventions."""

import keras
from keras import ops


def answer_logits(joint, spec, hidden=None, dropout=0.0):
    """Classifier from the joint representation to answer logits.

    Args:
      joint: [B, D].
      spec: the model's `VqaSpec`.
      hidden: size of an optional ReLU hidden layer.
      dropout: dropout before each dense layer.

    Returns:
      [B, num_answers] logits, from a layer named "answer".
    """
    x = joint
    if hidden:
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
        x = keras.layers.Dense(hidden, activation="relu",
                               name="answer_hidden")(x)
    if dropout:
        x = keras.layers.Dropout(dropout)(x)
    return keras.layers.Dense(spec.num_answers, name="answer")(x)


def answer_loss(spec):
    """softmax: sparse categorical cross-entropy on answer ids [B];
    sigmoid: binary cross-entropy on soft scores [B, num_answers] (VQA v2's
    min(#humans / 3, 1)), summed over answers as in Teney et al. 2018."""
    if spec.answer_convention == "softmax":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return keras.losses.BinaryCrossentropy(
        from_logits=True, reduction="sum_over_batch_size")


@keras.saving.register_keras_serializable(package="mi_zoo")
def vqa_soft_accuracy(y_true, y_pred):
    """VQA accuracy: the soft score of the predicted (argmax) answer.

    y_true: [B, A] soft scores in [0, 1]; y_pred: [B, A] logits. Returns [B].
    """
    best = ops.argmax(y_pred, axis=-1)  # [B]
    onehot = ops.one_hot(best, ops.shape(y_pred)[-1], dtype=y_true.dtype)
    return ops.sum(y_true * onehot, axis=-1)


def answer_metrics(spec):
    if spec.answer_convention == "softmax":
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    return [keras.metrics.MeanMetricWrapper(vqa_soft_accuracy,
                                            name="vqa_accuracy")]
