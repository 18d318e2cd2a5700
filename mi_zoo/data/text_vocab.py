"""Word tokenizer and vocabulary for questions (VQA v2, CLEVR) and captions
(Flickr30k).

Tokenisation lowercases, deletes apostrophes ("what's" -> "whats"), turns
every other character that is not a letter or digit into a space and splits
on whitespace. Id 0 is `<pad>`, id 1 is `<unk>`; the other words follow by
decreasing count, ties broken alphabetically, so a vocabulary built from the
same texts is always the same. Build it from the training split only:

    vocab = text_vocab.TextVocab.build(train_questions, min_count=1)
    vocab.save("/tmp/question_vocab.json")
    vocab = text_vocab.TextVocab.load("/tmp/question_vocab.json")
    ids = vocab.encode("What color is the cube?", max_length=14)

Reference: the question preprocessing of Anderson et al., "Bottom-Up and
Top-Down Attention for Image Captioning and Visual Question Answering",
CVPR 2018 (lowercase, strip punctuation, pad to 14 tokens).
"""

import collections
import json
import os
import re
from typing import Dict, Iterable, List, Optional, Sequence

from mi_zoo.layers import _validation

PAD = "<pad>"
UNK = "<unk>"
PAD_ID = 0
UNK_ID = 1
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


class TextVocab:
    """A word vocabulary with `<pad>`=0 and `<unk>`=1.

    Args:
      words: the words after `<pad>` and `<unk>`, in id order (id 2 first).
    """

    def __init__(self, words: Sequence[str]):
        words = list(words)
        if PAD in words or UNK in words:
            raise ValueError("`words` must not contain '<pad>' or '<unk>'; "
                             "they are added as ids 0 and 1.")
        if len(set(words)) != len(words):
            raise ValueError("`words` contains duplicates.")
        self.itos: List[str] = [PAD, UNK] + words
        self.stoi: Dict[str, int] = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def build(cls, texts: Iterable[str], min_count: int = 1,
              max_size: Optional[int] = None) -> "TextVocab":
        """Builds a vocabulary from (training) texts.

        Args:
          texts: sentences, tokenised with `tokenize`.
          min_count: words seen fewer times map to `<unk>`.
          max_size: keep at most this many words (besides pad and unk).

        Returns:
          The vocabulary.
        """
        _validation.check_positive_int("min_count", min_count)
        _validation.check_positive_int("max_size", max_size, allow_none=True)
        counts = collections.Counter()
        n = 0
        for text in texts:
            counts.update(tokenize(text))
            n += 1
        if n == 0:
            raise ValueError("TextVocab.build got no texts.")
        words = sorted((w for w, c in counts.items() if c >= min_count),
                       key=lambda w: (-counts[w], w))
        if max_size is not None:
            words = words[:max_size]
        return cls(words)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str, max_length: Optional[int] = None) -> List[int]:
        """Maps a sentence to ids; truncates/pads with 0 to `max_length`.

        Args:
          text: the sentence.
          max_length: the fixed output length, or None for no padding.

        Returns:
          The list of ids.
        """
        ids = [self.stoi.get(w, UNK_ID) for w in tokenize(text)]
        if max_length is not None:
            _validation.check_positive_int("max_length", max_length)
            ids = ids[:max_length] + [PAD_ID] * (max_length - len(ids))
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """Maps ids back to words, dropping padding.

        Args:
          ids: token ids.

        Returns:
          The words joined by spaces.
        """
        return " ".join(self.itos[int(i)] for i in ids if int(i) != PAD_ID)

    def save(self, path: str) -> None:
        """Writes the vocabulary as JSON {"words": [...]} (pad/unk included).

        Args:
          path: the output file.
        """
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"words": self.itos}, f, indent=0)

    @classmethod
    def load(cls, path: str) -> "TextVocab":
        """Reads a vocabulary written by `save`.

        Args:
          path: the JSON file.

        Returns:
          The vocabulary.
        """
        data = read_json(path, "vocabulary")
        words = data.get("words") if isinstance(data, dict) else None
        if (not isinstance(words, list) or words[:2] != [PAD, UNK]
                or not all(isinstance(w, str) for w in words)):
            raise ValueError(
                f"vocabulary file {path!r} must hold {{\"words\": [\"<pad>\", "
                f"\"<unk>\", ...]}}.")
        return cls(words[2:])
