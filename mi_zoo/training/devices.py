"""Logical CPU devices, so that mirrored training runs without GPUs."""

import tensorflow as tf

from mi_zoo.core import validation


def split_cpu(replicas: int) -> list:
    """Splits the physical CPU into `replicas` logical devices.

    Must run before TensorFlow initialises its devices (before the first op).
    Calling it again with the same or a smaller count is a no-op.

    Args:
      replicas: number of logical CPU devices wanted (>= 1).

    Returns:
      The logical CPU devices.

    Raises:
      ValueError: if `replicas` is not a positive int.
      RuntimeError: if TensorFlow already initialised fewer CPU devices.
    """
    validation.check_positive_int("replicas", replicas)
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is not None and len(current) >= replicas:
        return tf.config.list_logical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * replicas
        )
    except RuntimeError as e:
        have = len(tf.config.list_logical_devices("CPU"))
        if have >= replicas:
            return tf.config.list_logical_devices("CPU")
        raise RuntimeError(
            f"split_cpu(replicas={replicas}) must run before TensorFlow "
            f"initialises its devices; it already has {have} CPU device(s)."
        ) from e
    return tf.config.list_logical_devices("CPU")
