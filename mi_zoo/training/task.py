"""What the training engine trains: the `Task` interface.

A task binds a model to its data, loss and metrics. The engine
(`mi_zoo.training.trainer.train`) owns everything else: the strategy, the
optimizer, checkpoints, TensorBoard and the run directory. The VQA, matching
and language-model experiments each define one task (`mi_zoo.tasks`).

The engine calls `Task.prepare` once, first, and reads everything about the
data from the `TaskData` it returns. Batches are dicts of named parts
(`named_batches`):

    {"inputs": what the model reads, "targets": what the loss compares
     with, "info": per-example extras for metrics (optional)}

A dict rather than a tuple or a dataclass: `tf.data`, `tf.nest` and
`tf.distribute` handle dicts as they are (a dataclass would need a nest
protocol of its own), a missing part is a missing key (no None in a
dataset element), and code reads `batch["targets"]`, not `batch[1]`.
"""

import abc
import dataclasses
from typing import Any
from typing import Dict
from typing import Mapping
from typing import Optional

import numpy as np
import tensorflow as tf

#: The keys of a batch: always INPUTS and TARGETS, INFO when the data has
#: per-example extras.
INPUTS, TARGETS, INFO = "inputs", "targets", "info"


def named_batch(inputs, targets, info=None) -> Dict[str, Any]:
    """{"inputs", "targets"[, "info"]}: one batch of the engine."""
    batch = {INPUTS: inputs, TARGETS: targets}
    if info is not None:
        batch[INFO] = info
    return batch


def named_batches(
    dataset: Optional[tf.data.Dataset],
) -> Optional[tf.data.Dataset]:
    """A dataset of (inputs, targets[, info]) tuples as one of named
    batches (`named_batch`); None stays None.

    Example:

        ds = tf.data.Dataset.from_tensor_slices(([1.0, 2.0], [0, 1]))
        next(iter(named_batches(ds)))  # {"inputs": 1.0, "targets": 0},
        # as tensors

    Raises:
      ValueError: when the elements are not tuples of 2 or 3 parts.
    """
    if dataset is None:
        return None
    parts = dataset.element_spec
    if not isinstance(parts, tuple) or len(parts) not in (2, 3):
        raise ValueError(
            f"named_batches needs a dataset of (inputs, targets) or "
            f"(inputs, targets, info) tuples, got elements {parts!r}."
        )
    return dataset.map(named_batch)


@dataclasses.dataclass(frozen=True)
class TaskData:
    """What `Task.prepare` gives the engine.

    Attributes:
      train: batches of the global batch size (`named_batch` dicts),
        shuffled with the seed, repeated forever, every batch full. Every
        worker reads the same batches and keeps its replicas' rows.
      eval: one unshuffled pass of named batches, or None (no evaluation,
        or the task's own `evaluate`).
      spec: what the model reads (a `mi_zoo.core.specs` spec), or None
        when the task's arguments fix the model's inputs.
      train_checkpointable: whether the train dataset's iterator can be
        saved in a checkpoint (no `py_function`/`from_generator` in it).
        If not, a resumed run re-creates the dataset and skips the batches
        already seen.
    """

    train: tf.data.Dataset
    eval: Optional[tf.data.Dataset] = None
    spec: Any = None
    train_checkpointable: bool = True


class Task(abc.ABC):
    """A trainable whole: model, data, per-example loss and metrics.

    Subclasses implement the abstract methods; the others have defaults.
    Every method that creates variables (`build_model`, `make_metrics`) is
    called under the strategy's scope.

    `prepare` may be called at any time and any number of times; no other
    method depends on it having run (a task that needs its data to build
    its model or metrics loads what it needs itself).
    """

    #: Names of the files and folders the task's binaries write into the
    #: model_dir beside the engine's own (e.g. a vocabulary): they belong
    #: to the run, so `--overwrite` deletes them with it.
    outputs: tuple = ()

    @abc.abstractmethod
    def prepare(
        self, batch_size: int, eval_batch_size: int, seed: int
    ) -> TaskData:
        """The train and eval data and the spec (`TaskData`).

        Args:
          batch_size: the global train batch.
          eval_batch_size: the global batch of `TaskData.eval`.
          seed: the train data's shuffle seed (the same seed gives the same
            batches).
        """

    @abc.abstractmethod
    def build_model(self):
        """Returns a new `keras.Model`."""

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
