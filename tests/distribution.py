"""One MirroredStrategy over two logical CPUs, shared by every test module.

Strategies created one after another in a process can reuse collective
instance keys and abort each other's all-reduces ("Shape mismatch in the
collective instance"), and pytest-xdist runs several test modules in one
worker process, so every test that needs mirrored training takes this one.
"""

import functools

import tensorflow as tf

from mi_zoo.training import devices


@functools.cache
def mirrored_strategy():
    """The process-wide MirroredStrategy over the first two CPU devices."""
    cpus = [d.name for d in devices.split_cpu(2)[:2]]
    return tf.distribute.MirroredStrategy(cpus)
