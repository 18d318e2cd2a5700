"""The generic pieces of the dataset loaders: the request, its checks and
the limited pipelines.

`vqa_sources` (VQA datasets by name) and `matching_sources` (image-text
matching datasets by name) register one loader per dataset; each receives a
`Request` made by `checked_request` and uses the helpers here to choose its
image kind and eval split, merge its options, find its data_dir and keep the
first N examples of a split for smoke tests. Every error names the argument
and its flag and ends with the received value:

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
    receive them, checked by `checked_request`."""

    name: str
    batch_size: int
    eval_batch_size: int
    seed: int
    data_dir: Optional[str]
    image_kind: Optional[str]
    eval_split: Optional[str]
    train_limit: Optional[int]
    eval_limit: Optional[int]
    options: Mapping[str, Any]


def checked_request(
    name,
    batch_size,
    eval_batch_size,
    seed,
    data_dir,
    image_kind,
    eval_split,
    train_limit,
    eval_limit,
    options,
) -> Request:
    """The `Request` of a loader's arguments, after the checks that every
    dataset shares (sizes, seed, limits, options)."""
    validation.check_positive_int("batch_size", batch_size)
    validation.check_positive_int("eval_batch_size", eval_batch_size)
    check_seed(seed)
    validation.check_positive_int("train_limit", train_limit, allow_none=True)
    validation.check_positive_int("eval_limit", eval_limit, allow_none=True)
    if options is not None and not isinstance(options, Mapping):
        raise ValueError(
            f"`options` must be a mapping (dict) or None, got "
            f"options={options!r}."
        )
    return Request(
        name,
        batch_size,
        eval_batch_size,
        seed,
        data_dir,
        image_kind,
        eval_split,
        train_limit,
        eval_limit,
        dict(options or {}),
    )


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
