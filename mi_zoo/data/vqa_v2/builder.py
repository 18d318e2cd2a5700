r"""VQA v2 as a TFDS builder over the official JSON files (manual directory).

Goyal et al., "Making the V in VQA Matter: Elevating the Role of Image
Understanding in Visual Question Answering", CVPR 2017
(https://visualqa.org/download.html). Parsing, answer normalisation and soft
scores are those of `mi_zoo.data.vqa_v2.reader` and `vqa_answers`.

One record is one question:

    question_id, image_id      int64
    question                   the text
    question_tokens            ids of `Vocabulary.from_texts(train questions)`
                               (unpadded; the vocabulary is stored in the
                               build, `tfds_manual.word_vocabulary`)
    question_type              VQA's question-type prefix ("what color is")
    answer_type                "yes/no", "number" or "other"
    multiple_choice_answer     the most common answer, as given
    answers                    Sequence of {"label": ClassLabel of the answer
                               vocabulary (normalised `multiple_choice_answer`s
                               of train seen >= answer_min_count times),
                               "count": annotators who gave it,
                               "soft_score": min(count / 3, 1)}; answers
                               outside the vocabulary are left out
    official_answers           Sequence of {"label", "count"}: the same with
                               the annotators counted as the official
                               evaluator matches strings
                               (`AnswerVocab.targets(..., strict=True)`):
                               the accuracy from these counts is
                               `vqa_answers.official_accuracy`

Region features are NOT copied into the records (2048-d x 36 boxes x 660k
questions would be ~200 GB, and most images recur in several questions):
records reference them by `image_id`, and `vqa_v2_tfds_dataset` reads them
lazily per example through `vqa_v2.FeatureStore` (a `convert_tsv` directory
or BAN's HDF5, fixed or adaptive boxes).

Splits: "train" (train2014) and "validation" (val2014); test2015 has no
annotations and is not built. Prepare:

    python -c "import tensorflow_datasets as tfds; \
from mi_zoo.data.vqa_v2 import builder as b; \
b.VqaV2(data_dir='/data/tfds').download_and_prepare(download_config=\
tfds.download.DownloadConfig(manual_dir='/data/vqa'))"

and read with the features:

    ds = builder.vqa_v2_tfds_dataset(
        "validation", "/data/vqa/val36.hdf5", batch_size=64,
        data_dir="/data/tfds")
    # ({"question": int32 [B, 14], "image": float32 [B, 36, 2048],
    #   "boxes": float32 [B, 36, 4], "num_boxes": int32 [B],
    #   "question_id": int64 [B]}, float32 [B, num_answers])
"""

import dataclasses
from typing import Optional
from typing import Union

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from mi_zoo.core import validation
from mi_zoo.core import vqa_scores
from mi_zoo.data import tfds_manual
from mi_zoo.data import vocabulary
from mi_zoo.data import vqa_answers
from mi_zoo.data.vqa_v2 import reader as vqa_v2

SPLITS = {"train": "train2014", "validation": "val2014"}
TARGETS = ("soft", "counts")

_CITATION = """\
@inproceedings{goyal2017making,
  title={Making the {V} in {VQA} Matter: Elevating the Role of Image
         Understanding in Visual Question Answering},
  author={Goyal, Yash and Khot, Tejas and Summers-Stay, Douglas and Batra,
          Dhruv and Parikh, Devi},
  booktitle={CVPR},
  year={2017}
}"""


@dataclasses.dataclass(eq=False)
class VqaV2Config(tfds.core.BuilderConfig):
    """Vocabulary sizes of a VQA v2 build.

    Attributes:
      answer_min_count: answers kept in the answer vocabulary (9 on train
        gives the usual 3,129).
      question_min_count: question words seen fewer times map to `<unk>`.
    """

    answer_min_count: int = 9
    question_min_count: int = 1

    def __post_init__(self):
        validation.check_positive_int(
            "answer_min_count", self.answer_min_count
        )
        validation.check_positive_int(
            "question_min_count", self.question_min_count
        )


class VqaV2(tfds_manual.ManualDirBuilder):
    """VQA v2 questions and answers; see the module docstring."""

    VERSION = tfds.core.Version("1.1.0")
    RELEASE_NOTES = {
        "1.0.0": "Initial release.",
        "1.1.0": "official_answers: answer counts matched as the official "
        "VQA evaluator matches strings (for evaluation).",
    }
    BUILDER_CONFIGS = [
        VqaV2Config(name="default", description="3,129 answers (min count 9).")
    ]
    DEFAULT_CONFIG_NAME = "default"
    MANUAL_DOWNLOAD_INSTRUCTIONS = """\
Put the official VQA v2 files (https://visualqa.org/download.html), unzipped,
directly in the manual directory:
  v2_OpenEnded_mscoco_train2014_questions.json
  v2_OpenEnded_mscoco_val2014_questions.json
  v2_mscoco_train2014_annotations.json
  v2_mscoco_val2014_annotations.json
Region features are not needed to build (records reference image ids)."""

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            description=(
                "VQA v2 questions with the official answers "
                "normalised and soft-scored; region features stay "
                "outside, referenced by image_id."
            ),
            features=tfds.features.FeaturesDict(
                {
                    "question_id": np.int64,
                    "image_id": np.int64,
                    "question": tfds.features.Text(),
                    "question_tokens": tfds_manual.word_tokens_feature(),
                    "question_type": tfds.features.Text(),
                    "answer_type": tfds.features.ClassLabel(
                        names=vqa_v2.ANSWER_TYPES
                    ),
                    "multiple_choice_answer": tfds.features.Text(),
                    "answers": tfds.features.Sequence(
                        {
                            "label": tfds.features.ClassLabel(),
                            "count": np.int32,
                            "soft_score": np.float32,
                        }
                    ),
                    "official_answers": tfds.features.Sequence(
                        {
                            "label": tfds.features.ClassLabel(),
                            "count": np.int32,
                        }
                    ),
                }
            ),
            supervised_keys=None,
            homepage="https://visualqa.org/",
            citation=_CITATION,
        )

    def _split_generators(self, dl_manager):
        files = self._split_files(dl_manager, vqa_v2.split_files, SPLITS)
        c = self.builder_config
        qvocab = vocabulary.Vocabulary.from_texts(
            (
                q["question"]
                for q in vqa_v2.load_questions(files["train"]["questions"])
            ),
            min_count=c.question_min_count,
        )
        avocab = vqa_answers.AnswerVocab.build(
            vqa_v2.load_annotations(files["train"]["annotations"]).values(),
            min_count=c.answer_min_count,
        )
        tfds_manual.set_word_vocabulary(
            self.info.features["question_tokens"], qvocab
        )
        for key in ("answers", "official_answers"):
            self.info.features[key]["label"].names = avocab.answers
        return {
            split: self._generate_examples(f, qvocab, avocab)
            for split, f in files.items()
        }

    def _generate_examples(self, files, qvocab, avocab):
        for q, ann in vqa_v2.iter_examples(
            files["questions"], files["annotations"]
        ):
            kind = ann.get("answer_type")
            if kind not in vqa_v2.ANSWER_TYPES:
                raise ValueError(
                    f"VQA v2 annotations file {files['annotations']!r}: "
                    f"question {q['question_id']} has answer_type="
                    f"{kind!r}, expected one of {vqa_v2.ANSWER_TYPES}."
                )
            ids, counts = avocab.targets(ann["answers"], "counts")
            official_ids, official_counts = avocab.targets(
                ann["answers"], "counts", strict=True
            )
            yield (
                int(q["question_id"]),
                {
                    "question_id": int(q["question_id"]),
                    "image_id": int(q["image_id"]),
                    "question": q["question"],
                    "question_tokens": qvocab.encode(q["question"]).tolist(),
                    "question_type": str(ann.get("question_type", "")),
                    "answer_type": vqa_v2.ANSWER_TYPES.index(kind),
                    "multiple_choice_answer": str(
                        ann["multiple_choice_answer"]
                    ),
                    "answers": {
                        "label": ids,
                        "count": np.asarray(counts, np.int32),
                        "soft_score": vqa_answers.soft_score(counts),
                    },
                    "official_answers": {
                        "label": official_ids,
                        "count": np.asarray(official_counts, np.int32),
                    },
                },
            )


def answer_vocab(builder: VqaV2) -> vqa_answers.AnswerVocab:
    """The answer vocabulary stored in a prepared build."""
    return vqa_answers.AnswerVocab(
        builder.info.features["answers"]["label"].names
    )


def vqa_v2_tfds_dataset(
    split: str,
    features_path: str,
    batch_size: int,
    *,
    data_dir: Optional[str] = None,
    config: Union[str, VqaV2Config] = "default",
    max_question_length: int = 14,
    target: str = "counts",
    strict: bool = False,
    max_boxes: Optional[int] = None,
    shuffle: bool = False,
    seed: int = 0,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """Batches of a prepared `VqaV2` build, region features read lazily.

    Args:
      split: "train" or "validation".
      features_path: the split's features (see `vqa_v2.FeatureStore`).
      batch_size: B.
      data_dir: the TFDS data_dir of the build.
      config: the build's config (name or `VqaV2Config`).
      max_question_length: T; tokens are truncated/padded with 0 to it.
      target: "counts" (n, the targets of the zoo's sigmoid answer
        convention, `mi_zoo.models.objectives`) or "soft" (min(n/3, 1)).
      strict: n from "official_answers" (counted as the official evaluator
        matches strings: the accuracy from them is the official one; for
        evaluation) instead of "answers" (the training targets).
      max_boxes: R of an adaptive-box HDF5 file.
      shuffle, seed: seeded shuffle of the records.
      drop_remainder: drop the last partial batch.

    Returns:
      A dataset of ({"question": int32 [B, T], "image": float32 [B, R, D],
      "boxes": float32 [B, R, 4], "num_boxes": int32 [B], "question_id":
      int64 [B]}, float32 [B, num_answers]); the same values as
      `vqa_v2.vqa_v2_dataset` with the build's vocabularies.

    Raises:
      FileNotFoundError: when data_dir holds no build; the message names
        the folder and the command to build.
      ValueError: on a bad argument, or (when read) an image that is not in
        the features.
    """
    validation.check_choice("split", split, tuple(SPLITS))
    validation.check_choice("target", target, TARGETS)
    validation.check_positive_int("batch_size", batch_size)
    validation.check_positive_int("max_question_length", max_question_length)
    builder = VqaV2(config=config, data_dir=data_dir)
    builder.check_prepared("VQA v2", data_dir)
    store = vqa_v2.FeatureStore(features_path, max_boxes)
    num_answers = len(answer_vocab(builder))
    answers_key = "official_answers" if strict else "answers"

    def load(record):
        tokens = tf.cast(
            record["question_tokens"][:max_question_length], tf.int32
        )
        tokens = tf.pad(tokens, [[0, max_question_length - tf.size(tokens)]])
        tokens.set_shape([max_question_length])
        inputs = {
            "question": tokens,
            **store.tf_read(record["image_id"], by="image_id"),
            "question_id": record["question_id"],
        }
        answers = record[answers_key]
        scores = tf.cast(answers["count"], tf.float32)
        if target == "soft":
            scores = vqa_scores.soft_score(scores, tf.minimum)
        return inputs, vqa_v2.dense_targets(
            answers["label"], scores, num_answers
        )

    ds = builder.as_dataset(split=split, shuffle_files=False)
    if shuffle:
        ds = ds.shuffle(
            builder.info.splits[split].num_examples,
            seed=seed,
            reshuffle_each_iteration=True,
        )
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.prefetch(tf.data.AUTOTUNE)
