"""CLEVR v1.0 reader: PNG images + question JSON from a manual directory.

Reference: Johnson et al., "CLEVR: A Diagnostic Dataset for Compositional
Language and Elementary Visual Reasoning", CVPR 2017
(https://cs.stanford.edu/people/jcjohns/clevr/).

Layout (unzip CLEVR_v1.0.zip into MANUAL_DIR; MANUAL_DIR may also be the
CLEVR_v1.0 folder itself):

    MANUAL_DIR/CLEVR_v1.0/images/{train,val,test}/CLEVR_{split}_000000.png
    MANUAL_DIR/CLEVR_v1.0/questions/CLEVR_{split}_questions.json
      {"questions": [{"image_index", "image_filename", "question", "answer",
                      "question_family_index", "program": [...]}]}

Question types come from the LAST function of the program (the function
that produces the answer; v1.0 programs name it "function", older ones
"type"):

    exist                                   -> "exist"
    count                                   -> "count"
    equal_integer, less_than, greater_than  -> "compare_integer"
    query_{size,color,material,shape}       -> "query_attribute"
    equal_{size,color,material,shape}       -> "compare_attribute"

Commands:

    python3 -m mi_zoo.data.clevr --manual_dir=/data/clevr \\
        --vocab_dir=/data/clevr/vocab

writes `question_vocab.json` (`vocabulary.Vocabulary.load`) and `answer_vocab.json`
({"answers": [...]}, readable with `vqa_answers.AnswerVocab.load(...).answers`)
from the train split and times one pass over val. In Python:

    ds = clevr.clevr_dataset(manual_dir, "val", question_vocab, answers,
                             batch_size=64, image_size=(128, 128))
    # ({"image": float32 [B, 128, 128, 3] in [0, 1],
    #   "question": int32 [B, T], "question_type": int32 [B]},
    #  int32 [B] answer ids)
    clevr.per_type_accuracy(predicted_ids, answer_ids, question_types)
"""

import json
import os
import sys
from typing import Dict
from typing import List
from typing import Optional
from typing import Sequence
from typing import Tuple

import numpy as np
import tensorflow as tf

from mi_zoo.core import validation
from mi_zoo.data import images as images_lib
from mi_zoo.data import sources
from mi_zoo.data import text_vocab
from mi_zoo.data import throughput
from mi_zoo.data import vocabulary

SPLITS = ("train", "val", "test")
QUESTION_TYPES = (
    "exist",
    "count",
    "compare_integer",
    "query_attribute",
    "compare_attribute",
)
_ATTRIBUTES = ("size", "color", "material", "shape")
_TYPE_OF_FUNCTION = {
    "exist": "exist",
    "count": "count",
    "equal_integer": "compare_integer",
    "less_than": "compare_integer",
    "greater_than": "compare_integer",
}
_TYPE_OF_FUNCTION.update(
    {f"query_{a}": "query_attribute" for a in _ATTRIBUTES}
)
_TYPE_OF_FUNCTION.update(
    {f"equal_{a}": "compare_attribute" for a in _ATTRIBUTES}
)


def question_type(program: Sequence[dict]) -> str:
    """The CLEVR question type of a program (see the module docstring).

    Args:
      program: the question's "program" list.

    Returns:
      One of `QUESTION_TYPES`.
    """
    if not program:
        raise ValueError("CLEVR program is empty; cannot derive its type.")
    last = program[-1]
    name = last.get("function", last.get("type"))
    if name not in _TYPE_OF_FUNCTION:
        raise ValueError(
            f"CLEVR program ends with unknown function "
            f"{name!r}; expected one of "
            f"{sorted(_TYPE_OF_FUNCTION)}."
        )
    return _TYPE_OF_FUNCTION[name]


def split_paths(manual_dir: str, split: str) -> Tuple[str, str]:
    """(questions JSON, images directory) of a split; checks they exist.

    Args:
      manual_dir: the manual directory (holding CLEVR_v1.0, or it).
      split: "train", "val" or "test".

    Returns:
      The two paths.
    """
    validation.check_choice("split", split, SPLITS)
    if not os.path.isdir(manual_dir):
        raise FileNotFoundError(
            f"CLEVR manual directory {manual_dir!r} does "
            f"not exist; unzip CLEVR_v1.0.zip there."
        )
    root = os.path.join(manual_dir, "CLEVR_v1.0")
    if not os.path.isdir(root):
        root = manual_dir
    questions = os.path.join(
        root, "questions", f"CLEVR_{split}_questions.json"
    )
    images = os.path.join(root, "images", split)
    if not os.path.isfile(questions):
        raise FileNotFoundError(
            f"CLEVR questions file {questions!r} does not "
            f"exist (manual directory {manual_dir!r})."
        )
    if not os.path.isdir(images):
        raise FileNotFoundError(
            f"CLEVR images directory {images!r} does not "
            f"exist (manual directory {manual_dir!r})."
        )
    return questions, images


def load_questions(path: str) -> List[dict]:
    """Reads CLEVR_{split}_questions.json; errors name the file.

    Args:
      path: the questions file.

    Returns:
      The list of question dicts.
    """
    return text_vocab.read_json_records(
        path, "CLEVR questions", "questions", ("question", "image_filename")
    )


def build_answer_vocab(questions: Sequence[dict]) -> List[str]:
    """The sorted answers of (training) questions (28 on CLEVR train).

    Args:
      questions: question dicts with "answer".

    Returns:
      The sorted list of distinct answers.
    """
    answers = sorted({str(q["answer"]) for q in questions if "answer" in q})
    if not answers:
        raise ValueError("CLEVR questions have no answers (test split?).")
    return answers


def question_type_id(question: dict) -> int:
    """Index in `QUESTION_TYPES` of a question dict's program, -1 without
    one (test split)."""
    program = question.get("program")
    return QUESTION_TYPES.index(question_type(program)) if program else -1


def answer_ids(
    questions: Sequence[dict], answers: Sequence[str], path: str
) -> List[int]:
    """The index in `answers` of each question's answer.

    Args:
      questions: question dicts (from `path`).
      answers: the answer list (`build_answer_vocab` of train).
      path: the questions file, for error messages.

    Returns:
      One id per question.

    Raises:
      ValueError: naming the file and question when an answer is missing or
        not in the list.
    """
    index = {a: i for i, a in enumerate(answers)}
    out = []
    for k, q in enumerate(questions):
        if "answer" not in q:
            raise ValueError(
                f"CLEVR questions file {path!r}: question "
                f"{k} has no answer; pass answers=None for "
                f"the test split."
            )
        if str(q["answer"]) not in index:
            raise ValueError(
                f"CLEVR questions file {path!r}: question "
                f"{k} has answer {q['answer']!r}, which is "
                f"not in the answer list."
            )
        out.append(index[str(q["answer"])])
    return out


def image_files(
    questions: Sequence[dict], images_dir: str, path: str
) -> List[str]:
    """The image file of each question; checks that every one exists.

    Args:
      questions: question dicts (from `path`).
      images_dir: the split's images directory.
      path: the questions file, for error messages.

    Returns:
      One path per question.
    """
    files = [os.path.join(images_dir, q["image_filename"]) for q in questions]
    for f in sorted(set(files)):
        if not os.path.isfile(f):
            raise FileNotFoundError(
                f"CLEVR image {f!r} (named in {path!r}) does not exist."
            )
    return files


def clevr_dataset(
    manual_dir: str,
    split: str,
    question_vocab: vocabulary.Vocabulary,
    answers: Optional[Sequence[str]],
    batch_size: int,
    *,
    image_size: Tuple[int, int] = (128, 128),
    max_question_length: Optional[int] = None,
    shuffle: bool = False,
    seed: int = 0,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """The CLEVR `tf.data` pipeline.

    Args:
      manual_dir: the manual directory (see the module docstring).
      split: "train", "val" or "test".
      question_vocab: question words (build it from train questions).
      answers: the answer list (`build_answer_vocab` of train), or None for
        the test split (the dataset then yields the inputs dict alone).
      batch_size: examples per batch.
      image_size: (height, width) after bilinear resizing.
      max_question_length: T; None uses the longest question of the split.
      shuffle: shuffle questions (seeded, reshuffled each epoch).
      seed: the shuffle seed.
      drop_remainder: drop the last partial batch.

    Returns:
      A dataset of ({"image": float32 [B, H, W, 3] in [0, 1], "question":
      int32 [B, T], "question_type": int32 [B] (index in QUESTION_TYPES,
      -1 without a program)}, int32 [B] answer ids).
    """
    validation.check_positive_int("batch_size", batch_size)
    validation.check_positive_int(
        "max_question_length", max_question_length, allow_none=True
    )
    qpath, images = split_paths(manual_dir, split)
    questions = load_questions(qpath)
    if max_question_length is None:
        max_question_length = max(
            len(text_vocab.tokenize(q["question"])) for q in questions
        )
    files = image_files(questions, images, qpath)
    tokens = [
        question_vocab.encode(q["question"], max_question_length)
        for q in questions
    ]
    types = [question_type_id(q) for q in questions]
    labels = (
        answer_ids(questions, answers, qpath) if answers is not None else None
    )
    image_size = images_lib.check_image_size(image_size)

    def load(example):
        image = images_lib.load_image(example["file"], image_size)
        inputs = {
            "image": image,
            "question": example["question"],
            "question_type": example["question_type"],
        }
        if labels is None:
            return inputs
        return inputs, example["answer"]

    slices = {
        "file": files,
        "question": np.array(tokens, np.int32),
        "question_type": np.array(types, np.int32),
    }
    if labels is not None:
        slices["answer"] = np.array(labels, np.int32)
    ds = tf.data.Dataset.from_tensor_slices(slices)
    return sources.batched(
        ds, load, batch_size, shuffle, seed, drop_remainder, len(files)
    )


def per_type_accuracy(
    predictions, answers, question_types
) -> Dict[str, float]:
    """Accuracy per CLEVR question type, plus "overall".

    Args:
      predictions: predicted answer ids [N] (or logits [N, A]).
      answers: true answer ids [N].
      question_types: type ids [N] (indices in `QUESTION_TYPES`), as the
        dataset yields them.

    Returns:
      {type name: accuracy} for the types present, and "overall".
    """
    predictions = np.asarray(predictions)
    if predictions.ndim == 2:
        predictions = predictions.argmax(-1)
    answers = np.asarray(answers)
    question_types = np.asarray(question_types)
    if not predictions.shape == answers.shape == question_types.shape:
        raise ValueError(
            f"per_type_accuracy needs [N] predictions, answers "
            f"and question_types, got shapes "
            f"{predictions.shape}, {answers.shape} and "
            f"{question_types.shape}."
        )
    if answers.size == 0:
        raise ValueError("per_type_accuracy got no examples.")
    correct = predictions == answers
    out = {}
    for t, name in enumerate(QUESTION_TYPES):
        mask = question_types == t
        if mask.any():
            out[name] = float(correct[mask].mean())
    out["overall"] = float(correct.mean())
    return out


def main(argv: Sequence[str]) -> None:
    import argparse  # pylint: disable=g-import-not-at-top

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--manual_dir", required=True)
    parser.add_argument("--vocab_dir", required=True)
    parser.add_argument("--batch_size", type=int, default=64)
    args = parser.parse_args(argv)
    train = load_questions(split_paths(args.manual_dir, "train")[0])
    qvocab = vocabulary.Vocabulary.from_texts(q["question"] for q in train)
    answers = build_answer_vocab(train)
    os.makedirs(args.vocab_dir, exist_ok=True)
    qvocab.save(os.path.join(args.vocab_dir, "question_vocab.json"))
    with open(
        os.path.join(args.vocab_dir, "answer_vocab.json"),
        "w",
        encoding="utf-8",
    ) as f:
        json.dump({"answers": answers}, f, indent=0)
    ds = clevr_dataset(
        args.manual_dir, "val", qvocab, answers, args.batch_size
    )
    print(
        throughput.report(
            *throughput.time_one_pass(ds, "question"), "val examples"
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
