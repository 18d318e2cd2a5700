"""What the training engine trains: the `Task` interface.

A task binds a model to its data, loss and metrics. The engine
(`mi_zoo.training.trainer.train`) owns everything else: the strategy, the
optimizer, checkpoints, TensorBoard and the run directory. The VQA, matching
and language-model experiments each define one task (`mi_zoo.tasks`).
"""

import abc
from typing import Dict, Mapping, Optional

import numpy as np
import tensorflow as tf


class Task(abc.ABC):
    """A trainable whole: model, data, per-example loss and metrics.

    Subclasses implement the abstract methods; the others have defaults.
    Every method that creates variables (`build_model`, `make_metrics`) is
    called under the strategy's scope.
    """

    #: Whether the train dataset's iterator can be saved in a checkpoint
    #: (no `py_function`/`from_generator` in it). If not, a resumed run
    #: re-creates the dataset and skips the batches already seen.
    train_checkpointable: bool = True

    #: Names of the files and folders the task's binaries write into the
    #: model_dir beside the engine's own (e.g. a vocabulary): they belong
    #: to the run, so `--overwrite` deletes them with it.
    outputs: tuple = ()

    @abc.abstractmethod
    def train_dataset(self, batch_size: int, seed: int) -> tf.data.Dataset:
        """Batches of the global `batch_size` of (inputs, targets),
        shuffled with `seed`, repeated forever, with every batch full. Every
        worker reads the same batches and keeps its replicas' rows. Called
        once, before `build_model`."""

    @abc.abstractmethod
    def build_model(self):
        """Returns a new `keras.Model`."""

    def eval_dataset(self, batch_size: int) -> Optional[tf.data.Dataset]:
        """One unshuffled pass of (inputs, targets[, info]), or None."""
        return None

    def initial_state(self, batch_size: int):
        """State carried from one train step to the next on each replica
        (e.g. an RNN's hidden state under truncated BPTT): a dict of arrays
        for `batch_size` rows (one replica's share), or None for none. It
        is saved in checkpoints."""
        return None

    def call_model(self, model, inputs, state, training: bool):
        """Runs the model on a batch; returns (outputs, new state). `state`
        is None unless `initial_state` gives one."""
        del state
        return model(inputs, training=training), None

    @abc.abstractmethod
    def per_example_loss(self, targets, outputs, inputs):
        """float32 [B] loss of each example (the engine averages over the
        global batch)."""

    def make_metrics(self, mode: str) -> Dict[str, object]:
        """{name: keras.metrics.Metric} for mode "train" or "eval"."""
        return {}

    def update_metrics(self, metrics, targets, outputs, info=None):
        """Updates the metrics of `make_metrics` with one batch."""
        del metrics, targets, outputs, info  # No metrics by default.

    def metric_results(self, metrics) -> Dict[str, float]:
        """{name: value} from the metrics; a metric whose result is a dict
        gives one entry per key, "<name>/<key>"."""
        results = {}
        for name, metric in metrics.items():
            value = metric.result()
            if isinstance(value, Mapping):
                for key, v in value.items():
                    results[f"{name}/{key}"] = float(v)
            else:
                results[name] = float(value)
        return results

    def evaluate(self, model, batch_size: int) -> Optional[Dict[str, float]]:
        """A full evaluation done on the host instead of the engine's
        distributed metric pass (e.g. retrieval, which needs the embeddings
        of the whole set); None uses the engine's pass."""
        return None

    def summary_images(self, model) -> Dict[str, np.ndarray]:
        """{name: uint8 [N, H, W, 3]} figures for TensorBoard."""
        return {}

    def summary_texts(self, model) -> Dict[str, str]:
        """{name: markdown} texts for TensorBoard (e.g. samples)."""
        return {}

    def check_run_files(self, model_dir: str):
        """Raises `ValueError` when a file of `outputs` that an earlier run
        left in `model_dir` does not fit this task (e.g. a vocabulary of
        another corpus). The engine calls it before resuming."""

    def write_run_files(self, model_dir: str):
        """Writes the task's files of `outputs` into `model_dir`; the
        engine calls it on the chief once the run has started."""

    def export_serving(self, model, path: str):
        """Writes the SavedModel for serving into `path` (the engine calls
        it at the end of a run with export on). The default exports the
        model's call (`keras.Model.export`); a task whose model takes or
        returns more than tensors (e.g. a recurrent state dict) overrides
        it with a signature of named tensors."""
        model.export(path, verbose=False)

    def hparams(self) -> Dict[str, object]:
        """Hyper-parameters of the task and model for the HParams plugin
        (values: bool, int, float or str)."""
        return {}

