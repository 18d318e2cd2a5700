"""Checks shared by the tests of the dataset loaders (`vqa_sources`,
`matching_sources`) and tiny CLEVR-2D builds for them."""

import os
import tempfile

import numpy as np
import tensorflow as tf

from mi_zoo.data.clevr_2d import builder as clevr_2d_builder


def tiny_clevr2d_config(name, train_size, validation_size, test_size):
    """A CLEVR-2D config of 32-pixel images with the given split sizes."""
    return clevr_2d_builder.Clevr2dConfig(
        name=name,
        train_size=train_size,
        validation_size=validation_size,
        test_size=test_size,
        image_size=32,
    )


def numpy_tree(x):
    return tf.nest.map_structure(lambda t: t.numpy(), x)


def assert_trees_equal(a, b):
    tf.nest.assert_same_structure(a, b)
    for x, y in zip(tf.nest.flatten(a), tf.nest.flatten(b)):
        np.testing.assert_array_equal(x, y)


def assert_iterator_checkpoint_round_trip(dataset):
    """Saves an iterator of `dataset` after 2 batches, reads 2 more,
    restores it and asserts that the same 2 batches come again."""
    iterator = iter(dataset)
    for _ in range(2):
        next(iterator)
    checkpoint = tf.train.Checkpoint(iterator=iterator)
    path = checkpoint.write(os.path.join(tempfile.mkdtemp(), "ckpt"))
    first = [numpy_tree(next(iterator)) for _ in range(2)]
    checkpoint.read(path).assert_consumed()
    assert_trees_equal(first, [numpy_tree(next(iterator)) for _ in range(2)])
