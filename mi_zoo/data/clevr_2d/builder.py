"""TFDS builder and `tf.data` pipeline for CLEVR-2D (generated, no download).

Build and read (the default config: 50k / 5k / 5k examples, 64 px):

    python -c "import tensorflow_datasets as tfds; \
from mi_zoo.data.clevr_2d import builder; \
tfds.builder('clevr2d', data_dir='/tmp/tfds').download_and_prepare()"

    from mi_zoo.data.clevr_2d import builder
    ds = builder.clevr_2d_dataset("train", batch_size=64, seed=0,
                                  data_dir="/tmp/tfds")
    # ({"question": int32 [B, 40], "image": float32 [B, 64, 64, 3]},
    #  answer id int32 [B])

Each split has a fixed seed (train 0, validation 1, test 2, plus the
config's `seed`), so a config always builds the same data. With
image_kind="regions" the image is replaced by region features of the
ground-truth objects (`REGION_FEATURES` = 21 per object: one-hot colour (8),
shape (3), size (2), material (2), then the mean and standard deviation of
R, G, B over the object's box, pixels in [0, 1]) and "boxes" [B, R, 4]
(x1, y1, x2, y2 in [0, 1]), zero-padded to R = `max_regions` (10).

Reference: Johnson et al., "CLEVR: A Diagnostic Dataset for Compositional
Language and Elementary Visual Reasoning", CVPR 2017.
"""

import dataclasses
import json

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from mi_zoo.core import validation
from mi_zoo.data import generated_builder
from mi_zoo.data import sources
from mi_zoo.data.clevr_2d import generator as clevr_2d

SPLIT_SEEDS = {"train": 0, "validation": 1, "test": 2}
IMAGE_KINDS = ("pixels", "regions")
REGION_FEATURES = (
    len(clevr_2d.COLORS)
    + len(clevr_2d.SHAPES)
    + len(clevr_2d.SIZES)
    + len(clevr_2d.MATERIALS)
    + 6
)
MAX_REGIONS = clevr_2d.programs.MAX_COUNT
REGION_ATTRIBUTES = ("color", "shape", "size", "material")  # One-hot order.


@dataclasses.dataclass
class Clevr2dConfig(tfds.core.BuilderConfig):
    """A CLEVR-2D size: image side, object count range and split sizes."""

    image_size: int = clevr_2d.DEFAULT_IMAGE_SIZE
    min_objects: int = clevr_2d.DEFAULT_MIN_OBJECTS
    max_objects: int = clevr_2d.DEFAULT_MAX_OBJECTS
    train_size: int = 50000
    validation_size: int = 5000
    test_size: int = 5000
    seed: int = 0
    num_workers: int = 1


class Clevr2d(generated_builder.GeneratedBuilder):
    """CLEVR-2D: 2-D shapes, CLEVR question types, programs, captions."""

    #: Examples generated per second (and per worker), for the time announced
    #: before a build: measured on a shared 2-core CPU ("default", 2 workers:
    #: 60k in 66 s; "small": 7k in 6 s).
    GENERATION_RATE = 900

    # No download, so no checksums file: `code_path` None also avoids TFDS's
    # lookup of `importlib_resources`, which this environment lacks.
    code_path = None
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release."}
    BUILDER_CONFIGS = [
        Clevr2dConfig(
            name="default",
            description="64 px, 3-6 objects, 50k/5k/5k examples.",
            num_workers=2,
        ),
        Clevr2dConfig(
            name="small",
            description="64 px, 3-6 objects, 5k/1k/1k examples.",
            train_size=5000,
            validation_size=1000,
            test_size=1000,
        ),
    ]

    def generation_summary(self):
        cfg = self.builder_config
        return (
            f"CLEVR-2D '{cfg.name}'",
            cfg.train_size + cfg.validation_size + cfg.test_size,
        )

    def _log_download_done(self):
        """Nothing (TFDS says "downloaded and prepared ...")."""

    def _info(self):
        cfg = self.builder_config
        for name in ("train_size", "validation_size", "test_size"):
            validation.check_positive_int(name, getattr(cfg, name))
        clevr_2d._check_config(  # pylint: disable=protected-access
            cfg.image_size, cfg.min_objects, cfg.max_objects
        )
        s = cfg.image_size
        label = tfds.features.ClassLabel
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(s, s, 3)),
                    "question": tfds.features.Text(),
                    "question_tokens": tfds.features.Tensor(
                        shape=(None,), dtype=np.int32
                    ),
                    "answer": label(names=clevr_2d.ANSWERS),
                    "question_type": label(names=clevr_2d.QUESTION_TYPES),
                    "program": tfds.features.Text(),  # JSON list of steps.
                    "objects": tfds.features.Sequence(
                        {
                            "color": label(names=clevr_2d.COLORS),
                            "shape": label(names=clevr_2d.SHAPES),
                            "size": label(names=clevr_2d.SIZES),
                            "material": label(names=clevr_2d.MATERIALS),
                            "position": tfds.features.Tensor(
                                shape=(2,), dtype=np.float32
                            ),
                            "box": tfds.features.Tensor(
                                shape=(4,), dtype=np.float32
                            ),
                        }
                    ),
                    "caption": tfds.features.Text(),
                    "caption_tokens": tfds.features.Tensor(
                        shape=(None,), dtype=np.int32
                    ),
                }
            ),
            supervised_keys=None,
            homepage="https://cs.stanford.edu/people/jcjohns/clevr/",
            citation="@inproceedings{johnson2017clevr, title={CLEVR: A "
            "Diagnostic Dataset for Compositional Language and "
            "Elementary Visual Reasoning}, author={Johnson, Justin "
            "and others}, booktitle={CVPR}, year={2017}}",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # Nothing to download.
        cfg = self.builder_config
        return {
            split: self._generate_examples(
                getattr(cfg, f"{split}_size"), cfg.seed * 10 + seed
            )
            for split, seed in SPLIT_SEEDS.items()
        }

    def _generate_examples(self, num_examples, seed):
        cfg = self.builder_config
        examples = clevr_2d.generate(
            num_examples,
            seed,
            cfg.image_size,
            cfg.min_objects,
            cfg.max_objects,
            num_workers=cfg.num_workers,
        )
        for i, ex in enumerate(examples):
            yield (
                i,
                {
                    "image": ex["image"],
                    "question": ex["question"],
                    "question_tokens": ex["question_tokens"],
                    "answer": ex["answer"],
                    "question_type": ex["question_type"],
                    "program": json.dumps(ex["program"]),
                    "objects": [
                        {
                            "color": o["color"],
                            "shape": o["shape"],
                            "size": o["size"],
                            "material": o["material"],
                            "position": np.asarray(o["position"], np.float32),
                            "box": np.asarray(o["box"], np.float32),
                        }
                        for o in ex["objects"]
                    ],
                    "caption": ex["caption"],
                    "caption_tokens": clevr_2d.encode(ex["caption"]),
                },
            )


def region_features(image, objects, max_regions=MAX_REGIONS):
    """Region features and boxes of one example's ground-truth objects.

    Args:
      image: float32 [H, W, 3] in [0, 1].
      objects: the decoded "objects" feature (ClassLabel ids and boxes).
      max_regions: R, rows after zero padding.

    Returns:
      (features float32 [R, REGION_FEATURES], boxes float32 [R, 4]).
    """
    onehots = [
        tf.one_hot(objects[a], len(clevr_2d.ATTRIBUTES[a]))
        for a in REGION_ATTRIBUTES
    ]
    boxes = objects["box"]  # [N, 4] x1, y1, x2, y2.
    crops = tf.image.crop_and_resize(
        image[None],
        tf.gather(boxes, [1, 0, 3, 2], axis=1),
        tf.zeros(tf.shape(boxes)[:1], tf.int32),
        (8, 8),
    )  # [N, 8, 8, 3]
    mean, var = tf.nn.moments(crops, axes=[1, 2])
    feats = tf.concat(onehots + [mean, tf.sqrt(var)], axis=-1)
    n = tf.shape(boxes)[0]
    check = tf.debugging.assert_less_equal(
        n,
        max_regions,
        message=f"CLEVR-2D example has more objects than "
        f"max_regions={max_regions}",
    )
    with tf.control_dependencies([check]):
        pad = [[0, max_regions - n], [0, 0]]
    feats = tf.ensure_shape(tf.pad(feats, pad), [max_regions, REGION_FEATURES])
    boxes = tf.ensure_shape(tf.pad(boxes, pad), [max_regions, 4])
    return feats, boxes


def split_examples(
    split, config="default", data_dir=None, builder=None, limit=None
):
    """The examples of one split of CLEVR-2D, in order, and their number.

    Args:
      split: "train", "validation" or "test" (or a TFDS split string).
      config: builder config name or `Clevr2dConfig`.
      data_dir: TFDS data dir (built there on first use).
      builder: an already prepared `Clevr2d` builder (overrides data_dir
        and config).
      limit: keep only the first `limit` examples; None keeps all.

    Returns:
      (a `tf.data.Dataset` of the builder's example dicts, their number).

    Raises:
      ValueError: for a split the builder does not have, or a bad `limit`.
    """
    validation.check_positive_int("limit", limit, allow_none=True)
    if builder is None:
        builder = Clevr2d(config=config, data_dir=data_dir)
        builder.download_and_prepare()
    if split not in builder.info.splits:
        raise ValueError(
            f"`split` must be one of "
            f"{tuple(builder.info.splits)}, got split={split!r}."
        )
    ds = builder.as_dataset(split=split, shuffle_files=False)
    num_examples = builder.info.splits[split].num_examples
    if limit is not None:
        ds = ds.take(limit)
        num_examples = min(num_examples, limit)
    return ds, num_examples


def example_inputs(example, text, text_length, image_kind, max_regions):
    """The model inputs of one example: {text: int32 [T] (`text`_tokens
    padded to `text_length`), "image": float32 [H, W, 3] in [0, 1] for
    image_kind "pixels", or [R, REGION_FEATURES] with "boxes" [R, 4] for
    "regions" (`region_features`)}. `text` is "question" or "caption"."""
    image = tf.cast(example["image"], tf.float32) / 255.0
    inputs = {text: _pad_tokens(example[f"{text}_tokens"], text_length, text)}
    if image_kind == "pixels":
        inputs["image"] = image
    else:
        inputs["image"], inputs["boxes"] = region_features(
            image, example["objects"], max_regions
        )
    return inputs


def _pad_tokens(tokens, length, what):
    check = tf.debugging.assert_less_equal(
        tf.shape(tokens)[0],
        length,
        message=f"a CLEVR-2D {what} is longer than {what}_length={length}",
    )
    with tf.control_dependencies([check]):
        tokens = tf.pad(tokens, [[0, length - tf.shape(tokens)[0]]])
    return tf.ensure_shape(tokens, [length])


def clevr_2d_dataset(
    split,
    batch_size,
    seed,
    image_kind="pixels",
    data_dir=None,
    config="default",
    builder=None,
    question_length=clevr_2d.QUESTION_LENGTH,
    max_regions=MAX_REGIONS,
    shuffle=True,
    drop_remainder=False,
    repeat=False,
    with_info=False,
    limit=None,
):
    """Batches of CLEVR-2D in the zoo's VQA input format.

    Args:
      split: "train", "validation" or "test" (or a TFDS split string).
      batch_size: B.
      seed: shuffle seed; the order is deterministic given it.
      image_kind: "pixels" ("image" float32 [B, H, W, 3] in [0, 1]) or
        "regions" ("image" float32 [B, R, REGION_FEATURES] and "boxes"
        float32 [B, R, 4], zero-padded).
      data_dir: TFDS data dir (built there on first use).
      config: builder config name or `Clevr2dConfig`.
      builder: an already prepared `Clevr2d` builder (overrides data_dir
        and config).
      question_length: T, tokens per padded question.
      max_regions: R for image_kind="regions".
      shuffle: whether to shuffle (with `seed`).
      drop_remainder: drop a last partial batch.
      repeat: repeat forever (reshuffled each epoch; batches then span epoch
        boundaries).
      with_info: add a third element {"question_type": int32 [B]} (index of
        `clevr_2d.QUESTION_TYPES`) for per-type accuracy (Keras `fit` would
        read it as sample weights, so only for evaluation loops).
      limit: use only the first `limit` examples of the split (taken before
        shuffling), e.g. for smoke tests; None uses all.

    Returns:
      A `tf.data.Dataset` of (inputs, answer) with inputs {"question": int32
      [B, T], "image": ..., ["boxes": ...]} and answer int32 [B], an index
      of `clevr_2d.ANSWERS` (plus the info dict if with_info).
    """
    validation.check_choice("image_kind", image_kind, IMAGE_KINDS)
    validation.check_positive_int("batch_size", batch_size)
    validation.check_positive_int("question_length", question_length)
    validation.check_positive_int("max_regions", max_regions)
    ds, num_examples = split_examples(split, config, data_dir, builder, limit)

    def load(ex):
        inputs = example_inputs(
            ex, "question", question_length, image_kind, max_regions
        )
        answer = tf.cast(ex["answer"], tf.int32)
        if with_info:
            return (
                inputs,
                answer,
                {"question_type": tf.cast(ex["question_type"], tf.int32)},
            )
        return inputs, answer

    buffer = min(num_examples, 10000)
    return sources.batched(
        ds, load, batch_size, shuffle, seed, drop_remainder, buffer, repeat
    )
