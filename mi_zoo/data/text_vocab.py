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
