r"""Sort-of-CLEVR as a TFDS builder and as `tf.data` pipelines.

Santoro et al., "A simple neural network module for relational reasoning",
NeurIPS 2017 (https://arxiv.org/abs/1706.01427), Sec. 4.2 and App. D. The
examples come from `mi_zoo.data.sort_of_clevr.generator` (conventions there); nothing is
downloaded. One example is one (image, question) pair.

Configs (images per split; 20 questions per image, 10 non-relational and 10
relational; 75 px, 6 objects):

  * "paper": 9800 train / 200 validation / 200 test images (the paper's and
    the common implementation's 9800 / 200 split, plus a validation split).
  * "small": 1000 / 100 / 100 images.

Each split has a fixed seed (`SPLIT_SEEDS`), so every build is the same.

Prepare and read with TFDS:

    python -c "from mi_zoo.data.sort_of_clevr import builder as b; \
b.SortOfClevr(config='small', data_dir='/tmp/tfds').download_and_prepare()"

    builder = SortOfClevr(config="small", data_dir="/tmp/tfds")
    ds = builder.as_dataset(split="train")

Batches for a model, straight from the generator (no TFDS) or from a prepared
data_dir:

    ds = sort_of_clevr_dataset("train", batch_size=64, seed=0)
    ds = sort_of_clevr_dataset("train", 64, 0, source="tfds",
                               data_dir="/tmp/tfds", config="small")
    # ({"question": int32 [B, 13], "image": float32 [B, 75, 75, 3]},
    #  answer int32 [B])
"""

import dataclasses
import os
from typing import Optional
from typing import Union

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from mi_zoo.core import specs
from mi_zoo.data import generated_builder
from mi_zoo.data.sort_of_clevr import generator as soc

SPLITS = ("train", "validation", "test")
SPLIT_SEEDS = {"train": 0, "validation": 1, "test": 2}
SOURCES = ("generator", "tfds")
QUESTION_FORMATS = ("tokens", "vector")

_CITATION = """\
@inproceedings{santoro2017simple,
  title={A simple neural network module for relational reasoning},
  author={Santoro, Adam and Raposo, David and Barrett, David G. T. and
          Malinowski, Mateusz and Pascanu, Razvan and Battaglia, Peter and
          Lillicrap, Timothy},
  booktitle={Advances in Neural Information Processing Systems},
  year={2017}
}"""


@dataclasses.dataclass(eq=False)
class SortOfClevrConfig(tfds.core.BuilderConfig):
    """Sizes and scene parameters of a Sort-of-CLEVR build.

    Attributes:
      num_train_images, num_validation_images, num_test_images: images per
        split (each gives questions_per_image examples).
      image_size: side of the images in pixels.
      num_objects: objects per image, 2..6.
      questions_per_image: questions per image (first half non-relational).
    """

    num_train_images: int = 9800
    num_validation_images: int = 200
    num_test_images: int = 200
    image_size: int = soc.DEFAULT_IMAGE_SIZE
    num_objects: int = soc.DEFAULT_NUM_OBJECTS
    questions_per_image: int = soc.DEFAULT_QUESTIONS_PER_IMAGE

    def __post_init__(self):
        for name in (
            "num_train_images",
            "num_validation_images",
            "num_test_images",
            "image_size",
            "questions_per_image",
        ):
            soc._check_int(name, getattr(self, name), 1)
        soc._check_geometry(self.image_size, self.num_objects, None)

    def num_images(self, split: str) -> int:
        """Images of a split ("train", "validation" or "test")."""
        _check_split(split)
        return getattr(self, f"num_{split}_images")


_CONFIGS = (
    SortOfClevrConfig(
        name="paper",
        description=(
            "9800 / 200 / 200 images of 75 px with 6 objects, 20 questions "
            "each, as in Santoro et al. 2017."
        ),
    ),
    SortOfClevrConfig(
        name="small",
        num_train_images=1000,
        num_validation_images=100,
        num_test_images=100,
        description="1000 / 100 / 100 images, as 'paper'.",
    ),
)


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(
            f"`split` must be one of {SPLITS}, got split={split!r}."
        )


def _config(config: Union[str, SortOfClevrConfig]) -> SortOfClevrConfig:
    if isinstance(config, SortOfClevrConfig):
        return config
    for c in _CONFIGS:
        if c.name == config:
            return c
    raise ValueError(
        f"`config` must be a SortOfClevrConfig or one of "
        f"{tuple(c.name for c in _CONFIGS)}, got "
        f"config={config!r}."
    )


class SortOfClevr(generated_builder.GeneratedBuilder):
    """Sort-of-CLEVR (Santoro et al. 2017), generated; see the module doc."""

    #: Examples (questions) generated per second, for the time announced before
    #: a build: measured on a shared 2-core CPU ("paper": 196k in 162 s;
    #: "small": 20k in 17 s).
    GENERATION_RATE = 1200

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = list(_CONFIGS)
    DEFAULT_CONFIG_NAME = "paper"

    @tfds.core.utils.classproperty
    @classmethod
    def code_path(cls):
        """This file. TFDS's own lookup needs `importlib_resources`, which this
        environment lacks; the path only locates a (absent) checksums file."""
        return tfds.core.Path(os.path.abspath(__file__))

    def generation_summary(self):
        c = self.builder_config
        return (
            f"Sort-of-CLEVR '{c.name}'",
            c.questions_per_image
            * sum(c.num_images(split) for split in SPLITS),
        )

    def _log_download_done(self):
        """Nothing (TFDS says "downloaded and prepared ...")."""

    def _info(self) -> tfds.core.DatasetInfo:
        size = self.builder_config.image_size
        return self.dataset_info_from_configs(
            description=(
                "Sort-of-CLEVR: images of 6 coloured squares and "
                "circles with relational and non-relational "
                "questions (Santoro et al. 2017)."
            ),
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(size, size, 3)),
                    "question": tfds.features.Text(),
                    "question_vector": tfds.features.Tensor(
                        shape=(soc.QUESTION_VECTOR_SIZE,), dtype=np.int32
                    ),
                    "question_tokens": tfds.features.Tensor(
                        shape=(soc.QUESTION_LENGTH,), dtype=np.int32
                    ),
                    "answer": tfds.features.ClassLabel(names=soc.ANSWERS),
                    "question_type": tfds.features.ClassLabel(
                        names=soc.QUESTION_TYPES
                    ),
                    "question_subtype": tfds.features.ClassLabel(
                        names=soc.QUESTION_FAMILIES
                    ),
                    "image_index": tfds.features.Scalar(dtype=np.int64),
                    "question_index": tfds.features.Scalar(dtype=np.int64),
                    "objects": tfds.features.Sequence(
                        {
                            "colour": tfds.features.ClassLabel(
                                names=soc.COLOURS
                            ),
                            "shape": tfds.features.ClassLabel(
                                names=soc.SHAPES
                            ),
                            "centre": tfds.features.Tensor(
                                shape=(2,), dtype=np.int32
                            ),
                            "box": tfds.features.BBoxFeature(),
                        }
                    ),
                }
            ),
            supervised_keys=None,
            homepage="https://arxiv.org/abs/1706.01427",
            citation=_CITATION,
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # Nothing to download.
        return {split: self._generate_examples(split) for split in SPLITS}

    def _generate_examples(self, split):
        c = self.builder_config
        for example in soc.generate(
            c.num_images(split),
            SPLIT_SEEDS[split],
            c.image_size,
            c.num_objects,
            c.questions_per_image,
        ):
            key = (
                f"{example['image_index']:07d}_{example['question_index']:03d}"
            )
            yield key, example


def _check_batch_size(batch_size):
    soc._check_int("batch_size", batch_size, 1)


def sort_of_clevr_dataset(
    split: str,
    batch_size: int,
    seed: int,
    *,
    source: str = "generator",
    config: Union[str, SortOfClevrConfig] = "paper",
    num_images: Optional[int] = None,
    data_dir: Optional[str] = None,
    shuffle: bool = True,
    repeat: bool = False,
    drop_remainder: bool = False,
    question_format: str = "tokens",
    with_info: bool = False,
) -> tf.data.Dataset:
    """Batches of Sort-of-CLEVR in the zoo's VQA input format.

    Args:
      split: "train", "validation" or "test"; its data seed is
        `SPLIT_SEEDS[split]`, so both sources give the same examples.
      batch_size: B.
      seed: seed of the shuffle order (the same seed gives the same batches).
      source: "generator" (generated in memory, no TFDS) or "tfds" (read the
        prepared `SortOfClevr` build in data_dir).
      config: a config name of `SortOfClevr` or a `SortOfClevrConfig`; gives
        the split sizes and scene parameters.
      num_images: with source="generator", images to use instead of the
        config's split size (the first num_images of the split).
      data_dir: with source="tfds", the TFDS data_dir of the build.
      shuffle: whether to shuffle the examples (with `seed`).
      repeat: whether to repeat forever (reshuffled each epoch).
      drop_remainder: whether to drop a last smaller batch.
      question_format: "tokens" (question = int32 [B, 13] token ids) or
        "vector" (question = float32 [B, 11], the paper's encoding).
      with_info: whether to add a third element {"question_type",
        "question_subtype": int32 [B]} for per-type accuracy (Keras `fit`
        would read it as sample weights, so only for evaluation loops).

    Returns:
      A dataset of ({"question": ..., "image": float32 [B, H, W, 3] in
      [0, 1]}, answer int32 [B]) (plus the info dict if with_info).

    Raises:
      ValueError: on a bad argument, naming it.
      FileNotFoundError: with source="tfds", when data_dir holds no build of
        the config; the message names the folder and the command to build.
    """
    _check_split(split)
    _check_batch_size(batch_size)
    soc._check_int("seed", seed, 0)
    if source not in SOURCES:
        raise ValueError(
            f"`source` must be one of {SOURCES}, got source={source!r}."
        )
    if question_format not in QUESTION_FORMATS:
        raise ValueError(
            f"`question_format` must be one of "
            f"{QUESTION_FORMATS}, got "
            f"question_format={question_format!r}."
        )
    cfg = _config(config)
    if source == "generator":
        if data_dir is not None:
            raise ValueError(
                f"`data_dir` is only read with source='tfds', "
                f"got data_dir={data_dir!r}."
            )
        ds, total = _from_generator(split, cfg, num_images)
    else:
        if num_images is not None:
            raise ValueError(
                f"`num_images` is only used with "
                f"source='generator', got num_images="
                f"{num_images!r}."
            )
        ds, total = _from_tfds(split, cfg, data_dir)
    if shuffle:
        ds = ds.shuffle(total, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(
        _formatter(question_format, with_info),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    return ds.prefetch(tf.data.AUTOTUNE)


def _formatter(question_format, with_info):
    def format_batch(batch):
        if question_format == "tokens":
            question = tf.cast(batch["question_tokens"], tf.int32)
        else:
            question = tf.cast(batch["question_vector"], tf.float32)
        inputs = {
            "question": question,
            "image": tf.image.convert_image_dtype(batch["image"], tf.float32),
        }
        answer = tf.cast(batch["answer"], tf.int32)
        if not with_info:
            return inputs, answer
        info = {
            "question_type": tf.cast(batch["question_type"], tf.int32),
            "question_subtype": tf.cast(batch["question_subtype"], tf.int32),
        }
        return inputs, answer, info

    return format_batch


def _from_generator(split, cfg, num_images):
    if num_images is None:
        num_images = cfg.num_images(split)
    soc._check_int("num_images", num_images, 1)
    a = soc.generate_arrays(
        num_images,
        SPLIT_SEEDS[split],
        cfg.image_size,
        cfg.num_objects,
        cfg.questions_per_image,
    )
    q = cfg.questions_per_image
    images = tf.constant(a["image"])  # each image stored once
    columns = {
        "question_tokens": a["question_tokens"].reshape(
            -1, soc.QUESTION_LENGTH
        ),
        "question_vector": a["question_vector"].reshape(
            -1, soc.QUESTION_VECTOR_SIZE
        ),
        "answer": a["answer"].reshape(-1),
        "question_type": a["question_type"].reshape(-1),
        "question_subtype": a["question_family"].reshape(-1),
        "image_index": np.repeat(np.arange(num_images), q).astype(np.int32),
    }
    ds = tf.data.Dataset.from_tensor_slices(columns)

    def add_image(example):
        example = dict(example)
        example["image"] = tf.gather(images, example.pop("image_index"))
        return example

    ds = ds.map(
        add_image, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    return ds, num_images * q


def _from_tfds(split, cfg, data_dir):
    if data_dir is None:
        raise ValueError(
            "`data_dir` is needed with source='tfds', got data_dir=None."
        )
    builder = SortOfClevr(config=cfg, data_dir=data_dir)
    if not builder.is_prepared():
        raise FileNotFoundError(
            f"No Sort-of-CLEVR build of config {cfg.name!r} in data_dir="
            f"{data_dir!r} (no {os.path.join(builder.data_dir, 'dataset_info.json')}"
            f"); build it with SortOfClevr(config={cfg.name!r}, data_dir="
            f"{data_dir!r}).download_and_prepare()."
        )
    ds = builder.as_dataset(split=split, shuffle_files=False)
    total = builder.info.splits[split].num_examples

    def select(example):
        return {
            key: example[key]
            for key in (
                "image",
                "question_tokens",
                "question_vector",
                "answer",
                "question_type",
                "question_subtype",
            )
        }

    return ds.map(
        select, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    ), total


def vqa_spec(config: Union[str, SortOfClevrConfig] = "paper"):
    """The `VqaSpec` of Sort-of-CLEVR with token questions.

    Args:
      config: a config name or a `SortOfClevrConfig`.

    Returns:
      mi_zoo.core.specs.VqaSpec(vocab_size=27, question_length=13,
      image_kind="pixels", image_shape=(75, 75, 3), num_answers=10).
    """
    cfg = _config(config)
    return specs.VqaSpec(
        vocab_size=len(soc.VOCAB),
        question_length=soc.QUESTION_LENGTH,
        image_kind="pixels",
        image_shape=(cfg.image_size, cfg.image_size, 3),
        num_answers=len(soc.ANSWERS),
    )
