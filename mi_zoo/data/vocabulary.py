"""The zoo's one vocabulary class: language modelling, questions, captions.

A `Vocabulary` maps tokens (words, or single characters) to contiguous ids.
It always holds an unknown token, `<unk>` by default, that every
out-of-vocabulary token maps to; WikiText and the Penn Treebank already
contain `<unk>` in their text, and it is then not duplicated. It is built from
the training split only (`Vocabulary.build`), optionally dropping rare tokens
(`min_count`) or keeping only the most frequent ones (`max_size`), and saved
beside a checkpoint as JSON so that evaluation reads the very same ids:

    from mi_zoo.data import vocabulary
    from mi_zoo.data.text import corpora
    corpus = corpora.load_corpus("ptb", "/data/ptb", "word")
    vocab = vocabulary.Vocabulary.build(corpus.train)
    vocab.save(os.path.join(checkpoint_dir, vocabulary.FILENAME))
    ...
    saved = vocabulary.Vocabulary.load(
        os.path.join(checkpoint_dir, vocabulary.FILENAME))
    saved.check_matches(vocab, "the checkpoint in " + checkpoint_dir)

The `fingerprint` is a SHA-256 hash of the unknown token and the ordered
token list: two vocabularies give the same ids to every token exactly when
their fingerprints agree.

Questions (VQA v2, CLEVR) and captions (Flickr30k) use a vocabulary with a
padding token and the word tokenizer of `text_vocab.tokenize`
(`Vocabulary.from_texts`): `<pad>` is id 0, `<unk>` id 1, the other words
follow by decreasing count, ties alphabetically, and `encode` takes the raw
sentence and pads it to a fixed length:

    vocab = vocabulary.Vocabulary.from_texts(train_questions)
    vocab.encode("What color is the cube?", max_length=14)
    # int32 [14]: the ids of "what color is the cube", then 0s

Files are JSON with a format version: version 1 (language-model
vocabularies without padding) and the `{"words": [...]}` files of the former
`text_vocab.TextVocab` still load; `save` writes version 2.

References:
  Mikolov et al., "Recurrent neural network based language model",
  Interspeech 2010 (the word-level setup with `<unk>`, PTB).
  Karpathy, char-rnn, https://github.com/karpathy/char-rnn (char level).
  Anderson et al., "Bottom-Up and Top-Down Attention for Image Captioning
  and Visual Question Answering", CVPR 2018 (questions: lowercase, no
  punctuation, padded to 14 tokens).
"""

import collections
import hashlib
import json
import os
from typing import Dict
from typing import Iterable
from typing import List
from typing import Optional
from typing import Sequence

import numpy as np
import tensorflow as tf

from mi_zoo.core import validation
from mi_zoo.data import text_vocab

UNK = "<unk>"
PAD = "<pad>"
EOS = "<eos>"
FILENAME = "vocabulary.json"
FORMAT = "mi_zoo.vocabulary"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
ORDERS = ("frequency", "frequency_alphabetical", "sorted")
TOKENIZERS = (None, "words")


def _fingerprint(
    tokens: Sequence[str],
    unk: str,
    pad: Optional[str] = None,
    tokenizer: Optional[str] = None,
) -> str:
    payload = {"unk": unk, "tokens": list(tokens)}
    # Only set when used, so vocabularies without them keep their version 1
    # fingerprints.
    if pad is not None:
        payload["pad"] = pad
    if tokenizer is not None:
        payload["tokenizer"] = tokenizer
    payload = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


class Vocabulary:
    """An ordered token list with an unknown token; id i is `tokens[i]`.

    Args:
      tokens: the tokens in id order, without duplicates; `unk` is added in
        front (id 0, or id 1 after `pad`) when absent.
      unk: the unknown token that out-of-vocabulary tokens map to.
      pad: None, or the padding token, always id 0 (added when absent);
        `encode(..., max_length)` pads with it.
      tokenizer: None (`encode` takes tokens; a string is its characters) or
        "words" (`encode` also takes a sentence and splits it with
        `text_vocab.tokenize`).

    Raises:
      ValueError: on duplicate, empty or non-string tokens, or a `pad` that
        is not at id 0.

    Example:

        vocab = Vocabulary(["cube", "the"], pad="<pad>", tokenizer="words")
        vocab.encode("The red cube", max_length=4)  # [3, 1, 2, 0]
    """

    def __init__(
        self,
        tokens: Iterable[str],
        unk: str = UNK,
        *,
        pad: Optional[str] = None,
        tokenizer: Optional[str] = None,
    ):
        if not isinstance(unk, str) or not unk:
            raise ValueError(
                f"`unk` must be a non-empty string, got unk={unk!r}."
            )
        if pad is not None and (
            not isinstance(pad, str) or not pad or pad == unk
        ):
            raise ValueError(
                f"`pad` must be None or a non-empty string "
                f"other than unk={unk!r}, got pad={pad!r}."
            )
        if tokenizer not in TOKENIZERS:
            raise ValueError(
                f"`tokenizer` must be one of {TOKENIZERS}, got "
                f"tokenizer={tokenizer!r}."
            )
        tokens = list(tokens)
        if pad is not None:
            if pad not in tokens:
                tokens.insert(0, pad)
            elif tokens[0] != pad:
                raise ValueError(
                    f"The padding token {pad!r} must be id 0, "
                    f"got it at id {tokens.index(pad)}."
                )
        if unk not in tokens:
            tokens.insert(0 if pad is None else 1, unk)
        index: Dict[str, int] = {}
        for i, token in enumerate(tokens):
            if not isinstance(token, str) or not token:
                raise ValueError(
                    f"Vocabulary tokens must be non-empty "
                    f"strings, got {token!r} at id {i}."
                )
            if token in index:
                raise ValueError(
                    f"Vocabulary token {token!r} appears twice, "
                    f"at ids {index[token]} and {i}."
                )
            index[token] = i
        self._tokens = tokens
        self._index = index
        self._unk = unk
        self._pad = pad
        self._tokenizer = tokenizer
        self._fingerprint = _fingerprint(tokens, unk, pad, tokenizer)

    @classmethod
    def build(
        cls,
        tokens: Iterable[str],
        *,
        min_count: int = 1,
        max_size: Optional[int] = None,
        unk: str = UNK,
        order: str = "frequency",
        pad: Optional[str] = None,
        tokenizer: Optional[str] = None,
    ) -> "Vocabulary":
        """Builds a vocabulary from a token stream (the training split).

        Args:
          tokens: the training tokens (words, or the characters of a string).
          min_count: tokens seen fewer times are left out (map to `unk`).
          max_size: at most this many entries, `unk` and `pad` included; the
            most frequent tokens are kept. None: no limit.
          unk: the unknown token.
          order: "frequency" (most frequent first, ties in first-seen order),
            "frequency_alphabetical" (ties alphabetically, so the order does
            not depend on the order of the text) or "sorted" (by code point,
            as char-rnn/nanoGPT do for characters). `unk` comes first (after
            `pad`) in any order unless it occurs in the text, in which case
            it takes its place among the tokens.
          pad: None, or the padding token (id 0).
          tokenizer: see the class docstring.

        Returns:
          The `Vocabulary`.
        """
        validation.check_positive_int("min_count", min_count)
        validation.check_positive_int("max_size", max_size, allow_none=True)
        validation.check_choice("order", order, ORDERS)
        counts = collections.Counter(tokens)
        if not counts:
            raise ValueError(
                "Cannot build a vocabulary from no tokens; is "
                "the training split empty?"
            )
        # Counter keeps first-seen order, and sorted() is stable.
        if order == "frequency_alphabetical":
            key = lambda t: (-counts[t], t)  # pylint: disable=unnecessary-lambda-assignment
        else:
            key = lambda t: -counts[t]  # pylint: disable=unnecessary-lambda-assignment
        kept = sorted(
            (t for t, c in counts.items() if c >= min_count and t != pad),
            key=key,
        )
        if max_size is not None:
            room = max_size - (pad is not None)
            if room < 2:
                specials = (unk,) if pad is None else (pad, unk)
                raise ValueError(
                    f"`max_size` must leave room for a token "
                    f"besides {' and '.join(map(repr, specials))}"
                    f", got max_size={max_size}."
                )
            if unk in kept[:room]:
                kept = kept[:room]
            else:  # `unk` goes in front, taking one entry.
                kept = [t for t in kept if t != unk][: room - 1]
        if order == "sorted":
            kept = sorted(kept)
        return cls(kept, unk=unk, pad=pad, tokenizer=tokenizer)

    @classmethod
    def from_texts(
        cls,
        texts: Iterable[str],
        *,
        min_count: int = 1,
        max_size: Optional[int] = None,
    ) -> "Vocabulary":
        """A question/caption vocabulary of (training) sentences.

        Words come from `text_vocab.tokenize`; `<pad>` is id 0 and `<unk>`
        id 1, then the words by decreasing count, ties alphabetically.

        Args:
          texts: the sentences.
          min_count: words seen fewer times map to `<unk>`.
          max_size: at most this many entries, `<pad>` and `<unk>` included.

        Returns:
          The `Vocabulary` (pad="<pad>", tokenizer="words").

        Example:

            vocab = Vocabulary.from_texts(["the cube", "a cube"])
            vocab.tokens  # ["<pad>", "<unk>", "cube", "a", "the"]
        """
        words, n = [], 0
        for text in texts:
            words.extend(text_vocab.tokenize(text))
            n += 1
        if n == 0:
            raise ValueError("Vocabulary.from_texts got no texts.")
        if not words:
            raise ValueError(
                f"Vocabulary.from_texts got {n} texts without a word."
            )
        return cls.build(
            words,
            min_count=min_count,
            max_size=max_size,
            order="frequency_alphabetical",
            pad=PAD,
            tokenizer="words",
        )

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
    def pad(self) -> Optional[str]:
        """The padding token (id 0), or None."""
        return self._pad

    @property
    def pad_id(self) -> Optional[int]:
        """0 with a padding token, else None."""
        return None if self._pad is None else 0

    @property
    def tokenizer(self) -> Optional[str]:
        """None or "words" (see the class docstring)."""
        return self._tokenizer

    @property
    def fingerprint(self) -> str:
        """16 hex digits of SHA-256 over `unk` and the ordered tokens."""
        return self._fingerprint

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token) -> bool:
        return token in self._index

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, Vocabulary)
            and other._unk == self._unk
            and other._pad == self._pad
            and other._tokenizer == self._tokenizer
            and other._tokens == self._tokens
        )

    def __hash__(self):
        return hash(self._fingerprint)

    def __repr__(self) -> str:
        return (
            f"Vocabulary(size={len(self)}, unk={self._unk!r}, "
            f"pad={self._pad!r}, tokenizer={self._tokenizer!r}, "
            f"fingerprint={self._fingerprint!r})"
        )

    def token_to_id(self, token: str) -> int:
        """The id of `token`, or `unk_id` when it is not in the vocabulary."""
        return self._index.get(token, self.unk_id)

    def id_to_token(self, token_id: int) -> str:
        """The token of an id; raises IndexError when out of range."""
        token_id = int(token_id)
        if not 0 <= token_id < len(self._tokens):
            raise IndexError(
                f"Token id {token_id} is out of range for a "
                f"vocabulary of size {len(self)}."
            )
        return self._tokens[token_id]

    def encode(self, tokens, max_length: Optional[int] = None) -> np.ndarray:
        """Maps tokens to int32 ids, optionally truncated/padded.

        Args:
          tokens: a list of tokens; a string is a sentence split by
            `text_vocab.tokenize` with tokenizer="words", otherwise its
            characters.
          max_length: None, or the fixed output length: longer inputs are
            truncated, shorter ones padded with `pad_id` (needs `pad`).

        Returns:
          int32 [n] (or [max_length]) ids.
        """
        if isinstance(tokens, str) and self._tokenizer == "words":
            tokens = text_vocab.tokenize(tokens)
        get, unk_id = self._index.get, self.unk_id
        ids = np.fromiter((get(t, unk_id) for t in tokens), dtype=np.int32)
        if max_length is None:
            return ids
        validation.check_positive_int("max_length", max_length)
        if self._pad is None:
            raise ValueError(
                f"encode(..., max_length={max_length}) pads, but "
                f"this vocabulary has no padding token; build "
                f"it with pad={PAD!r}."
            )
        out = np.zeros((max_length,), np.int32)  # pad_id is 0
        out[: min(len(ids), max_length)] = ids[:max_length]
        return out

    def decode(self, ids: Iterable[int]) -> List[str]:
        """Maps ids back to tokens (join them with "" or " " yourself)."""
        return [self.id_to_token(i) for i in np.asarray(ids).reshape(-1)]

    def decode_text(self, ids: Iterable[int], separator: str = " ") -> str:
        """The tokens of `ids` without padding, joined by `separator`."""
        return separator.join(t for t in self.decode(ids) if t != self._pad)

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
        first = next(
            (
                i
                for i, (a, b) in enumerate(zip(self._tokens, other._tokens))
                if a != b
            ),
            min(len(self), len(other)),
        )
        mine = self._tokens[first] if first < len(self) else None
        theirs = other._tokens[first] if first < len(other) else None
        unk_note = (
            ""
            if self._unk == other._unk
            else f"; unknown tokens {self._unk!r} vs {other._unk!r}"
        )
        if self._pad != other._pad:
            unk_note += f"; padding tokens {self._pad!r} vs {other._pad!r}"
        if self._tokenizer != other._tokenizer:
            unk_note += (
                f"; tokenizers {self._tokenizer!r} vs {other._tokenizer!r}"
            )
        raise ValueError(
            f"Vocabulary mismatch with {what}: {what} has size {len(self)} "
            f"and fingerprint {self.fingerprint}, the current vocabulary has "
            f"size {len(other)} and fingerprint {other.fingerprint}; first "
            f"difference at id {first} ({mine!r} vs {theirs!r}){unk_note}. "
            f"Rebuild the data with the same corpus, level, min_count and "
            f"max_size, or load the saved vocabulary instead of building "
            f"one."
        )

    def to_json(self) -> Dict:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "unk": self._unk,
            "pad": self._pad,
            "tokenizer": self._tokenizer,
            "size": len(self),
            "fingerprint": self._fingerprint,
            "tokens": self.tokens,
        }

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
        """Reads a vocabulary written by `save` (format version 1 or 2), or a
        `{"words": ["<pad>", "<unk>", ...]}` file of the former
        `text_vocab.TextVocab` (read as pad="<pad>", tokenizer="words").

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
            raise ValueError(
                f"Vocabulary file {path} is not valid JSON "
                f"(truncated or corrupted?): {e}"
            ) from e
        if isinstance(data, dict) and "words" in data and "format" not in data:
            return cls._from_text_vocab_json(path, data["words"])
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(
                f"Vocabulary file {path} is not a mi_zoo "
                f'vocabulary (expected "format": '
                f'"{FORMAT}").'
            )
        missing = [
            k
            for k in ("version", "unk", "tokens", "fingerprint")
            if k not in data
        ]
        if missing:
            raise ValueError(
                f"Vocabulary file {path} lacks the keys {missing}."
            )
        if data["version"] not in READABLE_VERSIONS:
            raise ValueError(
                f"Vocabulary file {path} has format version "
                f"{data['version']!r}; this code reads versions "
                f"{READABLE_VERSIONS}."
            )
        if not isinstance(data["tokens"], list):
            raise ValueError(
                f'Vocabulary file {path}: "tokens" must be a list.'
            )
        try:
            vocab = cls(
                data["tokens"],
                unk=data["unk"],
                pad=data.get("pad"),
                tokenizer=data.get("tokenizer"),
            )
        except ValueError as e:
            raise ValueError(f"Vocabulary file {path}: {e}") from e
        if vocab.fingerprint != data["fingerprint"] or len(vocab) != len(
            data["tokens"]
        ):
            raise ValueError(
                f"Vocabulary file {path} is corrupted: its {len(vocab)} "
                f"tokens hash to fingerprint {vocab.fingerprint} but the "
                f"file records {data['fingerprint']}."
            )
        return vocab

    @classmethod
    def _from_text_vocab_json(cls, path, words) -> "Vocabulary":
        if (
            not isinstance(words, list)
            or words[:2] != [PAD, UNK]
            or not all(isinstance(w, str) for w in words)
        ):
            raise ValueError(
                f"Vocabulary file {path} (a former TextVocab file) must hold "
                f'{{"words": ["<pad>", "<unk>", ...]}}, got '
                f"words={str(words)[:80]}."
            )
        try:
            return cls(words, pad=PAD, tokenizer="words")
        except ValueError as e:
            raise ValueError(f"Vocabulary file {path}: {e}") from e
