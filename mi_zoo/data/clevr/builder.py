r"""CLEVR v1.0 as a TFDS builder over the original zip's files (manual dir).

Johnson et al., "CLEVR: A Diagnostic Dataset for Compositional Language and
Elementary Visual Reasoning", CVPR 2017
(https://cs.stanford.edu/people/jcjohns/clevr/). Registered as `clevr_v1`
(class `ClevrV1`): TFDS's catalogue has a `clevr` builder of its own, which
downloads; this one reads `CLEVR_v1.0/` through `mi_zoo.data.clevr.reader`
and keeps the functional programs and the question types.

One record is one image with all its questions (CLEVR has about 10
questions per image, so the image is stored once):

    image              the original PNG (alpha dropped), uint8 [H, W, 3]
    image_filename     "CLEVR_val_000000.png"
    image_index        int64
    questions          Sequence of {
      question              the text
      question_tokens       ids of `Vocabulary.from_texts(train questions)`
                            (unpadded; stored in the build, see
                            `tfds_manual.word_vocabulary`)
      answer                ClassLabel of the sorted train answers (28)
      question_type         ClassLabel of `clevr.QUESTION_TYPES`
      question_family_index, question_index  int32 / int64
      program               Sequence of {"function", "inputs",
                            "value_inputs"}, as in the JSON
    }

Splits: "train" and "validation" (CLEVR's val); the test split has no
answers or programs and is not built. Prepare:

    python -c "import tensorflow_datasets as tfds; \
from mi_zoo.data.clevr import builder as b; \
b.ClevrV1(data_dir='/data/tfds').download_and_prepare(download_config=\
tfds.download.DownloadConfig(manual_dir='/data/clevr'))"

and read one example per question, as `clevr.clevr_dataset` gives them:

    ds = b.clevr_v1_dataset("validation", batch_size=64,
                            data_dir="/data/tfds")
    # ({"image": float32 [B, 128, 128, 3] in [0, 1], "question": int32
    #   [B, T], "question_type": int32 [B]}, int32 [B] answer ids)
"""

import collections
import os
from typing import Optional
from typing import Tuple

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from mi_zoo.core import validation
from mi_zoo.data import images as images_lib
from mi_zoo.data import tfds_manual
from mi_zoo.data import vocabulary
from mi_zoo.data.clevr import reader as clevr

SPLITS = {"train": "train", "validation": "val"}

_CITATION = """\
@inproceedings{johnson2017clevr,
  title={{CLEVR}: A Diagnostic Dataset for Compositional Language and
         Elementary Visual Reasoning},
  author={Johnson, Justin and Hariharan, Bharath and van der Maaten, Laurens
          and Fei-Fei, Li and Zitnick, C. Lawrence and Girshick, Ross},
  booktitle={CVPR},
  year={2017}
}"""


class ClevrV1(tfds_manual.ManualDirBuilder):
    """CLEVR v1.0 from a manual directory; see the module docstring."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = """\
Unzip CLEVR_v1.0.zip (https://cs.stanford.edu/people/jcjohns/clevr/) into
the manual directory, so that it holds
  CLEVR_v1.0/questions/CLEVR_{train,val}_questions.json
  CLEVR_v1.0/images/{train,val}/CLEVR_{train,val}_000000.png ...
(the manual directory may also be the CLEVR_v1.0 folder itself)."""

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            description=(
                "CLEVR v1.0 images with their questions, answers, "
                "question types and functional programs."
            ),
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(
                        shape=(None, None, 3), encoding_format="png"
                    ),
                    "image_filename": tfds.features.Text(),
                    "image_index": np.int64,
                    "questions": tfds.features.Sequence(
                        {
                            "question": tfds.features.Text(),
                            "question_tokens": tfds_manual.word_tokens_feature(),
                            "answer": tfds.features.ClassLabel(),
                            "question_type": tfds.features.ClassLabel(
                                names=clevr.QUESTION_TYPES
                            ),
                            "question_family_index": np.int32,
                            "question_index": np.int64,
                            "program": tfds.features.Sequence(
                                {
                                    "function": tfds.features.Text(),
                                    "inputs": tfds.features.Sequence(np.int32),
                                    "value_inputs": tfds.features.Sequence(
                                        tfds.features.Text()
                                    ),
                                }
                            ),
                        }
                    ),
                }
            ),
            supervised_keys=None,
            homepage="https://cs.stanford.edu/people/jcjohns/clevr/",
            citation=_CITATION,
        )

    def _split_generators(self, dl_manager):
        paths = self._split_files(dl_manager, clevr.split_paths, SPLITS)
        train = clevr.load_questions(paths["train"][0])
        qvocab = vocabulary.Vocabulary.from_texts(q["question"] for q in train)
        answers = clevr.build_answer_vocab(train)
        questions = self.info.features["questions"]
        tfds_manual.set_word_vocabulary(questions["question_tokens"], qvocab)
        questions["answer"].names = answers
        return {
            split: self._generate_examples(qpath, images, qvocab, answers)
            for split, (qpath, images) in paths.items()
        }

    def _generate_examples(self, qpath, images_dir, qvocab, answers):
        questions = clevr.load_questions(qpath)
        files = clevr.image_files(questions, images_dir, qpath)
        labels = clevr.answer_ids(questions, answers, qpath)
        by_image = collections.OrderedDict()
        for k, (q, path) in enumerate(zip(questions, files)):
            if not q.get("program"):
                raise ValueError(
                    f"CLEVR questions file {qpath!r}: question "
                    f"{k} has no program."
                )
            by_image.setdefault(path, (int(q.get("image_index", -1)), []))[
                1
            ].append(
                {
                    "question": q["question"],
                    "question_tokens": qvocab.encode(q["question"]).tolist(),
                    "answer": labels[k],
                    "question_type": clevr.question_type_id(q),
                    "question_family_index": int(
                        q.get("question_family_index", -1)
                    ),
                    "question_index": int(q.get("question_index", k)),
                    "program": [_program_step(step) for step in q["program"]],
                }
            )
        for path, (image_index, qs) in by_image.items():
            name = os.path.basename(path)
            yield (
                name,
                {
                    "image": path,
                    "image_filename": name,
                    "image_index": image_index,
                    "questions": qs,
                },
            )


def _program_step(step: dict) -> dict:
    return {
        "function": step.get("function", step.get("type", "")),
        "inputs": [int(i) for i in step.get("inputs", [])],
        "value_inputs": [str(v) for v in step.get("value_inputs", [])],
    }


def clevr_v1_dataset(
    split: str,
    batch_size: int,
    *,
    data_dir: Optional[str] = None,
    image_size: Tuple[int, int] = (128, 128),
    max_question_length: int = 45,
    shuffle: bool = False,
    seed: int = 0,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """One example per question from a prepared `ClevrV1` build.

    Args:
      split: "train" or "validation".
      batch_size: B.
      data_dir: the TFDS data_dir of the build.
      image_size: (height, width) after `images.resize_image`.
      max_question_length: T; tokens are truncated/padded with 0 to it
        (CLEVR's longest question has 43 words).
      shuffle, seed: seeded shuffle of the files and of the questions
        (within a buffer of 10,000 questions).
      drop_remainder: drop the last partial batch.

    Returns:
      A dataset of ({"image": float32 [B, H, W, 3] in [0, 1], "question":
      int32 [B, T], "question_type": int32 [B]}, int32 [B] answer ids), the
      values of `clevr.clevr_dataset` with the build's vocabularies.

    Raises:
      FileNotFoundError: when data_dir holds no build, naming the folder
        and the command to build.
    """
    validation.check_choice("split", split, tuple(SPLITS))
    validation.check_positive_int("batch_size", batch_size)
    validation.check_positive_int("max_question_length", max_question_length)
    image_size = images_lib.check_image_size(image_size)
    builder = ClevrV1(data_dir=data_dir)
    builder.check_prepared("CLEVR v1.0", data_dir)

    def per_question(record):
        qs = record["questions"]
        tokens = qs["question_tokens"][:, :max_question_length]
        tokens = tf.cast(
            tokens.to_tensor(shape=[None, max_question_length]), tf.int32
        )
        image = images_lib.resize_image(record["image"], image_size)
        n = tf.shape(tokens)[0]
        return tf.data.Dataset.from_tensor_slices(
            (
                {
                    "image": tf.repeat(image[None], n, axis=0),
                    "question": tokens,
                    "question_type": tf.cast(qs["question_type"], tf.int32),
                },
                tf.cast(qs["answer"], tf.int32),
            )
        )

    ds = builder.as_dataset(
        split=split,
        shuffle_files=shuffle,
        read_config=tfds.ReadConfig(shuffle_seed=seed),
    )
    ds = ds.flat_map(per_question)
    if shuffle:
        ds = ds.shuffle(10_000, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.prefetch(tf.data.AUTOTUNE)
