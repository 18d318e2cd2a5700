"""The training engine: trains a `Task` under a `tf.distribute` strategy.

    results = train(task, TrainConfig(model_dir="/tmp/run", train_steps=500),
                    strategy=make_strategy("mirrored", cpu_replicas=2))

What it does, in order:
1. Opens the model_dir (`RunDirectory`): takes its lock (one run per
   folder), with `overwrite` deletes an earlier run's own files (refusing a
   folder that holds anything else), refuses a finished run unless
   `train_steps` extends it, refuses to resume a run started with other
   settings.
2. Gets the data from the task, once (`Task.prepare`: train and eval
   batches of named parts, and the spec). Under `strategy.scope()`: sets
   the mixed-precision policy, seeds, builds the model, the optimizer
   (with warm-up schedule and clipping) and the
   metrics.
3. Restores the newest checkpoint of `<model_dir>/checkpoints` that reads
   back (`checkpoints.CheckpointStore`; a damaged newer one is reported and
   set aside): the model, the optimizer, the step, the dropout seed states
   and the position of the train data iterator, so a killed run started
   again with the same settings goes on from its last checkpoint and ends
   where an uninterrupted run would (exactly so with `deterministic=True`).
   Then writes flags.json: the run has started.
4. Trains: each step reads the global batch from one host iterator on
   every worker (all workers run the same pipeline), gives replica r of R
   its rows [r·B/R, (r+1)·B/R), averages the per-example losses over the
   *global* batch on each replica (`tf.nn.compute_average_loss`) and lets
   the optimizer sum the gradients over replicas, so a mirrored or
   multi-worker step equals a one-device step on the same global batch, and
   a row of the batch (a text stream, for language models) always goes to
   the same replica.
5. Logs `train/*` scalars (loss, metrics, learning rate, steps/s,
   examples/s), histograms of weights and gradients, the task's images,
   evaluates (`eval/*`) and checkpoints at the configured rates; only the
   chief writes.
6. At the end: final evaluation, results.json, model.keras and a
   SavedModel (`saved_model/`) for serving.
"""

import dataclasses
import os
import time
from typing import Dict
from typing import Mapping
from typing import Optional

from absl import logging
import keras
import tensorflow as tf

from mi_zoo.training import checkpoints as checkpoints_lib
from mi_zoo.training import optimization
from mi_zoo.training import progress as progress_lib
from mi_zoo.training import run_directory
from mi_zoo.training import strategies
from mi_zoo.training import summaries as summaries_lib
from mi_zoo.training import task as task_lib

#: Settings that may change when a run is resumed: what is logged and how
#: often, and the number of replicas on one worker (the global batch and
#: the data order do not depend on it). `train_steps` may change too: a
#: larger value extends the run (`RunDirectory.length_setting`), and the
#: learning-rate schedule is compared through `decay_steps`, which records
#: the decay's length in effect.
RESUMABLE_SETTINGS = (
    "log_every",
    "histogram_every",
    "image_every",
    "eval_every",
    "checkpoint_every",
    "overwrite",
    "export",
    "keep_checkpoints",
    "max_seconds",
    "cpu_replicas",
    "replicas",
    "verbosity",
)

_DECAY_HINT = (
    "(A decay's length defaults to --train_steps minus --warmup_steps: to "
    "extend a run with its schedule unchanged, pass --decay_steps with the "
    "earlier value.)"
)


class ConfigError(ValueError):
    """A `TrainConfig` field has a value it cannot take.

    Attributes:
      field: the field's name (a binary says `--<field>`).
    """

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _field(
    default=dataclasses.MISSING,
    help: str = "",  # pylint: disable=redefined-builtin
    **flag,
):
    """A `TrainConfig` field with its help and flag bounds (`lower_bound`,
    `upper_bound`, `choices`), from which `mi_zoo.experiments.flags` makes
    the binaries' flags: one default and one help per setting."""
    return dataclasses.field(default=default, metadata={"help": help, **flag})


@dataclasses.dataclass
class TrainConfig:
    """Settings of the engine; the binaries' flags are made from these
    fields (`mi_zoo.experiments.flags`), each field's metadata holding its
    help and bounds.

    Attributes:
      model_dir: where checkpoints, summaries and results go.
      train_steps: optimizer steps of the run.
      batch_size: the global batch (summed over replicas and workers).
      eval_batch_size: global batch of evaluation (None: batch_size).
      optimizer: one of `optimization.OPTIMIZER_NAMES`.
      learning_rate: peak learning rate.
      warmup_steps: linear warm-up steps.
      decay: "constant", "cosine", "linear", "exponential" or "step".
      decay_steps: length/period of the decay (None: the steps after the
        warm-up).
      decay_rate: factor of the exponential decay, and of the step decay
        at each boundary.
      decay_boundaries: the step decay's boundaries, comma-separated global
        steps ("17340,20808"; None: none), at each of which the rate is
        multiplied by `decay_rate`.
      clip_norm: global gradient-norm clipping (None: none).
      mixed_precision: compute in float16 on GPUs (with dynamic loss
        scaling) or bfloat16 on CPUs and TPUs; variables stay float32.
      jit_compile: compile the forward and backward pass with XLA.
      seed: seeds the weights, dropout and the data order.
      deterministic: make TensorFlow's ops deterministic (slower), so that
        two runs with the same seed give the same numbers.
      log_every: steps between train scalars and progress updates.
      eval_every: steps between evaluations (0: only at the end).
      checkpoint_every: steps between checkpoints (at most this many steps
        are lost when a run is killed).
      histogram_every: steps between weight/gradient histograms (0: never).
      image_every: steps between image summaries (0: only at the end).
      keep_checkpoints: checkpoints kept on disk.
      precise_bn_batches: before every evaluation and the export, set the
        batch norms' moving statistics to their average over this many
        train batches under the current weights ("precise BN", Wu &
        Johnson 2021); 0 keeps the moving averages of training.
      overwrite: delete an earlier run's own files in model_dir (a folder
        holding anything else is refused) instead of refusing a finished
        run.
      export: write model.keras and saved_model/ at the end.
      max_seconds: stop training after this many seconds of this process's
        training loop (0: no limit) with a checkpoint and an evaluation,
        leaving the run unfinished (no results.json, no export): started
        again with the same settings it resumes there. A wall-clock budget
        (`benchmarks/time_to_accuracy.py`).
    """

    model_dir: str = _field(
        help="Run directory: checkpoints, TensorBoard logs (point "
        "`tensorboard --logdir` here), flags.json, results.json and the "
        "exported model. A run started again with the same flags resumes "
        "from its last checkpoint."
    )
    train_steps: int = _field(
        1000,
        "Optimizer steps. A larger value on a finished run extends it.",
        lower_bound=1,
    )
    batch_size: int = _field(
        64,
        "Global batch size (split over replicas and workers).",
        lower_bound=1,
    )
    eval_batch_size: Optional[int] = _field(
        None, "Global evaluation batch (default: --batch_size).", lower_bound=1
    )
    optimizer: str = _field(
        "adam", "Optimizer.", choices=optimization.OPTIMIZER_NAMES
    )
    learning_rate: float = _field(1e-3, "Peak learning rate.", lower_bound=0.0)
    warmup_steps: int = _field(
        0, "Steps of linear learning-rate warm-up.", lower_bound=0
    )
    decay: str = _field(
        "constant",
        "Learning-rate decay after the warm-up.",
        choices=optimization.DECAYS,
    )
    decay_steps: Optional[int] = _field(
        None,
        "Length of the cosine/linear decay, or period of the "
        "exponential one (default: the steps after the warm-up).",
        lower_bound=1,
    )
    decay_rate: float = _field(
        0.5,
        "Factor of the exponential decay per --decay_steps, and of the "
        "step decay at each of --decay_boundaries.",
        lower_bound=0.0,
        upper_bound=1.0,
    )
    decay_boundaries: Optional[str] = _field(
        None,
        "--decay=step only: comma-separated global steps (warm-up "
        "included), e.g. '17340,20808', at each of which the rate is "
        "multiplied by --decay_rate.",
    )
    clip_norm: Optional[float] = _field(
        None, "Clip gradients to this global norm.", lower_bound=0.0
    )
    mixed_precision: bool = _field(
        False,
        "Compute in float16 (GPU, with loss scaling) or bfloat16 "
        "(CPU/TPU); variables stay float32.",
    )
    jit_compile: bool = _field(
        False,
        "Compile the forward and backward pass with XLA (on a CPU, not "
        "with --mixed_precision: the fusions' bfloat16 steps were "
        "1.4-1.9x slower under XLA than without it; docs/benchmarks.md "
        "section 3n).",
    )
    seed: int = _field(
        0, "Seed of the weights, dropout and data order.", lower_bound=0
    )
    deterministic: bool = _field(
        False,
        "Deterministic TensorFlow ops (slower): the same seed gives "
        "the same numbers, also across a resume.",
    )
    log_every: int = _field(
        50, "Steps between train scalars and progress lines.", lower_bound=1
    )
    eval_every: int = _field(
        500, "Steps between evaluations (0: only at the end).", lower_bound=0
    )
    checkpoint_every: int = _field(
        200,
        "Steps between checkpoints: a killed run loses at most this "
        "many steps.",
        lower_bound=1,
    )
    histogram_every: int = _field(
        500,
        "Steps between weight and gradient histograms (0: never).",
        lower_bound=0,
    )
    image_every: int = _field(
        500,
        "Steps between image summaries (0: only at the end).",
        lower_bound=0,
    )
    keep_checkpoints: int = _field(
        3, "Checkpoints kept on disk.", lower_bound=1
    )
    precise_bn_batches: int = _field(
        0,
        "Before each evaluation and the export, recompute the batch "
        "norms' moving statistics over this many train batches with the "
        "current weights (precise BN); 0: keep training's moving averages.",
        lower_bound=0,
    )
    overwrite: bool = _field(
        False,
        "Delete an earlier run's files in --model_dir (only a run's "
        "own: flags.json, checkpoints/, train/, eval/, results.json, "
        "model.keras, saved_model/ and the binary's outputs; a folder "
        "holding anything else is refused) and train again. Without it a "
        "finished run is refused, unless a larger --train_steps extends "
        "it.",
    )
    export: bool = _field(
        True, "Write model.keras and a SavedModel at the end."
    )
    max_seconds: float = _field(
        0.0,
        "Stop after this many seconds of training in this process (0: no "
        "limit), with a checkpoint and an evaluation; the run stays "
        "unfinished and resumes when started again.",
        lower_bound=0.0,
    )

    def __post_init__(self):
        if not self.model_dir or not isinstance(self.model_dir, str):
            raise ConfigError(
                "model_dir",
                f"`model_dir` is required: the "
                f"run directory for checkpoints, TensorBoard "
                f"logs and results; got "
                f"model_dir={self.model_dir!r}.",
            )
        for f in dataclasses.fields(self)[1:]:
            _check_field(f, getattr(self, f.name))
        try:
            self.boundaries()
        except ValueError as e:
            raise ConfigError("decay_boundaries", str(e)) from None
        if (self.decay == "step") != bool(self.boundaries()):
            raise ConfigError(
                "decay_boundaries",
                f"`decay_boundaries` go with "
                f"`decay`='step' and only with it, got decay={self.decay!r} "
                f"with decay_boundaries={self.decay_boundaries!r}.",
            )

    def boundaries(self):
        """The step decay's boundaries as a tuple of ints (() if none)."""
        return optimization.parse_boundaries(self.decay_boundaries)


def _check_field(f: dataclasses.Field, value):
    """Checks `value` against the field's bounds and choices."""
    lower = f.metadata.get("lower_bound")
    upper = f.metadata.get("upper_bound")
    choices = f.metadata.get("choices")
    if value is None:
        if f.default is not None:  # Only Optional fields default to None.
            raise ConfigError(f.name, f"`{f.name}` must not be None.")
        return
    kind = _FIELD_TYPES.get(f.name)
    if choices is not None and value not in choices:
        raise ConfigError(
            f.name,
            f"`{f.name}` must be one of "
            f"{list(choices)}, got {f.name}={value!r}.",
        )
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(
            f.name, f"`{f.name}` must be an int, got {f.name}={value!r}."
        )
    if kind is float and (
        isinstance(value, bool) or not isinstance(value, (int, float))
    ):
        raise ConfigError(
            f.name, f"`{f.name}` must be a number, got {f.name}={value!r}."
        )
    if kind is bool and not isinstance(value, bool):
        raise ConfigError(
            f.name,
            f"`{f.name}` must be True or False, got {f.name}={value!r}.",
        )
    if lower is not None and value < lower:
        raise ConfigError(
            f.name, f"`{f.name}` must be >= {lower}, got {f.name}={value!r}."
        )
    if upper is not None and value > upper:
        raise ConfigError(
            f.name, f"`{f.name}` must be <= {upper}, got {f.name}={value!r}."
        )


def field_type(f: dataclasses.Field):
    """int, float, bool or str: the type of a `TrainConfig` field, with
    Optional removed."""
    kind = f.type
    args = [a for a in getattr(kind, "__args__", ()) if a is not type(None)]
    return args[0] if args else kind


_FIELD_TYPES = {f.name: field_type(f) for f in dataclasses.fields(TrainConfig)}


def _mixed_precision_policy():
    if tf.config.list_logical_devices("GPU"):
        return "mixed_float16"
    return "mixed_bfloat16"


def _float32(tree):
    return tf.nest.map_structure(
        lambda t: tf.cast(t, tf.float32) if t.dtype.is_floating else t, tree
    )


def _seed_states(model):
    """The state variables of the model's random layers (dropout), which a
    Keras model does not put in its checkpoint by itself."""
    return [v for v in model.variables if "seed_generator_state" in v.path]


class Trainer:
    """Trains one task; see the module docstring. Use `train()`."""

    def __init__(
        self,
        task,
        config: TrainConfig,
        strategy: Optional[tf.distribute.Strategy] = None,
        settings: Optional[Mapping[str, object]] = None,
        interactive: Optional[bool] = None,
    ):
        self.task = task
        self.config = config
        self.strategy = strategy or tf.distribute.get_strategy()
        (self.worker_index, self.num_workers, self.is_chief) = (
            strategies.worker_info(self.strategy)
        )
        replicas = self.strategy.num_replicas_in_sync
        if config.batch_size % replicas:
            raise ConfigError(
                "batch_size",
                f"`batch_size`={config.batch_size} must be a "
                f"multiple of the {replicas} replicas of the strategy.",
            )
        all_settings = dict(dataclasses.asdict(config))
        all_settings.update(settings or {})
        all_settings["replicas"] = replicas
        all_settings["decay_steps"] = self.decay_steps()
        self.settings = all_settings
        self.run_dir = run_directory.RunDirectory(
            config.model_dir,
            all_settings,
            ignore=RESUMABLE_SETTINGS,
            outputs=task.outputs,
            length_setting="train_steps",
            hints={"decay_steps": _DECAY_HINT},
        )
        self.interactive = interactive

    def eval_batch_size(self) -> int:
        """The global evaluation batch (`eval_batch_size`, or
        `batch_size`)."""
        return self.config.eval_batch_size or self.config.batch_size

    def decay_steps(self) -> Optional[int]:
        """The length of the learning-rate decay in effect (None: constant
        after the warm-up, or a step decay, whose boundaries are settings
        of their own)."""
        config = self.config
        if config.decay in ("constant", "step"):
            return None
        return config.decay_steps or max(
            1, config.train_steps - config.warmup_steps
        )

    # ----------------------------------------------------------- building
    def _build(self):
        config = self.config
        keras.utils.set_random_seed(config.seed)
        with progress_lib.phase("Building the data"):
            self.data = self.task.prepare(
                config.batch_size, self.eval_batch_size(), config.seed
            )
        with progress_lib.phase("Building the model"), self.strategy.scope():
            self.model = self.task.build_model()
            schedule = optimization.WarmupSchedule(
                config.learning_rate,
                config.warmup_steps,
                config.decay,
                self.decay_steps() or 1,
                config.decay_rate,
                config.boundaries(),
            )
            self.loss_scale = (
                config.mixed_precision
                and _mixed_precision_policy() == "mixed_float16"
            )
            self.optimizer = optimization.make_optimizer(
                config.optimizer,
                schedule,
                config.clip_norm,
                loss_scale=self.loss_scale,
            )
            self.optimizer.build(self.model.trainable_variables)
            self.step = tf.Variable(
                0, dtype=tf.int64, trainable=False, name="step"
            )
            self.carried = self._carried_state()
            self.train_loss = keras.metrics.Mean(name="loss")
            self.eval_loss = keras.metrics.Mean(name="loss")
            self.train_metrics = self.task.make_metrics("train")
            self.eval_metrics = self.task.make_metrics("eval")

    def _carried_state(self):
        """Per-replica variables holding the task's carried state (each
        replica keeps its own rows: ON_READ synchronization), or None."""
        replica_batch = self.config.batch_size // (
            self.strategy.num_replicas_in_sync
        )
        initial = self.task.initial_state(replica_batch)
        if initial is None:
            return None
        return {
            name: tf.Variable(
                value,
                trainable=False,
                name=f"carried_{name}",
                synchronization=tf.VariableSynchronization.ON_READ,
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
            )
            for name, value in initial.items()
        }

    def _checkpointing(self):
        """Checkpoint, the manager this worker saves with, and the train
        iterator (restored from the checkpoint when it can be saved)."""
        config = self.config
        dataset = self.data.train
        # Every worker runs the same pipeline, so the chief's saved iterator
        # position is every worker's. When the pipeline cannot be saved, a
        # resumed run re-creates it and skips the batches already seen.
        self.iterator_in_checkpoint = self.data.train_checkpointable
        objects = {
            "model": self.model,
            "optimizer": self.optimizer,
            "step": self.step,
            "seed_states": _seed_states(self.model),
        }
        if self.carried is not None:
            objects["carried_state"] = self.carried
        if self.iterator_in_checkpoint:
            self.iterator = iter(dataset)
            objects["iterator"] = self.iterator
        checkpoint = tf.train.Checkpoint(**objects)
        self._store = checkpoints_lib.CheckpointStore(
            checkpoint,
            self.run_dir.checkpoints,
            config.keep_checkpoints,
            write=self.is_chief,
        )
        # Workers must save too (saving is collective), then drop the files.
        self._scratch = (
            None
            if self.is_chief
            else os.path.join(
                self.run_dir.checkpoints, f".worker{self.worker_index}"
            )
        )
        latest = self._store.restore_latest(report=progress_lib.message)
        if not self.iterator_in_checkpoint:
            self.iterator = iter(dataset.skip(int(self.step.numpy())))
        self._saved_step = int(self.step.numpy()) if latest else None
        return latest

    def _save(self):
        step = int(self.step.numpy())
        if step == self._saved_step:
            return
        if self._scratch:
            self._store.checkpoint.write(os.path.join(self._scratch, "ckpt"))
            checkpoints_lib.remove_scratch(self._scratch)
        else:
            self._store.save(step)
        self._saved_step = step

    # -------------------------------------------------------------- steps
    def _split(self, batch):
        """The global batch -> each replica's slice (replica r of R takes
        rows [r·B/R, (r+1)·B/R), on every worker)."""
        n = self.strategy.num_replicas_in_sync

        def slice_for(context):
            index = context.replica_id_in_sync_group
            return tf.nest.map_structure(
                lambda t: tf.split(t, n)[index], batch
            )

        return self.strategy.experimental_distribute_values_from_function(
            slice_for
        )

    def _loss_and_outputs(self, inputs, targets):
        state = (
            None
            if self.carried is None
            else {k: v.read_value() for k, v in self.carried.items()}
        )
        outputs, new_state = self.task.call_model(
            self.model, inputs, state, training=True
        )
        if new_state is not None:
            for name, value in new_state.items():
                self.carried[name].assign(tf.stop_gradient(value))
        outputs = _float32(outputs)
        per_example = tf.cast(
            self.task.per_example_loss(targets, outputs, inputs), tf.float32
        )  # [B]
        loss = tf.nn.compute_average_loss(
            per_example, global_batch_size=self.config.batch_size
        )
        if self.model.losses:
            loss += tf.nn.scale_regularization_loss(
                tf.add_n([tf.cast(l, tf.float32) for l in self.model.losses])
            )
        return loss, per_example, outputs

    def _gradients(self, inputs, targets):
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            loss, per_example, outputs = self._loss_and_outputs(
                inputs, targets
            )
            scaled = (
                self.optimizer.scale_loss(loss) if self.loss_scale else loss
            )
        grads = tape.gradient(scaled, variables)
        return grads, per_example, outputs

    def _replica_step(self, batch, with_grads):
        inputs, targets = batch[task_lib.INPUTS], batch[task_lib.TARGETS]
        grads, per_example, outputs = self._compute(inputs, targets)
        self.optimizer.apply_gradients(
            zip(grads, self.model.trainable_variables)
        )
        self.train_loss.update_state(per_example)
        self.task.update_metrics(self.train_metrics, targets, outputs)
        if not with_grads:
            return []
        if self.loss_scale:
            grads = [g / self.optimizer.dynamic_scale for g in grads]
        return grads

    def _train_step(self, with_grads):
        batch = next(self.iterator)
        grads = self.strategy.run(
            self._replica_step, args=(self._split(batch), with_grads)
        )
        self.step.assign_add(1)
        if with_grads:
            return [self.strategy.reduce("SUM", g, axis=None) for g in grads]
        return []

    def _eval_replica_step(self, batch):
        inputs, targets = batch[task_lib.INPUTS], batch[task_lib.TARGETS]
        info = batch.get(task_lib.INFO)
        outputs, _ = self.task.call_model(
            self.model, inputs, None, training=False
        )
        outputs = _float32(outputs)
        per_example = self.task.per_example_loss(targets, outputs, inputs)
        self.eval_loss.update_state(per_example)
        self.task.update_metrics(self.eval_metrics, targets, outputs, info)

    def _eval_step(self, batch):
        self.strategy.run(self._eval_replica_step, args=(batch,))

    def _compile(self):
        compute = self._gradients
        if self.config.jit_compile:
            compute = tf.function(compute, jit_compile=True)
        self._compute = compute
        self._train_fn = tf.function(self._train_step)
        self._eval_fn = tf.function(self._eval_step)

    # ---------------------------------------------------------- reporting
    def _reset(self, loss, metrics):
        loss.reset_state()
        for metric in metrics.values():
            metric.reset_state()

    def _train_scalars(self, steps, seconds):
        values = {"loss": float(self.train_loss.result())}
        values.update(self.task.metric_results(self.train_metrics))
        values["learning_rate"] = float(self.optimizer.learning_rate)
        values["steps_per_second"] = steps / seconds
        values["examples_per_second"] = (
            steps * self.config.batch_size / seconds
        )
        self._reset(self.train_loss, self.train_metrics)
        return values

    def precise_batch_norm(self):
        """Sets every BatchNormalization layer's moving mean and variance
        to the average of its batch statistics over `precise_bn_batches`
        train batches, with the current weights (the running average is
        exact: momentum k/(k+1) at batch k). The moving averages of training
        lag behind weights that change quickly; these do not. The dropout
        seed states are put back afterwards, so training goes on as if
        nothing had run."""
        layers = [
            layer
            for layer in self.model._flatten_layers()  # pylint: disable=protected-access
            if isinstance(layer, keras.layers.BatchNormalization)
        ]
        if not layers or not self.config.precise_bn_batches:
            return
        seeds = [(v, v.numpy()) for v in _seed_states(self.model)]
        momenta = [layer.momentum for layer in layers]
        iterator = iter(self.data.train)  # a fresh pass: training's unmoved
        try:
            for k in range(self.config.precise_bn_batches):
                for layer in layers:
                    layer.momentum = k / (k + 1)
                inputs = next(iterator)[task_lib.INPUTS]
                self.task.call_model(self.model, inputs, None, training=True)
        finally:
            for layer, momentum in zip(layers, momenta):
                layer.momentum = momentum
            for variable, value in seeds:
                variable.assign(value)

    def evaluate(self) -> Dict[str, float]:
        """Evaluation metrics of the current model."""
        self.precise_batch_norm()
        custom = self.task.evaluate(self.model, self.eval_batch_size())
        if custom is not None:
            return dict(custom)
        dataset = self.data.eval
        if dataset is None:
            return {}
        self._reset(self.eval_loss, self.eval_metrics)
        for batch in self.strategy.experimental_distribute_dataset(dataset):
            self._eval_fn(batch)
        values = {"loss": float(self.eval_loss.result())}
        values.update(self.task.metric_results(self.eval_metrics))
        return values

    def _histograms(self, grads):
        variables = self.model.trainable_variables
        self.summaries.histograms(
            "train",
            {f"weights/{v.path}": v.value for v in variables},
            self.current_step,
        )
        self.summaries.histograms(
            "train",
            {
                f"gradients/{v.path}": g
                for v, g in zip(variables, grads)
                if g is not None
            },
            self.current_step,
        )

    def _images(self):
        if self.is_chief:
            self.summaries.images(
                "eval", self.task.summary_images(self.model), self.current_step
            )
            for name, text in self.task.summary_texts(self.model).items():
                self.summaries.text(
                    "eval", f"eval/{name}", text, self.current_step
                )

    # --------------------------------------------------------------- run
    def run(self) -> Dict[str, object]:
        """Trains to `train_steps`; returns the results (also written to
        results.json by the chief)."""
        config = self.config
        if not config.overwrite:  # What it says beats a settings diff.
            self.task.check_run_files(config.model_dir)
        with self.run_dir.opened(
            config.overwrite, write=self.is_chief
        ) as resuming:
            if config.deterministic:
                tf.config.experimental.enable_op_determinism()
            previous_policy = keras.config.dtype_policy()
            if config.mixed_precision:
                keras.config.set_dtype_policy(_mixed_precision_policy())
            try:
                return self._run(resuming)
            finally:
                keras.config.set_dtype_policy(previous_policy)

    def _run(self, resuming):
        config = self.config
        self._build()
        restored = self._checkpointing()
        self.current_step = int(self.step.numpy())
        self.run_dir.check_step(self.current_step)
        self.run_dir.start(write=self.is_chief)
        if self.is_chief:
            self.task.write_run_files(config.model_dir)
        self._compile()
        self.summaries = summaries_lib.Summaries(
            config.model_dir, enabled=self.is_chief
        )
        progress = progress_lib.Progress(
            config.train_steps, self.current_step, self.interactive
        )
        if restored:
            progress.message(
                f"Resuming from {restored} at step "
                f"{self.current_step} of {config.train_steps}."
            )
        elif not resuming:
            self.summaries.settings(
                self.settings,
                {
                    **self.task.hparams(),
                    **{
                        k: v
                        for k, v in self.settings.items()
                        if k
                        in (
                            "optimizer",
                            "learning_rate",
                            "batch_size",
                            "train_steps",
                            "seed",
                            "mixed_precision",
                        )
                    },
                },
            )
        progress.message(
            f"TensorBoard: tensorboard --logdir {config.model_dir}"
        )
        last_time, last_step = time.perf_counter(), self.current_step
        started = last_time
        start_step = self.current_step
        train_values = {}
        while self.current_step < config.train_steps:
            next_step = self.current_step + 1
            with_grads = bool(
                config.histogram_every
                and next_step % config.histogram_every == 0
            )
            if next_step == start_step + 1:  # Traces the graph: slow.
                with progress.phase("First step (building the graph)"):
                    grads = self._train_fn(with_grads)
            else:
                grads = self._train_fn(with_grads)
            self.current_step = next_step
            step = next_step
            if with_grads:
                self._histograms(grads)
            if step % config.log_every == 0 or step == config.train_steps:
                now = time.perf_counter()
                train_values = self._train_scalars(
                    step - last_step, now - last_time
                )
                self.summaries.scalars("train", train_values, step)
                progress.update(step, train_values)
                last_time, last_step = time.perf_counter(), step
            if step % config.checkpoint_every == 0:
                self._save()
            paused = time.perf_counter()  # Rates leave evaluation out.
            if (
                config.eval_every
                and step % config.eval_every == 0
                and step < config.train_steps
            ):
                with progress.phase(f"Evaluating at step {step}"):
                    values = self.evaluate()
                self.summaries.scalars("eval", values, step)
            if (
                config.image_every
                and step % config.image_every == 0
                and step < config.train_steps
            ):
                self._images()
            last_time += time.perf_counter() - paused
            if (
                config.max_seconds
                and time.perf_counter() - started >= config.max_seconds
                and step < config.train_steps
            ):
                progress.message(
                    f"Stopping at step {step}: --max_seconds="
                    f"{config.max_seconds:g} reached (the run resumes when "
                    f"started again)."
                )
                return self._finish(train_values, progress, stopped=True)
        return self._finish(train_values, progress)

    def _finish(self, train_values, progress, stopped=False):
        """Checkpoint, evaluation and results; the export and results.json
        too unless `stopped` (by `max_seconds`: the run stays
        unfinished)."""
        config = self.config
        step = self.current_step
        if self._saved_step != step:
            with progress.phase(f"Saving checkpoint ckpt-{step}"):
                self._save()
        with progress.phase("Final evaluation"):
            eval_values = self.evaluate()
        self.summaries.scalars("eval", eval_values, step)
        self._images()
        self.summaries.flush()
        results = {
            "step": step,
            "train": train_values,
            "eval": eval_values,
            "parameters": int(self.model.count_params()),
        }
        if stopped:
            results["stopped"] = True
        progress.message(
            "Final evaluation: "
            + ", ".join(f"{k}={v:.4g}" for k, v in eval_values.items())
        )
        if self.is_chief and not stopped:
            if config.export:
                with progress.phase("Exporting model.keras and saved_model/"):
                    self.model.save(self.run_dir.file("model.keras"))
                    self.task.export_serving(
                        self.model, self.run_dir.file("saved_model")
                    )
            self.run_dir.write_json(run_directory.RESULTS_FILE, results)
            logging.info(
                "Results in %s", self.run_dir.file(run_directory.RESULTS_FILE)
            )
        return results


def train(
    task, config: TrainConfig, strategy=None, settings=None, interactive=None
) -> Dict[str, object]:
    """Trains `task`; see the module docstring.

    Args:
      task: a `mi_zoo.training.task.Task`.
      config: the engine's `TrainConfig`.
      strategy: a `tf.distribute.Strategy` (None: the default one).
      settings: more settings to record in flags.json (e.g. all flags).
      interactive: draw a progress bar (None: when stdout is a terminal).

    Returns:
      {"step", "train": last train scalars, "eval": final evaluation,
      "parameters"}.
    """
    return Trainer(task, config, strategy, settings, interactive).run()
