"""Batches for stateful truncated backpropagation through time (BPTT).

The classic "batchify" layout (Zaremba et al. 2014; the PyTorch
word_language_model example): the token stream of a split, of length N, is cut
into `batch_size` B contiguous streams of L = N // B tokens each (the last
N mod B tokens are dropped), stream b being tokens [b·L, (b+1)·L). Batch k
holds, for every stream, the window of T = `sequence_length` tokens starting
at k·T and the same window shifted by one as targets:

    inputs[b, t]  = ids[b·L + k·T + t]
    targets[b, t] = ids[b·L + k·T + t + 1]

so a recurrent state carried from batch k to batch k+1 (row b to row b)
continues stream b exactly. An epoch has (L - 1) // T batches, or
ceil((L - 1) / T) with `drop_remainder=False` (the last one shorter):

    from mi_zoo.data import vocabulary
    from mi_zoo.data.text import corpora, lm_dataset
    corpus = corpora.load_corpus("ptb", "/data/ptb", "word")
    vocab = vocabulary.Vocabulary.build(corpus.train)
    train = lm_dataset.lm_dataset(vocab.encode(corpus.train), 20, 35)
    steps = lm_dataset.num_batches(len(corpus.train), 20, 35)

The order is fixed (no shuffling, which would break the carried state); the
pipeline is a parallel, deterministic `tf.data` map over batch indices.

References:
  Zaremba, Sutskever and Vinyals, "Recurrent Neural Network
  Regularization", arXiv:1409.2329, 2014.
  Williams and Peng, "An efficient gradient-based algorithm for on-line
  training of recurrent network trajectories", Neural Computation, 1990.
"""

import math

import numpy as np
import tensorflow as tf

from mi_zoo.core import validation


def _stream_length(num_tokens, batch_size, sequence_length):
    """Checks the sizes; returns L, the length of each stream."""
    validation.check_positive_int("batch_size", batch_size)
    validation.check_positive_int("sequence_length", sequence_length)
    if num_tokens < 2 * batch_size:
        raise ValueError(
            f"batch_size={batch_size} is too large for the data: "
            f"{num_tokens} tokens give fewer than 2 tokens per stream; use a "
            f"batch_size of at most {num_tokens // 2}."
        )
    length = num_tokens // batch_size
    if sequence_length > length - 1:
        raise ValueError(
            f"sequence_length={sequence_length} is longer than the data: "
            f"{num_tokens} tokens in batch_size={batch_size} streams give "
            f"{length} tokens per stream, so at most {length - 1} input "
            f"positions (one is kept for the shifted targets); lower "
            f"`sequence_length` (--sequence_length) or `batch_size`."
        )
    return length


def num_batches(num_tokens, batch_size, sequence_length, drop_remainder=True):
    """The number of batches in one epoch of `lm_dataset`.

    Args:
      num_tokens: N, the length of the token stream.
      batch_size: B, the number of parallel streams.
      sequence_length: T, tokens per window (the BPTT length).
      drop_remainder: whether a last, shorter window is dropped.

    Returns:
      (L - 1) // T, or ceil((L - 1) / T) without `drop_remainder`, where
      L = N // B.

    Raises:
      ValueError: when `sequence_length` exceeds L - 1 or `batch_size`
        exceeds N // 2, naming the argument and the sizes.
    """
    length = _stream_length(int(num_tokens), batch_size, sequence_length)
    if drop_remainder:
        return (length - 1) // sequence_length
    return math.ceil((length - 1) / sequence_length)


def batchify(ids, batch_size):
    """Lays out a token stream as [batch_size, L] contiguous streams.

    Args:
      ids: a 1-D array of token ids, length N.
      batch_size: B.

    Returns:
      An array [B, L], L = N // B, row b being ids[b·L:(b+1)·L].
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(
            f"`ids` must be a 1-D token stream, got shape {ids.shape}."
        )
    validation.check_positive_int("batch_size", batch_size)
    if len(ids) < batch_size:
        raise ValueError(
            f"batch_size={batch_size} is larger than the "
            f"{len(ids)} tokens of the data."
        )
    length = len(ids) // batch_size
    return ids[: batch_size * length].reshape(batch_size, length)


def lm_dataset(ids, batch_size, sequence_length, drop_remainder=True):
    """A `tf.data.Dataset` of consecutive BPTT windows over parallel streams.

    Args:
      ids: a 1-D array of int token ids (one split, e.g.
        `vocab.encode(corpus.train)`).
      batch_size: B, the number of parallel streams.
      sequence_length: T, the window length (the BPTT truncation).
      drop_remainder: drop the last window when shorter than T, so every
        batch is [B, T] (static shapes); otherwise it is [B, T'] with
        T' < T.

    Returns:
      A dataset of (inputs, targets), int32 [B, T] each, in stream order,
      with `num_batches(len(ids), B, T, drop_remainder)` elements (its
      cardinality is known).

    Raises:
      ValueError: when `sequence_length` is longer than the per-stream data
        (naming both sizes), `batch_size` is too large, or `ids` is not 1-D.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(
            f"`ids` must be a 1-D token stream, got shape {ids.shape}."
        )
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            f"`ids` must hold integer token ids, got dtype {ids.dtype}."
        )
    steps = num_batches(len(ids), batch_size, sequence_length, drop_remainder)
    length = len(ids) // batch_size
    streams = tf.constant(batchify(ids.astype(np.int32), batch_size))

    def window(k):
        start = tf.cast(k, tf.int32) * sequence_length
        if drop_remainder:  # Static sizes give static [B, T] shapes.
            size = sequence_length
        else:
            size = tf.minimum(sequence_length, length - 1 - start)
        inputs = tf.slice(streams, [0, start], [batch_size, size])
        targets = tf.slice(streams, [0, start + 1], [batch_size, size])
        return inputs, targets

    dataset = tf.data.Dataset.range(steps).map(
        window, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    return dataset.prefetch(tf.data.AUTOTUNE)
