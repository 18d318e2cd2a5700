"""What the VQA and matching tasks share: a model of a zoo registry, at one
of its sizes, trained on a dataset of a data registry.

`ZooTask` holds the constructor's checks, the data loading and the model
building; a subclass names its two registries and its loader:

    class VqaTask(ZooTask):
        DATASETS = vqa_sources.VQA_DATASETS
        MODELS = vqa_models.VQA_MODELS
        load_data = staticmethod(vqa_sources.load_vqa_data)

and adds its loss, metrics and figures (`training.Task`).
"""

from typing import Callable, Mapping, Optional

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
      data: what `load_data` returned (None until loaded).

    Raises:
      ValueError: on an unknown dataset, model or size (listing the known
        ones), or a non-positive `eval_batch_size` or `num_images`.
    """

    #: The registry of datasets and that of models (set by the subclass).
    DATASETS: registry.Registry
    MODELS: registry.Registry
    #: `load_data(name, batch_size=, eval_batch_size=, seed=, data_dir=,
    #: image_kind=, eval_split=, train_limit=, eval_limit=, options=)`,
    #: returning an object with spec, train, eval and train_checkpointable.
    load_data: Callable

    def __init__(self, dataset: str, model: str, size: str = "small",
                 hyperparameters: Optional[Mapping[str, object]] = None,
                 eval_batch_size: int = 256, data_dir: Optional[str] = None,
                 image_kind: Optional[str] = None,
                 eval_split: Optional[str] = None,
                 train_limit: Optional[int] = None,
                 eval_limit: Optional[int] = None,
                 options: Optional[Mapping[str, object]] = None,
                 num_images: int = 6):
        self.DATASETS.get(dataset)  # Unknown names fail here.
        self.hyperparameters = self.MODELS.arguments(
            model, size, **dict(hyperparameters or {}))
        validation.check_positive_int("eval_batch_size", eval_batch_size)
        validation.check_positive_int("num_images", num_images)
        self.dataset = dataset
        self.model_name = model
        self.size = size
        self.eval_batch_size = eval_batch_size
        self.data_dir, self.options = data_dir, options
        self._load_args = dict(data_dir=data_dir, image_kind=image_kind,
                               eval_split=eval_split,
                               train_limit=train_limit,
                               eval_limit=eval_limit, options=options)
        self.num_images = num_images
        self.data = None

    # Data and model.
    def load(self, batch_size: int, seed: int = 0):
        """Loads (and keeps) the data with train batches of `batch_size`;
        returns it."""
        self.data = self.load_data(
            self.dataset, batch_size=batch_size,
            eval_batch_size=self.eval_batch_size, seed=seed,
            **self._load_args)
        self.train_checkpointable = self.data.train_checkpointable
        return self.data

    def _ensure_data(self):
        if self.data is None:
            self.load(self.eval_batch_size)
        return self.data

    def train_dataset(self, batch_size, seed):
        return self.load(batch_size, seed).train

    def eval_dataset(self, batch_size):
        data = self._ensure_data()
        if batch_size == self.eval_batch_size:
            return data.eval
        return data.eval.unbatch().batch(batch_size)

    @property
    def spec(self):
        return self._ensure_data().spec

    def build_model(self):
        return self.MODELS.build(self.model_name, self.spec,
                                 **self.hyperparameters)

    def hparams(self):
        return {"dataset": self.dataset, "model": self.model_name,
                "model_size": self.size,
                **{f"model/{k}": v for k, v in self.hyperparameters.items()}}
