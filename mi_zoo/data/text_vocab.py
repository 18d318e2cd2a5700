"""Word tokenizer for questions (VQA v2, CLEVR) and captions (Flickr30k),
and the JSON reader of the corpus readers.

Tokenisation lowercases, deletes apostrophes ("what's" -> "whats"), turns
every other character that is not a letter or digit into a space and splits
on whitespace. The vocabulary itself is `vocabulary.Vocabulary`
(`Vocabulary.from_texts` uses this tokenizer; this module has no vocabulary
class of its own):

    text_vocab.tokenize("What's on the table?")  # ["whats", "on", "the", "table"]
    vocab = vocabulary.Vocabulary.from_texts(train_questions)
    ids = vocab.encode("What color is the cube?", max_length=14)

Reference: the question preprocessing of Anderson et al., "Bottom-Up and
Top-Down Attention for Image Captioning and Visual Question Answering",
CVPR 2018 (lowercase, strip punctuation, pad to 14 tokens).
"""

import json
import os
import re
from typing import List
from typing import Sequence

_NON_WORD = re.compile(r"[^a-z0-9]+")


def tokenize(text: str) -> List[str]:
    """Splits a sentence into lowercase words without punctuation.

    Args:
      text: a question or caption.

    Returns:
      The list of words, e.g. ["whats", "on", "the", "table"] for
      "What's on the table?".
    """
    if not isinstance(text, str):
        raise ValueError(f"`text` must be a string, got text={text!r}.")
    text = text.lower().replace("'", "").replace("\u2019", "")
    return _NON_WORD.sub(" ", text).split()


def read_json(path: str, what: str):
    """Reads a JSON file; errors name the file and what is wrong.

    Args:
      path: the file.
      what: what the file should hold, for error messages.

    Returns:
      The decoded JSON value.

    Raises:
      FileNotFoundError: when the file does not exist.
      ValueError: when it is empty or not valid (e.g. truncated) JSON.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} file {path!r} does not exist.")
    if os.path.getsize(path) == 0:
        raise ValueError(f"{what} file {path!r} is empty.")
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(
                f"{what} file {path!r} is not valid JSON (truncated?): {e}"
            ) from None


def read_json_records(
    path: str, what: str, key: str, required: Sequence[str]
) -> List[dict]:
    """Reads the non-empty list of records under `key` of a JSON object,
    each a dict holding the keys `required`; errors name the file.

    Args:
      path: the file.
      what: what the file should hold, for error messages.
      key: the key of the list, e.g. "questions".
      required: the keys every record must have.

    Returns:
      The list of records.

    Raises:
      FileNotFoundError, ValueError: as `read_json`; ValueError also when
        the file has no list under `key`, an empty one, or a record that is
        not a dict or lacks a required key (the message gives its index).
    """
    data = read_json(path, what)
    records = data.get(key) if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise ValueError(f'{what} file {path!r} has no "{key}" list.')
    if not records:
        raise ValueError(f"{what} file {path!r} has no {key}.")
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise ValueError(
                f"{what} file {path!r}: entry {index} is not an "
                f"object, got {record!r}."
            )
        missing = [name for name in required if name not in record]
        if missing:
            raise ValueError(
                f"{what} file {path!r}: entry {index} lacks "
                f"{', '.join(missing)}, got {record!r}."
            )
    return records
