"""A small regression task for the engine's tests: y = x·w* + noise."""

import keras
import numpy as np
import tensorflow as tf

from mi_zoo.training import task as task_lib


class ToyTask(task_lib.Task):
    """Linear regression from 4 features to 2 targets, with optional
    dropout; examples are generated once from `data_seed`."""

    def __init__(
        self, examples=256, dropout=0.0, data_seed=0, checkpointable=True
    ):
        rng = np.random.default_rng(data_seed)
        self.x = rng.normal(size=(examples, 4)).astype("float32")
        w = rng.normal(size=(4, 2)).astype("float32")
        self.y = (self.x @ w + 0.01 * rng.normal(size=(examples, 2))).astype(
            "float32"
        )
        self.dropout = dropout
        self.checkpointable = checkpointable

    def build_model(self):
        x = keras.Input((4,), name="x")
        h = keras.layers.Dense(16, activation="relu")(x)
        if self.dropout:
            h = keras.layers.Dropout(self.dropout)(h)
        return keras.Model(x, keras.layers.Dense(2)(h))

    def prepare(self, batch_size, eval_batch_size, seed):
        train = tf.data.Dataset.from_tensor_slices((self.x, self.y))
        train = (
            train.shuffle(len(self.x), seed=seed)
            .repeat()
            .batch(batch_size, drop_remainder=True)
        )
        evaluation = tf.data.Dataset.from_tensor_slices(
            (self.x[:100], self.y[:100])
        ).batch(eval_batch_size)
        return task_lib.TaskData(
            train=task_lib.named_batches(train),
            eval=task_lib.named_batches(evaluation),
            train_checkpointable=self.checkpointable,
        )

    def per_example_loss(self, targets, outputs, inputs):
        return tf.reduce_mean(tf.square(targets - outputs), axis=-1)

    def make_metrics(self, mode):
        return {"mae": keras.metrics.MeanAbsoluteError(name="mae")}

    def update_metrics(self, metrics, targets, outputs, info=None):
        metrics["mae"].update_state(targets, outputs)

    def hparams(self):
        return {"dropout": self.dropout}
