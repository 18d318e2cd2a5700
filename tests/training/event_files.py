"""Reads TensorBoard event files back, for tests of what a run logged."""

import glob
import os

import tensorflow as tf


def read_tags(folder):
    """{tag: [(step, value)]} of the event files in `folder`; value is the
    first number of a numeric tensor, None for text, images and other
    non-numeric summaries."""
    tags = {}
    for path in sorted(
        glob.glob(os.path.join(folder, "events.out.tfevents.*"))
    ):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                number = None
                if value.HasField("tensor") and not value.tensor.string_val:
                    array = tf.make_ndarray(value.tensor)
                    number = float(array.ravel()[0]) if array.size else None
                tags.setdefault(value.tag, []).append((event.step, number))
    return tags
