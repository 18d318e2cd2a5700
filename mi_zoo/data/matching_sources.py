"""Image–text matching datasets by name, and retrieval recall.

    data = matching_sources.load_matching_data("clevr2d", batch_size=128,
                                               eval_batch_size=256, seed=0)
    model = build_model(data.spec)
    model.fit(data.train, ...)    # (inputs, zeros [B]): in-batch negatives
    for batch in data.eval:       # one pass, unshuffled
        image_emb, text_emb = embed(batch)   # one row per caption
    images = image_rows(image_emb, image_index, data.num_eval_images)
    retrieval_recall(images, text_emb, image_index)

Registered datasets (`MATCHING_DATASETS.names()`):

  * "clevr2d": CLEVR-2D (`clevr_2d.builder.Clevr2d`, built on first use
    into data_dir; None: TFDS's default data dir). Every TFDS example is a
    freshly sampled scene, so each example is one image with its one
    caption ("From left to right there is ... . The ... is above the
    ..."); the question of the example is ignored and each image/caption
    pair appears exactly once per split. Captions are padded to
    `clevr_2d.CAPTION_LENGTH` (96) tokens of `clevr_2d.VOCAB`. Image kinds
    "pixels" (default) and "regions" (with "boxes"). Options: config.
    Eval splits "validation" (default) and "test".
  * "flickr30k": Flickr30k from data_dir (the manual directory of
    `flickr30k`: flickr30k-images/ and dataset_flickr30k.json for the
    Karpathy splits), about 5 captions per image; the caption vocabulary is
    built from the train captions. Image kind "pixels". Options:
    image_size ((224, 224)), max_caption_length (32). Eval splits "test"
    (default) and "val".

Datasets:
  * train: repeated forever, shuffled with `seed`, drop_remainder batches of
    (inputs, float32 zeros [B]) with inputs {"caption": int32 [B, T],
    "image": float32 [B, ...], ["boxes": float32 [B, R, 4]]} (the zeros are
    a dummy target for Keras `fit`; the loss uses in-batch negatives);
  * eval: one unshuffled pass of the inputs dict plus "image_index": int32
    [B], the eval image (0 .. num_eval_images - 1) each caption belongs to.
    One element per caption, so an image with several captions appears in
    several rows; `image_rows` keeps one embedding per image.

`train_limit` / `eval_limit` keep the first N (image, caption) pairs of the
split (before shuffling); eval images are then those of the kept captions.
"""

import dataclasses
import os
from typing import Dict
from typing import Sequence
from typing import Tuple

import numpy as np
import tensorflow as tf

from mi_zoo.core import registry
from mi_zoo.core import specs
from mi_zoo.core import validation
from mi_zoo.data import clevr_2d
from mi_zoo.data import flickr30k
from mi_zoo.data import images
from mi_zoo.data import sources
from mi_zoo.data import vqa_sources
from mi_zoo.data.clevr_2d import builder as clevr_2d_builder

MATCHING_DATASETS = registry.Registry("matching dataset")


@dataclasses.dataclass(frozen=True)
class MatchingData:
    """An image–text matching dataset ready for training and evaluation.

    Attributes:
      spec: what the model reads.
      train: repeated, shuffled, drop_remainder batches of (inputs, zeros).
      eval: one unshuffled pass of inputs plus "image_index".
      words: caption token id -> word (id 0 is padding).
      num_eval_images: distinct images in one pass of `eval`.
      num_eval_captions: captions (rows) in one pass of `eval`.
      train_checkpointable: whether `tf.train.Checkpoint(iterator=
        iter(train))` can save the input position.
    """

    spec: specs.MatchingSpec
    train: tf.data.Dataset
    eval: tf.data.Dataset
    words: Tuple[str, ...]
    num_eval_images: int
    num_eval_captions: int
    train_checkpointable: bool = True


def load_matching_data(name: str, **request) -> MatchingData:
    """The spec, datasets and words of a registered matching dataset.

    Args:
      name: one of `MATCHING_DATASETS.names()` (see the module docstring).
      **request: the other fields of `sources.Request`, by name:
        batch_size, eval_batch_size and seed (required), data_dir (required
        for flickr30k; where clevr2d is built), image_kind, eval_split,
        train_limit and eval_limit (the first N pairs, i.e. captions, of
        the split) and options (an unknown key is an error).

    Returns:
      A `MatchingData`.

    Raises:
      ValueError: on an unknown name or a bad argument; the message names
        the argument (and its flag) and echoes the value.
      FileNotFoundError: when data_dir lacks files the dataset needs.
    """
    return sources.load(MATCHING_DATASETS, name, **request)


# CLEVR-2D captions.


def clevr_2d_caption_dataset(
    split,
    batch_size,
    seed,
    image_kind="pixels",
    data_dir=None,
    config="default",
    builder=None,
    caption_length=clevr_2d.CAPTION_LENGTH,
    max_regions=clevr_2d_builder.MAX_REGIONS,
    shuffle=True,
    repeat=False,
    drop_remainder=False,
    with_image_index=False,
    limit=None,
):
    """Batches of CLEVR-2D (image, caption) pairs, one per example.

    Args:
      split: "train", "validation" or "test".
      batch_size: B.
      seed: shuffle seed.
      image_kind: "pixels" or "regions" (as in `clevr_2d_dataset`).
      data_dir, config, builder: as in `clevr_2d.builder.clevr_2d_dataset`.
      caption_length: T, tokens per padded caption.
      max_regions: R for image_kind="regions".
      shuffle: shuffle (with `seed`, reshuffled each epoch).
      repeat: repeat forever.
      drop_remainder: drop a last partial batch.
      with_image_index: add "image_index" int32 [B], the example's position
        in the split (its image id; counted before shuffling).
      limit: keep only the first `limit` examples of the split.

    Returns:
      A dataset of {"caption": int32 [B, T], "image": ..., ["boxes": ...],
      ["image_index": int32 [B]]}.
    """
    validation.check_choice(
        "image_kind", image_kind, clevr_2d_builder.IMAGE_KINDS
    )
    validation.check_positive_int("batch_size", batch_size)
    validation.check_positive_int("caption_length", caption_length)
    validation.check_positive_int("max_regions", max_regions)
    ds, n = clevr_2d_builder.split_examples(
        split, config, data_dir, builder, limit
    )
    ds = ds.enumerate()

    def load(index, ex):
        inputs = clevr_2d_builder.example_inputs(
            ex, "caption", caption_length, image_kind, max_regions
        )
        if with_image_index:
            inputs["image_index"] = tf.cast(index, tf.int32)
        return inputs

    buffer = min(n, 10000)
    return sources.batched(
        ds, load, batch_size, shuffle, seed, drop_remainder, buffer, repeat
    )


def _with_dummy_target(inputs):
    return inputs, tf.zeros(tf.shape(inputs["caption"])[:1], tf.float32)


@MATCHING_DATASETS.register("clevr2d")
def _clevr2d(r: sources.Request) -> MatchingData:
    kind, split, builder, shape = vqa_sources.clevr_2d_source(r)
    train = clevr_2d_caption_dataset(
        "train",
        r.batch_size,
        r.seed,
        kind,
        builder=builder,
        shuffle=True,
        repeat=True,
        drop_remainder=True,
        limit=r.train_limit,
    )
    evaluation = clevr_2d_caption_dataset(
        split,
        r.eval_batch_size,
        0,
        kind,
        builder=builder,
        shuffle=False,
        with_image_index=True,
        limit=r.eval_limit,
    )
    n = sources.limited_count(
        builder.info.splits[split].num_examples, r.eval_limit
    )
    spec = specs.MatchingSpec(
        vocab_size=len(clevr_2d.VOCAB),
        caption_length=clevr_2d.CAPTION_LENGTH,
        image_kind=kind,
        image_shape=shape,
    )
    return MatchingData(
        spec=spec,
        train=train.map(_with_dummy_target),
        eval=evaluation,
        words=tuple(clevr_2d.VOCAB),
        num_eval_images=n,
        num_eval_captions=n,
    )


# Flickr30k.

_FLICKR_CONTENTS = (
    f"Flickr30k: {flickr30k.IMAGES_DIR}/*.jpg and the Karpathy split file "
    f"{flickr30k.KARPATHY_FILE}"
)


@MATCHING_DATASETS.register("flickr30k")
def _flickr30k(r: sources.Request) -> MatchingData:
    data_dir = sources.require_data_dir(r.name, r.data_dir, _FLICKR_CONTENTS)
    sources.choose_image_kind(r.name, r.image_kind, ("pixels",))
    split = sources.choose_split(r.name, r.eval_split, ("test", "val"))
    opts = sources.check_options(
        r.name, r.options, {"image_size": (224, 224), "max_caption_length": 32}
    )
    image_size = images.check_image_size(
        opts["image_size"], "options['image_size']"
    )
    length = opts["max_caption_length"]
    validation.check_positive_int("max_caption_length", length)
    if not os.path.isfile(os.path.join(data_dir, flickr30k.KARPATHY_FILE)):
        raise FileNotFoundError(
            f"`data_dir` (--data_dir) {data_dir!r} has no "
            f"{flickr30k.KARPATHY_FILE}; the 'flickr30k' dataset needs the "
            f"Karpathy splits (train / {split})."
        )
    vocab = flickr30k.build_vocab(data_dir, "train", "karpathy")
    pairs = flickr30k.split_examples(data_dir, split, "karpathy")
    image_of_caption = np.array(
        [k for k, (_, caps) in enumerate(pairs) for _ in caps], np.int64
    )
    num_captions = sources.limited_count(len(image_of_caption), r.eval_limit)
    num_images = int(image_of_caption[num_captions - 1]) + 1

    def read(split_name, batch_size, **pipeline):
        return flickr30k.flickr30k_dataset(
            data_dir,
            split_name,
            vocab,
            batch_size,
            source="karpathy",
            image_size=image_size,
            max_caption_length=length,
            **pipeline,
        )

    def drop_index(inputs):
        inputs = dict(inputs)
        inputs.pop("image_index")
        return _with_dummy_target(inputs)

    train, evaluation = sources.limited_pipelines(r, read, "train", split)
    spec = specs.MatchingSpec(
        vocab_size=len(vocab),
        caption_length=length,
        image_kind="pixels",
        image_shape=image_size + (3,),
    )
    return MatchingData(
        spec=spec,
        train=train.map(drop_index),
        eval=evaluation,
        words=tuple(vocab.tokens),
        num_eval_images=num_images,
        num_eval_captions=num_captions,
    )


# Retrieval.


def image_rows(per_caption, caption_image_index, num_images):
    """One row per image from per-caption rows (e.g. image embeddings
    computed for each eval row): row i is the first row whose
    caption_image_index is i.

    Args:
      per_caption: [C, ...] array.
      caption_image_index: int [C], values in 0 .. num_images - 1.
      num_images: I.

    Returns:
      [I, ...] array.
    """
    per_caption = np.asarray(per_caption)
    index = np.asarray(caption_image_index)
    if index.ndim != 1 or len(index) != len(per_caption):
        raise ValueError(
            f"image_rows needs caption_image_index of shape "
            f"[{len(per_caption)}], got {index.shape}."
        )
    validation.check_positive_int("num_images", num_images)
    if index.size and (index.min() < 0 or index.max() >= num_images):
        raise ValueError(
            f"caption_image_index must lie in [0, {num_images}), "
            f"got values in [{index.min()}, {index.max()}]."
        )
    first = np.full(num_images, -1, np.int64)
    for row in range(len(index) - 1, -1, -1):
        first[index[row]] = row
    missing = np.flatnonzero(first < 0)
    if missing.size:
        raise ValueError(
            f"images {missing[:10].tolist()} have no caption row "
            f"(num_images={num_images})."
        )
    return per_caption[first]


def retrieval_recall(
    image_embeddings,
    text_embeddings,
    caption_image_index,
    ks: Sequence[int] = (1, 5, 10),
) -> Dict[str, float]:
    """Recall@k of image→text and text→image retrieval by dot product.

    Scores are s[i, c] = image_embeddings[i] · text_embeddings[c] (normalise
    the embeddings first for cosine similarity). Ties count against the
    model (pessimistic):

      * image→text: image i (with positive captions P_i, those c with
        caption_image_index[c] == i) is a hit at k when fewer than k
        NEGATIVE captions c' (not in P_i) have s[i, c'] >= max_{c in P_i}
        s[i, c]; i.e. the best-ranked caption of the image is in the top k
        when negatives tied with it are ranked first. Other positives never
        count against it.
      * text→image: caption c of image g is a hit at k when fewer than k
        other images j != g have s[j, c] >= s[g, c].

    Recall is the fraction of hits over images (image→text) or captions
    (text→image). Every image must have at least one caption.

    Args:
      image_embeddings: [I, D].
      text_embeddings: [C, D].
      caption_image_index: int [C], the image of each caption, 0 .. I-1.
      ks: positive integer cut-offs.

    Returns:
      {"image_to_text/r@k": float, "text_to_image/r@k": float for each k,
      "rsum": the sum of all of them (in %)}.
    """
    images = np.asarray(image_embeddings, np.float64)
    texts = np.asarray(text_embeddings, np.float64)
    index = np.asarray(caption_image_index)
    if (
        images.ndim != 2
        or texts.ndim != 2
        or images.shape[1] != texts.shape[1]
    ):
        raise ValueError(
            f"retrieval_recall needs image_embeddings [I, D] and "
            f"text_embeddings [C, D], got shapes {images.shape} "
            f"and {texts.shape}."
        )
    num_images, num_texts = len(images), len(texts)
    if num_images == 0 or num_texts == 0:
        raise ValueError(
            f"retrieval_recall got no images or no captions "
            f"(shapes {images.shape} and {texts.shape})."
        )
    if index.shape != (num_texts,) or not np.issubdtype(
        index.dtype, np.integer
    ):
        raise ValueError(
            f"caption_image_index must be integers of shape "
            f"({num_texts},), got dtype {index.dtype} and shape "
            f"{index.shape}."
        )
    if index.min() < 0 or index.max() >= num_images:
        raise ValueError(
            f"caption_image_index must lie in [0, {num_images}), "
            f"got values in [{index.min()}, {index.max()}]."
        )
    if not (np.isfinite(images).all() and np.isfinite(texts).all()):
        raise ValueError(
            "retrieval_recall got non-finite (NaN or inf) embeddings."
        )
    counts = np.bincount(index, minlength=num_images)
    if (counts == 0).any():
        raise ValueError(
            f"images {np.flatnonzero(counts == 0)[:10].tolist()} "
            f"have no caption in caption_image_index."
        )
    ks = tuple(ks)
    for k in ks:
        validation.check_positive_int("k", k)
    scores = images @ texts.T  # [I, C]
    positive = index[None, :] == np.arange(num_images)[:, None]  # [I, C]
    # Image→text: negatives scoring >= the best positive.
    best = np.where(positive, scores, -np.inf).max(axis=1)  # [I]
    i2t_rank = ((scores >= best[:, None]) & ~positive).sum(axis=1)
    # Text→image: other images scoring >= the caption's own image.
    own = scores[index, np.arange(num_texts)]  # [C]
    t2i_rank = ((scores >= own[None, :]) & ~positive).sum(axis=0)
    out = {}
    for k in ks:
        out[f"image_to_text/r@{k}"] = float(np.mean(i2t_rank < k))
    for k in ks:
        out[f"text_to_image/r@{k}"] = float(np.mean(t2i_rank < k))
    out["rsum"] = float(100.0 * sum(out.values()))
    return out
