"""The answer head of the VQA models; their losses and metrics live in
`mi_zoo.models.objectives` (re-exported here under their former names)."""

import keras

from mi_zoo import layers as mi_layers
from mi_zoo.models.objectives import answer_loss  # noqa: F401
from mi_zoo.models.objectives import answer_metrics  # noqa: F401
from mi_zoo.models.objectives import vqa_soft_accuracy  # noqa: F401


def answer_logits(joint, spec, hidden=None, dropout=0.0, weight_norm=False):
    """Classifier from the joint representation to answer logits.

    Args:
      joint: [B, D].
      spec: the model's `VqaSpec`.
      hidden: size of an optional ReLU hidden layer.
      dropout: dropout before each dense layer.
      weight_norm: whether the dense layers are weight-normalised
        (`mi_zoo.layers.WeightNormDense`, as in BAN's code).

    Returns:
      [B, num_answers] logits, from a layer named "answer".
    """
    dense = mi_layers.WeightNormDense if weight_norm else keras.layers.Dense
    x = joint
    if hidden:
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
        x = dense(hidden, activation="relu", name="answer_hidden")(x)
    if dropout:
        x = keras.layers.Dropout(dropout)(x)
    return dense(spec.num_answers, name="answer")(x)
