"""What the VQA and matching tasks share: a model of a zoo registry, at one
of its sizes, trained on a dataset of a data registry.

`ZooTask` holds the constructor's checks, the data loading and the model
building; a subclass names its two registries and its loader:

    class VqaTask(ZooTask):
        DATASETS = vqa_sources.VQA_DATASETS
        MODELS = vqa_models.VQA_MODELS
        load_data = staticmethod(vqa_sources.load_vqa_data)

and adds its loss, metrics and figures (`training.Task`).

`prepare` loads the data (`load_data`) and keeps what it returned as
`data` (the words, answers and question types the figures and metrics
need); `spec`, `data` and `build_model` load it themselves when `prepare`
has not run, so no method depends on another having been called first.
"""

from typing import Callable
from typing import Mapping
from typing import Optional

from mi_zoo.core import registry
from mi_zoo.core import validation
from mi_zoo.training import task as task_lib


class ZooTask(task_lib.Task):
    """Trains `MODELS[model]` at `size` on `DATASETS[dataset]`.

    Args:
      dataset: a name of `DATASETS`.
      model: a name of `MODELS`.
      size: one of the model's sizes (`MODELS.sizes(model)`): "small" (for
        CPUs) or "paper" (the builder's defaults, the paper's sizes).
      hyperparameters: builder arguments over the size's.
      eval_batch_size: batch of the evaluation pass.
      data_dir, image_kind, eval_split, train_limit, eval_limit, options:
        passed to `load_data`.
      num_images: examples drawn in the image summaries.

    Attributes:
      hyperparameters: the builder arguments: the size's, then the given
        ones (what `build_model` passes and `hparams` records).
      data: what `load_data` returned (loaded with `eval_batch_size`
        batches and seed 0 when read before `prepare`).

    Raises:
      ValueError: on an unknown dataset, model or size (listing the known
        ones), or a non-positive `eval_batch_size` or `num_images`.
    """

    #: The registry of datasets and that of models (set by the subclass).
    DATASETS: registry.Registry
    MODELS: registry.Registry
    #: `load_data(name, batch_size=, eval_batch_size=, seed=, data_dir=,
    #: image_kind=, eval_split=, train_limit=, eval_limit=, options=)`,
    #: returning an object with spec, train and eval ((inputs, targets[,
    #: info]) batches) and train_checkpointable.
    load_data: Callable

    def __init__(
        self,
        dataset: str,
        model: str,
        size: str = "small",
        hyperparameters: Optional[Mapping[str, object]] = None,
        eval_batch_size: int = 256,
        data_dir: Optional[str] = None,
        image_kind: Optional[str] = None,
        eval_split: Optional[str] = None,
        train_limit: Optional[int] = None,
        eval_limit: Optional[int] = None,
        options: Optional[Mapping[str, object]] = None,
        num_images: int = 6,
    ):
        self.DATASETS.get(dataset)  # Unknown names fail here.
        self.hyperparameters = self.MODELS.arguments(
            model, size, **dict(hyperparameters or {})
        )
        validation.check_positive_int("eval_batch_size", eval_batch_size)
        validation.check_positive_int("num_images", num_images)
        self.dataset = dataset
        self.model_name = model
        self.size = size
        self.eval_batch_size = eval_batch_size
        self.data_dir, self.options = data_dir, options
        self._load_args = dict(
            data_dir=data_dir,
            image_kind=image_kind,
            eval_split=eval_split,
            train_limit=train_limit,
            eval_limit=eval_limit,
            options=options,
        )
        self.num_images = num_images
        self._data = self._eval_batch_size = None

    # Data and model.
    def prepare(self, batch_size, eval_batch_size, seed):
        self._data = self.adapt_data(
            self.load_data(
                self.dataset,
                batch_size=batch_size,
                eval_batch_size=eval_batch_size,
                seed=seed,
                **self._load_args,
            )
        )
        self._eval_batch_size = eval_batch_size
        return task_lib.TaskData(
            train=task_lib.named_batches(self._data.train),
            eval=self.named_eval(self._data.eval),
            spec=self._data.spec,
            train_checkpointable=self._data.train_checkpointable,
        )

    def adapt_data(self, data):
        """What `prepare` keeps of the loader's result (`data`, unchanged
        here); a subclass whose model reads the data otherwise than the
        loader describes it (e.g. a backbone inside the model) overrides
        it."""
        return data

    def named_eval(self, dataset):
        """The loader's eval batches as named batches (`prepare`); a
        subclass whose loader gives another structure overrides it."""
        return task_lib.named_batches(dataset)

    @property
    def data(self):
        """What `load_data` returned to the last `prepare` (which this
        calls, with `eval_batch_size` batches and seed 0, if it has not
        run)."""
        if self._data is None:
            self.prepare(self.eval_batch_size, self.eval_batch_size, 0)
        return self._data

    @data.setter
    def data(self, value):
        self._data = value

    def eval_batches(self, batch_size: int):
        """One pass of the named eval batches of `data`, `batch_size` at a
        time."""
        evaluation = self.data.eval
        if batch_size != self._eval_batch_size:
            evaluation = evaluation.unbatch().batch(batch_size)
        return self.named_eval(evaluation)

    @property
    def spec(self):
        return self.data.spec

    def build_model(self):
        return self.MODELS.build(
            self.model_name, self.spec, **self.hyperparameters
        )

    def hparams(self):
        return {
            "dataset": self.dataset,
            "model": self.model_name,
            "model_size": self.size,
            **{f"model/{k}": v for k, v in self.hyperparameters.items()},
        }
