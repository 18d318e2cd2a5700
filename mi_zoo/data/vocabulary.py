"""Word- and character-level vocabularies for language modelling.

A `Vocabulary` maps tokens (words, or single characters) to contiguous ids.
It always holds an unknown token, `<unk>` by default, that every
out-of-vocabulary token maps to; WikiText and the Penn Treebank already
contain `<unk>` in their text, and it is then not duplicated. It is built from
the training split only (`Vocabulary.build`), optionally dropping rare tokens
(`min_count`) or keeping only the most frequent ones (`max_size`), and saved
beside a checkpoint as JSON so that evaluation reads the very same ids:

    from mi_zoo.data import text_corpora, vocabulary
    corpus = text_corpora.load_corpus("ptb", "/data/ptb", "word")
    vocab = vocabulary.Vocabulary.build(corpus.train)
    vocab.save(os.path.join(checkpoint_dir, vocabulary.FILENAME))
    ...
    saved = vocabulary.Vocabulary.load(
        os.path.join(checkpoint_dir, vocabulary.FILENAME))
    saved.check_matches(vocab, "the checkpoint in " + checkpoint_dir)

The `fingerprint` is a SHA-256 hash of the unknown token and the ordered
token list: two vocabularies give the same ids to every token exactly when
their fingerprints agree.

References:
  Mikolov et al., "Recurrent neural network based language model",
  Interspeech 2010 (the word-level setup with `<unk>`, PTB).
  Karpathy, char-rnn, https://github.com/karpathy/char-rnn (char level).
"""

import collections
import hashlib
import json
import os
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np
import tensorflow as tf

from mi_zoo.layers import _validation

UNK = "<unk>"
EOS = "<eos>"
FILENAME = "vocabulary.json"
FORMAT = "mi_zoo.vocabulary"
FORMAT_VERSION = 1
ORDERS = ("frequency", "sorted")


def _fingerprint(tokens: Sequence[str], unk: str) -> str:
    payload = json.dumps({"unk": unk, "tokens": list(tokens)},
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


class Vocabulary:
    """An ordered token list with an unknown token; id i is `tokens[i]`.

    Args:
      tokens: the tokens in id order, without duplicates; `unk` is added in
        front (id 0) when absent.
      unk: the unknown token that out-of-vocabulary tokens map to.

    Raises:
      ValueError: on duplicate, empty or non-string tokens.
    """

    def __init__(self, tokens: Iterable[str], unk: str = UNK):
        if not isinstance(unk, str) or not unk:
            raise ValueError(f"`unk` must be a non-empty string, got "
                             f"unk={unk!r}.")
        tokens = list(tokens)
        if unk not in tokens:
            tokens.insert(0, unk)
        index: Dict[str, int] = {}
        for i, token in enumerate(tokens):
            if not isinstance(token, str) or not token:
                raise ValueError(f"Vocabulary tokens must be non-empty "
                                 f"strings, got {token!r} at id {i}.")
            if token in index:
                raise ValueError(f"Vocabulary token {token!r} appears twice, "
                                 f"at ids {index[token]} and {i}.")
            index[token] = i
        self._tokens = tokens
        self._index = index
        self._unk = unk
        self._fingerprint = _fingerprint(tokens, unk)

    @classmethod
    def build(cls, tokens: Iterable[str], *, min_count: int = 1,
              max_size: Optional[int] = None, unk: str = UNK,
              order: str = "frequency") -> "Vocabulary":
        """Builds a vocabulary from a token stream (the training split).

        Args:
          tokens: the training tokens (words, or the characters of a string).
          min_count: tokens seen fewer times are left out (map to `unk`).
          max_size: at most this many entries, `unk` included; the most
            frequent tokens are kept. None: no limit.
          unk: the unknown token.
          order: "frequency" (most frequent first, ties in first-seen order)
            or "sorted" (by code point, as char-rnn/nanoGPT do for
            characters). `unk` comes first in either order unless it occurs
            in the text, in which case it takes its place among the tokens.

        Returns:
          The `Vocabulary`.
        """
        _validation.check_positive_int("min_count", min_count)
        _validation.check_positive_int("max_size", max_size, allow_none=True)
        _validation.check_choice("order", order, ORDERS)
        counts = collections.Counter(tokens)
        if not counts:
            raise ValueError("Cannot build a vocabulary from no tokens; is "
                             "the training split empty?")
        # Counter keeps first-seen order, and sorted() is stable.
        kept = sorted((t for t, c in counts.items() if c >= min_count),
                      key=lambda t: -counts[t])
        if max_size is not None:
            if max_size < 2:
                raise ValueError(f"`max_size` must leave room for a token "
                                 f"besides {unk!r}, got max_size={max_size}.")
            if unk in kept[:max_size]:
                kept = kept[:max_size]
            else:  # `unk` goes in front, taking one entry.
                kept = [t for t in kept if t != unk][:max_size - 1]
        if order == "sorted":
            kept = sorted(kept)
        return cls(kept, unk=unk)

    @property
    def tokens(self) -> List[str]:
        """The tokens in id order (a copy)."""
        return list(self._tokens)

    @property
    def unk(self) -> str:
        return self._unk

    @property
    def unk_id(self) -> int:
        return self._index[self._unk]

    @property
    def fingerprint(self) -> str:
        """16 hex digits of SHA-256 over `unk` and the ordered tokens."""
        return self._fingerprint

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token) -> bool:
        return token in self._index

    def __eq__(self, other) -> bool:
        return (isinstance(other, Vocabulary)
                and other._unk == self._unk and other._tokens == self._tokens)

    def __hash__(self):
        return hash(self._fingerprint)

    def __repr__(self) -> str:
        return (f"Vocabulary(size={len(self)}, unk={self._unk!r}, "
                f"fingerprint={self._fingerprint!r})")

    def token_to_id(self, token: str) -> int:
        """The id of `token`, or `unk_id` when it is not in the vocabulary."""
        return self._index.get(token, self.unk_id)

    def id_to_token(self, token_id: int) -> str:
        """The token of an id; raises IndexError when out of range."""
        token_id = int(token_id)
        if not 0 <= token_id < len(self._tokens):
            raise IndexError(f"Token id {token_id} is out of range for a "
                             f"vocabulary of size {len(self)}.")
        return self._tokens[token_id]

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Maps tokens (a list, or a string for characters) to int32 ids."""
        get, unk_id = self._index.get, self.unk_id
        return np.fromiter((get(t, unk_id) for t in tokens), dtype=np.int32)

    def decode(self, ids: Iterable[int]) -> List[str]:
        """Maps ids back to tokens (join them with "" or " " yourself)."""
        return [self.id_to_token(i) for i in np.asarray(ids).reshape(-1)]

    def unk_rate(self, tokens: Sequence[str]) -> float:
        """The fraction of `tokens` that are not in the vocabulary."""
        if not tokens:
            return 0.0
        return sum(t not in self._index for t in tokens) / len(tokens)

    def check_matches(self, other: "Vocabulary", what: str = "checkpoint"):
        """Raises unless `other` gives every token the same id.

        Args:
          other: the vocabulary to compare with (built from the data now).
          what: names where `self` comes from in the message, e.g.
            "the vocabulary saved with checkpoint /ckpt/run1".

        Raises:
          ValueError: naming both fingerprints and sizes and the first id
            whose token differs.
        """
        if self == other:
            return
        first = next((i for i, (a, b) in enumerate(zip(self._tokens,
                                                       other._tokens))
                      if a != b), min(len(self), len(other)))
        mine = self._tokens[first] if first < len(self) else None
        theirs = other._tokens[first] if first < len(other) else None
        unk_note = ("" if self._unk == other._unk else
                    f"; unknown tokens {self._unk!r} vs {other._unk!r}")
        raise ValueError(
            f"Vocabulary mismatch with {what}: {what} has size {len(self)} "
            f"and fingerprint {self.fingerprint}, the current vocabulary has "
            f"size {len(other)} and fingerprint {other.fingerprint}; first "
            f"difference at id {first} ({mine!r} vs {theirs!r}){unk_note}. "
            f"Rebuild the data with the same corpus, level, min_count and "
            f"max_size, or load the saved vocabulary instead of building "
            f"one.")

    def to_json(self) -> Dict:
        return {"format": FORMAT, "version": FORMAT_VERSION,
                "unk": self._unk, "size": len(self),
                "fingerprint": self._fingerprint, "tokens": self.tokens}

    def save(self, path: str) -> str:
        """Writes the vocabulary as JSON to `path` (a file; see `FILENAME`).

        Args:
          path: the JSON file to write; its folder is created if needed.

        Returns:
          `path`.
        """
        folder = os.path.dirname(path)
        if folder:
            tf.io.gfile.makedirs(folder)
        tmp = path + ".tmp"
        with tf.io.gfile.GFile(tmp, "w") as f:
            f.write(json.dumps(self.to_json(), ensure_ascii=False, indent=0))
        tf.io.gfile.rename(tmp, path, overwrite=True)
        return path

    @classmethod
    def load(cls, path: str) -> "Vocabulary":
        """Reads a vocabulary written by `save`.

        Args:
          path: the JSON file.

        Returns:
          The `Vocabulary`.

        Raises:
          FileNotFoundError: when `path` does not exist.
          ValueError: naming `path` when it is not valid vocabulary JSON or
            its tokens do not hash to the fingerprint stored with them.
        """
        if not tf.io.gfile.exists(path):
            raise FileNotFoundError(f"Vocabulary file {path} does not exist.")
        with tf.io.gfile.GFile(path, "rb") as f:
            raw = f.read()
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"Vocabulary file {path} is not valid JSON "
                             f"(truncated or corrupted?): {e}") from e
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"Vocabulary file {path} is not a mi_zoo "
                             f"vocabulary (expected \"format\": "
                             f"\"{FORMAT}\").")
        missing = [k for k in ("version", "unk", "tokens", "fingerprint")
                   if k not in data]
        if missing:
            raise ValueError(f"Vocabulary file {path} lacks the keys "
                             f"{missing}.")
        if data["version"] != FORMAT_VERSION:
            raise ValueError(f"Vocabulary file {path} has format version "
                             f"{data['version']!r}; this code reads version "
                             f"{FORMAT_VERSION}.")
        if not isinstance(data["tokens"], list):
            raise ValueError(f"Vocabulary file {path}: \"tokens\" must be a "
                             f"list.")
        try:
            vocab = cls(data["tokens"], unk=data["unk"])
        except ValueError as e:
            raise ValueError(f"Vocabulary file {path}: {e}") from e
        if (vocab.fingerprint != data["fingerprint"]
                or len(vocab) != len(data["tokens"])):
            raise ValueError(
                f"Vocabulary file {path} is corrupted: its {len(vocab)} "
                f"tokens hash to fingerprint {vocab.fingerprint} but the "
                f"file records {data['fingerprint']}.")
        return vocab
