"""Timing one pass over a batched `tf.data` pipeline (for the data tools)."""

import time


def time_one_pass(dataset, key):
    """Iterates `dataset` once; returns (examples, seconds).

    Args:
      dataset: yields dicts, or (dict, targets) tuples, of batched tensors.
      key: the dict entry whose leading axis counts the examples.
    """
    start, examples = time.perf_counter(), 0
    for batch in dataset:
        features = batch[0] if isinstance(batch, tuple) else batch
        examples += int(features[key].shape[0])
    return examples, time.perf_counter() - start


def report(examples, seconds, what):
    """'N <what> in S s (R <what>/s)', the rate from the same interval."""
    rate = examples / seconds if seconds > 0 else float("inf")
    return f"{examples} {what} in {seconds:.1f}s ({rate:.0f} {what}/s)"
