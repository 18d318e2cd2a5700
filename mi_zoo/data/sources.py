"""The generic pieces of the dataset loaders: the request, its checks and
the limited pipelines.

`vqa_sources` (VQA datasets by name) and `matching_sources` (image-text
matching datasets by name) register one loader per dataset and call it
through `load`; each receives a `Request` made by `checked_request` and uses
the helpers here to choose its image kind and eval split, merge its options,
find its data_dir and keep the first N examples of a split for smoke tests
(`limited`, `limited_pipelines`, `limited_count`); `batched` is the
shuffle-map-batch tail of the readers' pipelines. Every error names the
argument and its flag and ends with the received value:

>>> from mi_zoo.data import sources
>>> r = sources.checked_request("clevr2d", 64, 256, 0, None, None, None,
...                             None, None, {"config": "small"})
>>> sources.choose_split(r.name, r.eval_split, ("validation", "test"))
'validation'
>>> sources.check_options(r.name, r.options, {"config": "default"})
{'config': 'small'}
>>> sources.choose_image_kind("clevr2d", "depth", ("pixels", "regions"))
Traceback (most recent call last):
...
ValueError: `image_kind` (--image_kind) must be one of ('pixels', 'regions')
for the 'clevr2d' dataset, got image_kind='depth'.
"""

import dataclasses
import os
from typing import Any
from typing import Callable
from typing import Dict
from typing import Mapping
from typing import Optional

import tensorflow as tf

from mi_zoo.core import validation


@dataclasses.dataclass(frozen=True)
class Request:
    """The arguments of a loader call (`vqa_sources.load_vqa_data`,
    `matching_sources.load_matching_data`), as the registered loaders
    receive them, checked by `checked_request`.

    Attributes:
      name: the dataset's registered name.
      batch_size: train batch size (batches are always full).
      eval_batch_size: eval batch size (the last batch may be smaller).
      seed: train shuffle seed; the same seed gives the same batches.
      data_dir: where the data is (or is built); None for a dataset
        generated in memory.
      image_kind: None for the dataset's default, or one it supports.
      eval_split: None for the dataset's default eval split.
      train_limit: keep only the first N train examples (smoke tests).
      eval_limit: keep only the first N eval examples.
      options: dataset-specific options; an unknown key is an error.
    """

    name: str
    batch_size: int
    eval_batch_size: int
    seed: int
    data_dir: Optional[str] = None
    image_kind: Optional[str] = None
    eval_split: Optional[str] = None
    train_limit: Optional[int] = None
    eval_limit: Optional[int] = None
    options: Optional[Mapping[str, Any]] = None


def checked_request(*args, **kwargs) -> Request:
    """The `Request` of a loader's arguments (those of `Request`, in its
    order or by name), after the checks that every dataset shares (sizes,
    seed, limits, options); its options are a copied dict."""
    request = Request(*args, **kwargs)
    validation.check_positive_int("batch_size", request.batch_size)
    validation.check_positive_int("eval_batch_size", request.eval_batch_size)
    check_seed(request.seed)
    for limit in ("train_limit", "eval_limit"):
        validation.check_positive_int(
            limit, getattr(request, limit), allow_none=True
        )
    options = request.options
    if options is not None and not isinstance(options, Mapping):
        raise ValueError(
            f"`options` must be a mapping (dict) or None, got "
            f"options={options!r}."
        )
    return dataclasses.replace(request, options=dict(options or {}))


def load(datasets, name: str, **request):
    """What the loader registered as `name` in `datasets` (a
    `core.registry.Registry` of functions of a `Request`) returns for the
    checked request of `name` and the keyword arguments `request` (the
    other fields of `Request`). An unknown name fails first."""
    loader = datasets.get(name)
    return loader(checked_request(name, **request))


def limited_pipelines(request: Request, read, train_split, eval_split):
    """(train, eval) of a reader, limited as `request` asks (`limited`).

    Args:
      request: the checked `Request`.
      read: read(split, batch_size, shuffle=, seed=, drop_remainder=) ->
        the reader's batched dataset of that split.
      train_split, eval_split: the splits passed to `read`.

    Returns:
      train: repeated, shuffled with the request's seed, full batches of
        batch_size; eval: one unshuffled pass in batches of
        eval_batch_size, the last partial batch kept.
    """

    def make(split, seed, drop_remainder):
        def fn(batch_size, shuffle):
            return read(
                split,
                batch_size,
                shuffle=shuffle,
                seed=seed,
                drop_remainder=drop_remainder,
            )

        return fn

    train = limited(
        make(train_split, request.seed, True),
        request.train_limit,
        batch_size=request.batch_size,
        shuffle=True,
        seed=request.seed,
        repeat=True,
        drop_remainder=True,
    )
    evaluation = limited(
        make(eval_split, 0, False),
        request.eval_limit,
        batch_size=request.eval_batch_size,
        shuffle=False,
        seed=0,
        repeat=False,
        drop_remainder=False,
    )
    return train, evaluation


def limited_count(total: int, limit) -> int:
    """How many of `total` examples a `limit` (None: no limit) keeps."""
    return total if limit is None else min(total, limit)


def check_seed(seed):
    """Checks that `seed` is a non-negative int (not a bool)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(
            f"`seed` (--seed) must be a non-negative integer, "
            f"got seed={seed!r}."
        )


def choose_image_kind(dataset: str, image_kind, supported) -> str:
    """`image_kind`, or the dataset's default (supported[0]) when None."""
    return choose(dataset, image_kind, supported, "image_kind")


def choose_split(dataset: str, split, supported, argument="eval_split"):
    """`split`, or the dataset's default (supported[0]) when None."""
    return choose(dataset, split, supported, argument)


def choose(dataset: str, value, supported, argument: str):
    """`value` of the request's `argument` (its flag has the same name), or
    the dataset's default (supported[0]) when None; raises, naming the
    argument and the dataset, unless `value` is in `supported`."""
    if value is None:
        return supported[0]
    if value not in supported:
        raise ValueError(
            f"`{argument}` (--{argument}) must be one of "
            f"{tuple(supported)} for the {dataset!r} dataset, "
            f"got {argument}={value!r}."
        )
    return value


def check_options(
    dataset: str, options: Mapping[str, Any], defaults: Mapping[str, Any]
) -> Dict[str, Any]:
    """`defaults` updated by `options`; unknown keys raise ValueError."""
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise ValueError(
            f"unknown `options` {unknown} for the {dataset!r} "
            f"dataset; it accepts {sorted(defaults)}, got "
            f"options={dict(options)!r}."
        )
    out = dict(defaults)
    out.update(options)
    return out


def require_data_dir(dataset: str, data_dir, contents: str) -> str:
    """Checks that data_dir is given and is a directory."""
    if data_dir is None:
        raise ValueError(
            f"the {dataset!r} dataset needs `data_dir` "
            f"(--data_dir), got data_dir=None: it must be a "
            f"directory holding {contents}."
        )
    if not isinstance(data_dir, (str, os.PathLike)):
        raise ValueError(
            f"`data_dir` (--data_dir) must be a path, got "
            f"data_dir={data_dir!r}."
        )
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(
            f"`data_dir` (--data_dir) {data_dir!r} of the "
            f"{dataset!r} dataset does not exist; it must "
            f"be a directory holding {contents}."
        )
    return os.fspath(data_dir)


def reject_data_dir(dataset: str, data_dir):
    """Checks that data_dir is None, for a dataset generated in memory."""
    if data_dir is not None:
        raise ValueError(
            f"the {dataset!r} dataset is generated in memory and "
            f"reads no files; leave `data_dir` (--data_dir) "
            f"unset, got data_dir={data_dir!r}."
        )


def batched(
    ds: tf.data.Dataset,
    load: Callable,
    batch_size: int,
    shuffle: bool,
    seed,
    drop_remainder: bool,
    buffer_size: int,
    repeat: bool = False,
) -> tf.data.Dataset:
    """The readers' pipeline over per-example rows: shuffled (a buffer of
    `buffer_size`, reshuffled each epoch, with `seed`) when `shuffle`,
    repeated forever when `repeat`, mapped by `load` (in parallel, in
    order), batched and prefetched.

    Args:
      ds: a dataset of rows (e.g. file names and token ids).
      load: row -> the example (decoded image, model inputs, targets).
      batch_size: B.
      shuffle, seed: whether to shuffle the rows, and the seed.
      drop_remainder: drop a last partial batch.
      buffer_size: rows in the shuffle buffer.
      repeat: repeat forever (after the shuffle: batches then span epoch
        boundaries).

    Returns:
      The batched, prefetched dataset of `load`'s examples.
    """
    if shuffle:
        ds = ds.shuffle(buffer_size, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.prefetch(tf.data.AUTOTUNE)


def limited(
    make: Callable[[int, bool], tf.data.Dataset],
    limit,
    *,
    batch_size,
    shuffle,
    seed,
    repeat,
    drop_remainder,
):
    """A reader's pipeline, limited to its first `limit` examples.

    Args:
      make: make(batch_size, shuffle) -> the reader's batched dataset.
      limit: None (no limit) or the number of examples to keep.
      batch_size, shuffle, seed, repeat, drop_remainder: as in the readers.

    Returns:
      The batched dataset; repeated forever if `repeat`.
    """
    if limit is None:
        ds = make(batch_size, shuffle)
        return ds.repeat() if repeat else ds
    ds = make(1, False).unbatch().take(limit)
    if shuffle:
        ds = ds.shuffle(limit, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.prefetch(tf.data.AUTOTUNE)
