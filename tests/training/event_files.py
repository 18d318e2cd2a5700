"""Reads TensorBoard event files back, for tests of what a run logged."""

import glob
import os

import tensorflow as tf


def read_tags(folder):
    """{tag: [(step, value)]} of the event files in `folder`, in the order
    written (by wall time: a writer's file name ends in a per-process
    counter, so sorting names puts "...10.v2" before "...9.v2"); value is
    the first number of a numeric tensor, None for text, images and other
    non-numeric summaries."""
    events = []
    for path in glob.glob(os.path.join(folder, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                number = None
                if value.HasField("tensor") and not value.tensor.string_val:
                    array = tf.make_ndarray(value.tensor)
                    number = float(array.ravel()[0]) if array.size else None
                events.append((event.wall_time, value.tag, event.step, number))
    tags = {}
    # sorted() is stable: events of one file keep their order on ties.
    for _, tag, step, number in sorted(events, key=lambda e: e[0]):
        tags.setdefault(tag, []).append((step, number))
    return tags
