"""VQA datasets by name: the model spec, train/eval pipelines and names.

One call gives a training binary everything it needs:

    data = vqa_sources.load_vqa_data("clevr2d", batch_size=64,
                                     eval_batch_size=256, seed=0)
    model = build_model(data.spec)
    model.fit(data.train, steps_per_epoch=..., epochs=...)
    for inputs, targets, info in data.eval:  # one pass, unshuffled
        ... info["question_type"] indexes data.question_types

Registered datasets (`VQA_DATASETS.names()`):

  * "sort_of_clevr": Sort-of-CLEVR (Santoro et al. 2017), generated in
    memory (no data_dir). Image kind "pixels". Question types are the six
    question families, "non_relational/shape" ... "relational/count".
    Options: config ("paper" by default, or "small", or a
    `sort_of_clevr_builder.SortOfClevrConfig`). Eval splits "validation"
    (default) and "test".
  * "clevr2d": the generated CLEVR-2D TFDS set (`clevr_2d_builder.Clevr2d`),
    built on first use into data_dir (None: TFDS's default data dir,
    ~/tensorflow_datasets or $TFDS_DATA_DIR). Image kinds "pixels"
    (default) and "regions" (with "boxes"). 13 CLEVR question types.
    Options: config ("default" or "small" or a `Clevr2dConfig`). Eval splits
    "validation" (default) and "test".
  * "clevr": real CLEVR v1.0 with data_dir as its manual directory (see
    `clevr`). Question words and the answer set come from the train
    questions; question length is the longest train question. Image kind
    "pixels". Question types `clevr.QUESTION_TYPES`. Options: image_size
    ((128, 128)). Eval split "val" (the only one with answers).
  * "vqa2": real VQA v2 (see `vqa_v2`): data_dir holds the official
    v2_OpenEnded_mscoco_{train2014,val2014}_questions.json and
    v2_mscoco_{train2014,val2014}_annotations.json plus region features,
    looked up in this order: options["features"]; BAN's
    {train,val}36.hdf5 (+ _imgid2idx.pkl) for the split; a `convert_tsv`
    directory data_dir/trainval_36_npy; the TSV
    data_dir/trainval_36/trainval_resnet101_faster_rcnn_genome_36.tsv
    (converted once into data_dir/trainval_36_npy). Image kind "regions".
    Answer-count targets (answer_convention "sigmoid": how many of the 10
    annotators gave each answer; in the eval split counted as the official
    evaluator matches strings, `vqa_answers.AnswerVocab.targets(...,
    strict=True)`, so that the accuracy is the official number), answers
    kept when they
    are the multiple-choice answer of >= answer_min_count (9) train
    questions. Question types are the annotations' answer types
    ("yes/no", "number", "other"). Options: features, answer_min_count,
    max_question_length (14). Eval split "val2014". Features are read by
    `tf.numpy_function`, so `train_checkpointable` is False.

Datasets:
  * train: repeated forever, shuffled with `seed` (reshuffled each epoch),
    batches of batch_size with drop_remainder=True, elements
    (inputs, targets);
  * eval: one pass, unshuffled, batches of eval_batch_size (the last partial
    batch kept), elements (inputs, targets, {"question_type": int32 [B]}).

inputs are {"question": int32 [B, T], "image": float32 [B, ...]} plus
"boxes" float32 [B, R, 4] for image_kind "regions"; targets are int32 [B]
answer ids (softmax datasets) or float32 [B, A] answer counts (vqa2), the
targets of `mi_zoo.models.objectives` for the spec's answer convention.

`train_limit` / `eval_limit` keep only the first N examples of the split (in
file / generation order, before shuffling): for smoke tests. For clevr and
vqa2, whose readers batch internally, the limited pipelines read examples
one at a time and shuffle decoded examples (a buffer of train_limit
examples), which is fine for the small limits they are meant for.

The request and its checks (`Request`, `checked_request`, `choose_split`,
`check_options`, `limited`, ...) are the generic pieces that
`matching_sources` shares: they live in `mi_zoo.data.sources` (issue 15)
and are re-exported here for one release. `clevr_2d_source` is what the
clevr2d loaders of both registries choose from a request.
"""

import dataclasses
import math
import os
from typing import Optional
from typing import Tuple

import numpy as np
import tensorflow as tf

from mi_zoo.core import registry
from mi_zoo.core import specs
from mi_zoo.core import validation
from mi_zoo.data import clevr
from mi_zoo.data import clevr_2d
from mi_zoo.data import images
from mi_zoo.data import sort_of_clevr as soc
from mi_zoo.data import text_vocab
from mi_zoo.data import vocabulary
from mi_zoo.data import vqa_answers
from mi_zoo.data import vqa_codec
from mi_zoo.data import vqa_v2
from mi_zoo.data.clevr_2d import builder as clevr_2d_builder
from mi_zoo.data.sort_of_clevr import builder as sort_of_clevr_builder
from mi_zoo.data.sources import Request
from mi_zoo.data.sources import check_options
from mi_zoo.data.sources import check_seed  # noqa: F401
from mi_zoo.data.sources import checked_request  # noqa: F401
from mi_zoo.data.sources import choose_image_kind
from mi_zoo.data.sources import choose_split
from mi_zoo.data.sources import limited  # noqa: F401
from mi_zoo.data.sources import limited_count
from mi_zoo.data.sources import limited_pipelines
from mi_zoo.data.sources import load
from mi_zoo.data.sources import reject_data_dir
from mi_zoo.data.sources import require_data_dir

VQA_DATASETS = registry.Registry("VQA dataset")

SORT_OF_CLEVR_QUESTION_TYPES = tuple(
    f"{soc.QUESTION_TYPES[f // 3]}/{family}"
    for f, family in enumerate(soc.QUESTION_FAMILIES)
)
VQA2_ANSWER_TYPES = vqa_v2.ANSWER_TYPES
VQA2_TSV = os.path.join(
    "trainval_36", "trainval_resnet101_faster_rcnn_genome_36.tsv"
)
VQA2_NPY_DIR = "trainval_36_npy"
_VQA2_BAN = {"train2014": "train36.hdf5", "val2014": "val36.hdf5"}
# BAN's later release: adaptive 10-100 boxes with pos_boxes.
_VQA2_BAN_ADAPTIVE = {"train2014": "train.hdf5", "val2014": "val.hdf5"}


@dataclasses.dataclass(frozen=True)
class VqaData:
    """A VQA dataset ready for training and evaluation.

    Attributes:
      spec: what the model reads and predicts.
      train: repeated, shuffled, drop_remainder batches of (inputs, targets).
      eval: one unshuffled pass of (inputs, targets, {"question_type"}),
        last partial batch kept.
      answers: answer id -> text.
      question_types: question type id -> name.
      words: question token id -> word (id 0 is padding).
      num_eval_examples: examples in one pass of `eval`.
      train_checkpointable: whether `tf.train.Checkpoint(iterator=
        iter(train))` can save the input position (False when the pipeline
        runs Python code through `tf.numpy_function`).
      tokenizer: how a question's text splits into `words` (a name of
        `vqa_codec.TOKENIZERS`).
    """

    spec: specs.VqaSpec
    train: tf.data.Dataset
    eval: tf.data.Dataset
    answers: Tuple[str, ...]
    question_types: Tuple[str, ...]
    words: Tuple[str, ...]
    num_eval_examples: int
    train_checkpointable: bool = True
    tokenizer: str = "words"

    def codec(self) -> vqa_codec.VqaCodec:
        """What a trained model needs to answer a question about an image
        (`vqa_codec`: words, answers, image preprocessing)."""
        return vqa_codec.VqaCodec(
            self.spec,
            words=self.words,
            answers=self.answers,
            tokenizer=self.tokenizer,
        )


def load_vqa_data(name: str, **request) -> VqaData:
    """The spec, datasets and names of a registered VQA dataset.

    Args:
      name: one of `VQA_DATASETS.names()` (see the module docstring).
      **request: the other fields of `sources.Request`, by name:
        batch_size, eval_batch_size and seed (required), data_dir (must be
        None for sort_of_clevr; required for clevr and vqa2; where clevr2d
        is built), image_kind, eval_split, train_limit, eval_limit and
        options (see the module docstring; an unknown key is an error).

    Returns:
      A `VqaData`.

    Raises:
      ValueError: on an unknown name or a bad argument; the message names
        the argument (and its flag) and echoes the value.
      FileNotFoundError: when data_dir lacks files the dataset needs.
    """
    return load(VQA_DATASETS, name, **request)


# Sort-of-CLEVR.


def sort_of_clevr_pipeline(
    split: str,
    cfg,
    *,
    batch_size: int,
    seed: int,
    shuffle: bool,
    repeat: bool,
    drop_remainder: bool,
    with_info: bool,
    limit: Optional[int] = None,
):
    """Sort-of-CLEVR batches generated in memory; returns (dataset, n).

    Unlike `sort_of_clevr_builder.sort_of_clevr_dataset`, the shuffle buffer
    holds (question, answer, image index) rows only and images are gathered
    per batch, so the buffer (and an iterator checkpoint) stays small.
    """
    q = cfg.questions_per_image
    num_images = cfg.num_images(split)
    if limit is not None:
        num_images = min(num_images, math.ceil(limit / q))
    a = soc.generate_arrays(
        num_images,
        sort_of_clevr_builder.SPLIT_SEEDS[split],
        cfg.image_size,
        cfg.num_objects,
        q,
    )
    n = num_images * q if limit is None else min(num_images * q, limit)
    columns = {
        "question": a["question_tokens"]
        .reshape(-1, soc.QUESTION_LENGTH)
        .astype(np.int32)[:n],
        "answer": a["answer"].reshape(-1).astype(np.int32)[:n],
        "question_type": a["question_family"].reshape(-1).astype(np.int32)[:n],
        "image_index": np.repeat(np.arange(num_images), q).astype(np.int32)[
            :n
        ],
    }
    images = tf.constant(a["image"])  # uint8, each image stored once.
    ds = tf.data.Dataset.from_tensor_slices(columns)
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)

    def format_batch(batch):
        image = tf.image.convert_image_dtype(
            tf.gather(images, batch["image_index"]), tf.float32
        )
        inputs = {"question": batch["question"], "image": image}
        if with_info:
            return (
                inputs,
                batch["answer"],
                {"question_type": batch["question_type"]},
            )
        return inputs, batch["answer"]

    ds = ds.map(
        format_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    return ds.prefetch(tf.data.AUTOTUNE), n


@VQA_DATASETS.register("sort_of_clevr")
def _sort_of_clevr(r: Request) -> VqaData:
    reject_data_dir(r.name, r.data_dir)
    choose_image_kind(r.name, r.image_kind, ("pixels",))
    split = choose_split(r.name, r.eval_split, ("validation", "test"))
    opts = check_options(r.name, r.options, {"config": "paper"})
    cfg = sort_of_clevr_builder._config(opts["config"])  # pylint: disable=protected-access
    train, _ = sort_of_clevr_pipeline(
        "train",
        cfg,
        batch_size=r.batch_size,
        seed=r.seed,
        shuffle=True,
        repeat=True,
        drop_remainder=True,
        with_info=False,
        limit=r.train_limit,
    )
    evaluation, n = sort_of_clevr_pipeline(
        split,
        cfg,
        batch_size=r.eval_batch_size,
        seed=0,
        shuffle=False,
        repeat=False,
        drop_remainder=False,
        with_info=True,
        limit=r.eval_limit,
    )
    return VqaData(
        spec=sort_of_clevr_builder.vqa_spec(cfg),
        train=train,
        eval=evaluation,
        answers=tuple(soc.ANSWERS),
        question_types=SORT_OF_CLEVR_QUESTION_TYPES,
        words=tuple(soc.VOCAB),
        num_eval_examples=n,
        tokenizer="words_and_marks",
    )


# CLEVR-2D.


def clevr_2d_builder_for(data_dir, config):
    """A prepared `Clevr2d` builder (built into data_dir on first use)."""
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise ValueError(
            f"`data_dir` (--data_dir) must be a path or None, "
            f"got data_dir={data_dir!r}."
        )
    builder = clevr_2d_builder.Clevr2d(
        config=config,
        data_dir=None if data_dir is None else os.fspath(data_dir),
    )
    builder.download_and_prepare()
    return builder


def clevr_2d_source(r: Request):
    """What a clevr2d request chooses, for the VQA and the matching loader:
    (image kind, eval split, prepared `Clevr2d` builder of the config
    option, image shape: [S, S, 3] pixels or [MAX_REGIONS,
    REGION_FEATURES] regions)."""
    kind = choose_image_kind(
        r.name, r.image_kind, clevr_2d_builder.IMAGE_KINDS
    )
    split = choose_split(r.name, r.eval_split, ("validation", "test"))
    opts = check_options(r.name, r.options, {"config": "default"})
    builder = clevr_2d_builder_for(r.data_dir, opts["config"])
    size = builder.builder_config.image_size
    shape = (
        (size, size, 3)
        if kind == "pixels"
        else (clevr_2d_builder.MAX_REGIONS, clevr_2d_builder.REGION_FEATURES)
    )
    return kind, split, builder, shape


@VQA_DATASETS.register("clevr2d")
def _clevr2d(r: Request) -> VqaData:
    kind, split, builder, shape = clevr_2d_source(r)
    common = dict(image_kind=kind, builder=builder)
    train = clevr_2d_builder.clevr_2d_dataset(
        "train",
        r.batch_size,
        r.seed,
        shuffle=True,
        repeat=True,
        drop_remainder=True,
        limit=r.train_limit,
        **common,
    )
    evaluation = clevr_2d_builder.clevr_2d_dataset(
        split,
        r.eval_batch_size,
        0,
        shuffle=False,
        with_info=True,
        limit=r.eval_limit,
        **common,
    )
    spec = specs.VqaSpec(
        vocab_size=len(clevr_2d.VOCAB),
        question_length=clevr_2d.QUESTION_LENGTH,
        image_kind=kind,
        image_shape=shape,
        num_answers=len(clevr_2d.ANSWERS),
    )
    return VqaData(
        spec=spec,
        train=train,
        eval=evaluation,
        answers=tuple(clevr_2d.ANSWERS),
        question_types=tuple(clevr_2d.QUESTION_TYPES),
        words=tuple(clevr_2d.VOCAB),
        num_eval_examples=limited_count(
            builder.info.splits[split].num_examples, r.eval_limit
        ),
        tokenizer="words_and_marks",
    )


# CLEVR v1.0.

_CLEVR_CONTENTS = (
    "CLEVR v1.0 (CLEVR_v1.0/questions/CLEVR_{train,val}_"
    "questions.json and CLEVR_v1.0/images/{train,val}/*.png; "
    "unzip CLEVR_v1.0.zip there)"
)


@VQA_DATASETS.register("clevr")
def _clevr(r: Request) -> VqaData:
    data_dir = require_data_dir(r.name, r.data_dir, _CLEVR_CONTENTS)
    choose_image_kind(r.name, r.image_kind, ("pixels",))
    split = choose_split(r.name, r.eval_split, ("val",))
    opts = check_options(r.name, r.options, {"image_size": (128, 128)})
    image_size = images.check_image_size(
        opts["image_size"], "options['image_size']"
    )
    train_questions = clevr.load_questions(
        clevr.split_paths(data_dir, "train")[0]
    )
    qvocab = vocabulary.Vocabulary.from_texts(
        q["question"] for q in train_questions
    )
    answers = clevr.build_answer_vocab(train_questions)
    length = max(
        len(text_vocab.tokenize(q["question"])) for q in train_questions
    )
    num_eval = len(clevr.load_questions(clevr.split_paths(data_dir, split)[0]))

    def read(split_name, batch_size, **pipeline):
        return clevr.clevr_dataset(
            data_dir,
            split_name,
            qvocab,
            answers,
            batch_size,
            image_size=image_size,
            max_question_length=length,
            **pipeline,
        )

    def split_inputs(with_info):
        def fn(inputs, answer):
            inputs = dict(inputs)
            info = {"question_type": inputs.pop("question_type")}
            return (inputs, answer, info) if with_info else (inputs, answer)

        return fn

    train, evaluation = limited_pipelines(r, read, "train", split)
    spec = specs.VqaSpec(
        vocab_size=len(qvocab),
        question_length=length,
        image_kind="pixels",
        image_shape=image_size + (3,),
        num_answers=len(answers),
    )
    return VqaData(
        spec=spec,
        train=train.map(split_inputs(False)),
        eval=evaluation.map(split_inputs(True)),
        answers=tuple(answers),
        question_types=tuple(clevr.QUESTION_TYPES),
        words=tuple(qvocab.tokens),
        num_eval_examples=limited_count(num_eval, r.eval_limit),
    )


# VQA v2.

_VQA2_CONTENTS = (
    "the official VQA v2 files v2_OpenEnded_mscoco_{train2014,val2014}_"
    "questions.json and v2_mscoco_{train2014,val2014}_annotations.json, plus "
    "bottom-up region features: BAN's {train,val}36.hdf5 with "
    "{train,val}36_imgid2idx.pkl (or the adaptive-box {train,val}.hdf5 with "
    "{train,val}_imgid2idx.pkl), or a vqa_v2.convert_tsv directory "
    f"{VQA2_NPY_DIR}/, or the TSV {VQA2_TSV}"
)


def vqa2_features(data_dir: str, split: str) -> Tuple[str, Optional[str]]:
    """(features path, tsv_cache_dir) of a VQA v2 split in data_dir."""
    ban = os.path.join(data_dir, _VQA2_BAN.get(split, f"{split}36.hdf5"))
    if os.path.isfile(ban):
        return ban, None
    adaptive = os.path.join(
        data_dir, _VQA2_BAN_ADAPTIVE.get(split, f"{split}.hdf5")
    )
    if os.path.isfile(adaptive):
        return adaptive, None
    npy = os.path.join(data_dir, VQA2_NPY_DIR)
    if os.path.isfile(os.path.join(npy, "image_ids.npy")):
        return npy, None
    tsv = os.path.join(data_dir, VQA2_TSV)
    if os.path.isfile(tsv):
        return tsv, npy
    raise FileNotFoundError(
        f"no VQA v2 region features for split {split!r} in `data_dir` "
        f"(--data_dir) {data_dir!r}: expected {ban!r}, {adaptive!r}, a "
        f"convert_tsv "
        f"directory {npy!r} or the TSV {tsv!r} (or pass "
        f"options={{'features': path}})."
    )


@VQA_DATASETS.register("vqa2")
def _vqa2(r: Request) -> VqaData:
    data_dir = require_data_dir(r.name, r.data_dir, _VQA2_CONTENTS)
    choose_image_kind(r.name, r.image_kind, ("regions",))
    split = choose_split(r.name, r.eval_split, ("val2014",))
    opts = check_options(
        r.name,
        r.options,
        {"features": None, "answer_min_count": 9, "max_question_length": 14},
    )
    length = opts["max_question_length"]
    validation.check_positive_int("max_question_length", length)
    train_files = vqa_v2.split_files(data_dir, "train2014")
    eval_files = vqa_v2.split_files(data_dir, split)
    features = {
        s: (
            (opts["features"], None)
            if opts["features"] is not None
            else vqa2_features(data_dir, s)
        )
        for s in ("train2014", split)
    }
    qvocab = vocabulary.Vocabulary.from_texts(
        q["question"] for q in vqa_v2.load_questions(train_files["questions"])
    )
    avocab = vqa_answers.AnswerVocab.build(
        vqa_v2.load_annotations(train_files["annotations"]).values(),
        min_count=opts["answer_min_count"],
    )
    eval_questions = vqa_v2.load_questions(eval_files["questions"])
    eval_annotations = vqa_v2.load_annotations(eval_files["annotations"])
    qids, types = [], []
    for qid, ann in sorted(eval_annotations.items()):
        kind = ann.get("answer_type")
        if kind not in VQA2_ANSWER_TYPES:
            raise ValueError(
                f"VQA v2 annotations file {eval_files['annotations']!r}: "
                f"question {qid} has answer_type={kind!r}, expected one of "
                f"{VQA2_ANSWER_TYPES}."
            )
        qids.append(qid)
        types.append(VQA2_ANSWER_TYPES.index(kind))
    qids = tf.constant(np.array(qids, np.int64))
    types = tf.constant(np.array(types, np.int32))

    # Evaluation counts the annotators as the official evaluator matches
    # strings, so that its accuracy is the official number.
    def read(split_name, batch_size, **pipeline):
        files = train_files if split_name == "train2014" else eval_files
        path, cache = features[split_name]
        return vqa_v2.vqa_v2_dataset(
            files["questions"],
            files["annotations"],
            path,
            avocab,
            batch_size,
            qvocab,
            max_question_length=length,
            target="counts",
            strict=split_name != "train2014",
            tsv_cache_dir=cache,
            **pipeline,
        )

    # The models take question, image and boxes; padded regions are zeros.
    def train_format(inputs, scores):
        inputs = dict(inputs)
        inputs.pop("question_id")
        inputs.pop("num_boxes")
        return inputs, scores

    def eval_format(inputs, scores):
        inputs = dict(inputs)
        qid = inputs.pop("question_id")
        inputs.pop("num_boxes")
        question_type = tf.gather(types, tf.searchsorted(qids, qid))
        return inputs, scores, {"question_type": question_type}

    train, evaluation = limited_pipelines(r, read, "train2014", split)
    image_shape = tuple(
        int(d) for d in train.element_spec[0]["image"].shape[1:]
    )
    spec = specs.VqaSpec(
        vocab_size=len(qvocab),
        question_length=length,
        image_kind="regions",
        image_shape=image_shape,
        num_answers=len(avocab),
        answer_convention="sigmoid",
    )
    return VqaData(
        spec=spec,
        train=train.map(train_format),
        eval=evaluation.map(eval_format),
        answers=tuple(avocab.answers),
        question_types=VQA2_ANSWER_TYPES,
        words=tuple(qvocab.tokens),
        num_eval_examples=limited_count(len(eval_questions), r.eval_limit),
        train_checkpointable=False,
    )
