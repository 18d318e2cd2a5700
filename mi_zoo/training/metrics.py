"""Metrics the Keras library does not have, distribution-safe (their
variables are summed over replicas)."""

from typing import Sequence

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="mi_zoo")
class PerTypeAccuracy(keras.metrics.Metric):
    """Accuracy per question type (CLEVR's "count", "exist", ...).

    `update_state(correct, types)` takes the per-example score in [0, 1]
    (1/0 for exact-match accuracy, the soft VQA score for VQA v2) and the
    type ids; examples with a type id outside [0, len(type_names)) (e.g. -1
    for "unknown") are ignored. `result()` is {type name: accuracy}, NaN for
    a type with no example, plus "overall".

    >>> metric = PerTypeAccuracy(["count", "exist"])
    >>> metric.update_state([1.0, 0.0, 1.0], [0, 0, 1])
    >>> {k: round(float(v), 3) for k, v in metric.result().items()}
    {'count': 0.5, 'exist': 1.0, 'overall': 0.667}

    Args:
      type_names: names of the types, in id order.
      name: the metric's name.
    """

    def __init__(
        self, type_names: Sequence[str], name="per_type_accuracy", **kwargs
    ):
        super().__init__(name=name, **kwargs)
        self.type_names = tuple(type_names)
        if not self.type_names:
            raise ValueError(
                "`type_names` must not be empty, got "
                f"type_names={type_names!r}."
            )
        n = len(self.type_names)
        self.correct = self.add_variable(
            (n,), "zeros", name="correct", aggregation="sum"
        )
        self.count = self.add_variable(
            (n,), "zeros", name="count", aggregation="sum"
        )

    def update_state(self, correct, types, sample_weight=None):
        del sample_weight
        n = len(self.type_names)
        correct = ops.cast(ops.reshape(correct, (-1,)), self.dtype)
        types = ops.cast(ops.reshape(types, (-1,)), "int32")
        onehot = ops.one_hot(types, n, dtype=self.dtype)  # [B, n]; -1 -> 0
        self.correct.assign_add(ops.sum(onehot * correct[:, None], axis=0))
        self.count.assign_add(ops.sum(onehot, axis=0))

    def result(self):
        per_type = ops.divide(self.correct, self.count)  # NaN where 0/0
        results = {name: per_type[i] for i, name in enumerate(self.type_names)}
        results["overall"] = ops.divide(
            ops.sum(self.correct), ops.sum(self.count)
        )
        return results

    def get_config(self):
        return {**super().get_config(), "type_names": list(self.type_names)}
