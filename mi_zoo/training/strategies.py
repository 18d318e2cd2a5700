"""Distribution strategies chosen by name, as the `--strategy` flag does.

    strategy = make_strategy("mirrored", cpu_replicas=2)
    with strategy.scope():
        model = ...   # variables, optimizer and metrics created here

Names (`STRATEGY_NAMES`):
  auto: mirrored over all GPUs when there are several, else one device.
  default: TensorFlow's default (no-op) strategy.
  one_device: `OneDeviceStrategy` on the first GPU, else the CPU.
  mirrored: `MirroredStrategy` over all GPUs, or over the logical CPU
    devices made by `cpu_replicas` when there is no GPU.
  multi_worker: `MultiWorkerMirroredStrategy`; the cluster comes from the
    `TF_CONFIG` environment variable, as for every TensorFlow job that spans
    machines.
  tpu: `TPUStrategy` on the TPU found by `TPUClusterResolver`.
"""

import json
import os

import tensorflow as tf

from mi_zoo.core import registry
from mi_zoo.core import validation
from mi_zoo.training import devices

STRATEGIES = registry.Registry("strategy")


def _gpus():
    return tf.config.list_logical_devices("GPU")


@STRATEGIES.register("default")
def _default():
    return tf.distribute.get_strategy()


@STRATEGIES.register("one_device")
def _one_device():
    gpus = _gpus()
    return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")


@STRATEGIES.register("mirrored")
def _mirrored():
    gpus = _gpus()
    if gpus:
        return tf.distribute.MirroredStrategy([d.name for d in gpus])
    return tf.distribute.MirroredStrategy(
        [d.name for d in tf.config.list_logical_devices("CPU")]
    )


@STRATEGIES.register("auto")
def _auto():
    return _mirrored() if len(_gpus()) > 1 else _one_device()


@STRATEGIES.register("multi_worker")
def _multi_worker():
    if not os.environ.get("TF_CONFIG"):
        raise ValueError(
            "--strategy=multi_worker reads the cluster from the TF_CONFIG "
            "environment variable, which is not set; see "
            "https://www.tensorflow.org/guide/distributed_training"
            "#setting_up_the_tf_config_environment_variable."
        )
    return tf.distribute.MultiWorkerMirroredStrategy()


@STRATEGIES.register("tpu")
def _tpu():
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as e:
        raise RuntimeError(f"--strategy=tpu found no TPU: {e}") from e
    return tf.distribute.TPUStrategy(resolver)


STRATEGY_NAMES = STRATEGIES.names()


def make_strategy(name: str, cpu_replicas: int = 1) -> tf.distribute.Strategy:
    """The strategy called `name`.

    Args:
      name: one of `STRATEGY_NAMES`.
      cpu_replicas: split the CPU into this many logical devices first (so
        that "mirrored" runs several replicas without GPUs). Must be given
        before TensorFlow runs its first op.

    Returns:
      A `tf.distribute.Strategy`.

    Raises:
      ValueError: on an unknown name (listing the known ones) or a bad
        `cpu_replicas`.
    """
    validation.check_choice("strategy", name, STRATEGY_NAMES)
    validation.check_positive_int("cpu_replicas", cpu_replicas)
    if cpu_replicas > 1:
        devices.split_cpu(cpu_replicas)
    return STRATEGIES.build(name)


def worker_info(strategy: tf.distribute.Strategy):
    """(worker index, number of workers, is chief) of this process.

    Only multi-worker strategies have more than one worker; the chief is
    worker 0 (or the task called "chief" in TF_CONFIG) and is the only one
    that writes summaries, results and the exported model.
    """
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return 0, 1, True
    resolver = strategy.cluster_resolver
    task_type, task_id = resolver.task_type, resolver.task_id
    cluster = resolver.cluster_spec().as_dict()
    has_chief = "chief" in cluster
    workers = len(cluster.get("worker", [])) + (1 if has_chief else 0)
    if task_type == "chief":
        return 0, workers, True
    index = task_id + (1 if has_chief else 0)
    return index, workers, (not has_chief and task_id == 0)


def tf_config(workers, index):
    """The TF_CONFIG JSON of worker `index` in a cluster of "host:port"
    addresses (used by tests and the scaling benchmark)."""
    return json.dumps(
        {
            "cluster": {"worker": list(workers)},
            "task": {"type": "worker", "index": index},
        }
    )
