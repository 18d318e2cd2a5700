"""Readers for language-modelling corpora on disk: train/valid/test tokens.

Nothing is ever downloaded. `load_corpus(name, path, level)` reads:

  * "tiny_shakespeare": Karpathy's char-rnn `input.txt` (1,115,394
    characters; `path` is the file or its folder), or, when `path` is a
    TFDS data_dir in which `tiny_shakespeare` is already prepared, the TFDS
    splits. The local file is split exactly as TFDS's builder does: train =
    text[:int(0.9·n)], then the rest is halved, valid = rest[:int(0.5·len)],
    test = the remainder, i.e. 1,003,854 / 55,770 / 55,770 characters, so
    results are comparable with `tfds.load("tiny_shakespeare")`.
  * "wikitext2", "wikitext103": a folder with wiki.train.tokens,
    wiki.valid.tokens, wiki.test.tokens (word level, already tokenised, rare
    words replaced by `<unk>`, " @-@ " style tokens kept as they are); at char
    level the raw variant's wiki.train.raw, wiki.valid.raw, wiki.test.raw
    (a separate download, wikitext-*-raw-v1).
  * "ptb": a folder with Mikolov's ptb.train.txt, ptb.valid.txt,
    ptb.test.txt (word level with `<unk>`).
  * "text": any plain text file, split by fraction of its characters
    (default 90/5/5, the tiny Shakespeare/TFDS rule above).

Word level splits every line on whitespace and, as is standard for PTB and
WikiText (Mikolov et al. 2010; the PyTorch word_language_model example, which
gives WikiText-2 2,088,628 training tokens), ends every line, blank lines
included, with `<eos>`. Char level keeps every character, newlines included.

Print the split sizes, the vocabulary and the BPTT batch count, and time the
`tf.data` pipeline over one epoch of the training split:

    python3 -m mi_zoo.data.text.corpora --corpus=tiny_shakespeare \
        --path=/data/tiny_shakespeare/input.txt --level=char \
        --batch_size=64 --sequence_length=128

References:
  Karpathy, char-rnn, https://github.com/karpathy/char-rnn (tiny
  Shakespeare).
  Merity et al., "Pointer Sentinel Mixture Models", arXiv:1609.07843, 2016
  (WikiText-2 and WikiText-103).
  Marcus et al., "Building a large annotated corpus of English: the Penn
  Treebank", Computational Linguistics, 1993; Mikolov et al., "Recurrent
  neural network based language model", Interspeech 2010 (its LM version).
"""

import dataclasses
import os
from typing import Callable
from typing import Dict
from typing import List
from typing import Optional
from typing import Sequence
from typing import Tuple

from mi_zoo.core import validation
from mi_zoo.data import vocabulary as vocabulary_lib

SPLITS = ("train", "valid", "test")
LEVELS = ("char", "word")
EOS = vocabulary_lib.EOS
TINY_SHAKESPEARE_FILE = "input.txt"
TFDS_FRACTIONS = (0.9, 0.05, 0.05)
WIKITEXT_FILES = {"word": "wiki.{}.tokens", "char": "wiki.{}.raw"}
PTB_FILES = "ptb.{}.txt"
# TFDS names the middle split "validation".
_TFDS_SPLITS = {"train": "train", "valid": "validation", "test": "test"}


@dataclasses.dataclass
class Corpus:
    """The three splits of a corpus as token lists.

    Attributes:
      name: the registry name ("ptb", ...).
      level: "char" (every token one character) or "word".
      splits: {"train", "valid", "test"} -> list of tokens.
      source: where the text came from (files or TFDS folder).
    """

    name: str
    level: str
    splits: Dict[str, List[str]]
    source: str

    @property
    def train(self) -> List[str]:
        return self.splits["train"]

    @property
    def valid(self) -> List[str]:
        return self.splits["valid"]

    @property
    def test(self) -> List[str]:
        return self.splits["test"]

    def build_vocabulary(
        self,
        min_count: int = 1,
        max_size: Optional[int] = None,
        order: str = "frequency",
    ) -> vocabulary_lib.Vocabulary:
        """`Vocabulary.build` over the training split only."""
        return vocabulary_lib.Vocabulary.build(
            self.train, min_count=min_count, max_size=max_size, order=order
        )

    def sizes(self) -> Dict[str, int]:
        return {split: len(tokens) for split, tokens in self.splits.items()}


def read_text(path: str) -> str:
    """Reads a UTF-8 text file exactly (no newline translation).

    Raises:
      FileNotFoundError: naming `path` when it does not exist.
      ValueError: naming `path` when it is empty or not UTF-8.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Corpus file {path} does not exist.")
    with open(path, "rb") as f:
        raw = f.read()
    if not raw.strip():
        raise ValueError(f"Corpus file {path} is empty.")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"Corpus file {path} is not UTF-8 text: {e}") from e


def split_by_fraction(
    text: str, fractions: Sequence[float] = TFDS_FRACTIONS
) -> Tuple[str, str, str]:
    """Splits a text into train/valid/test by fractions of its characters.

    The rule of TFDS's tiny_shakespeare builder: train = text[:int(f0·n)];
    of the rest r, valid = r[:int(len(r)·f1/(f1 + f2))], test = the remainder.
    For (0.9, 0.05, 0.05) and the 1,115,394-character tiny Shakespeare this
    is 1,003,854 / 55,770 / 55,770.

    Args:
      text: the whole text.
      fractions: three positive fractions summing to 1.

    Returns:
      (train, valid, test) texts.
    """
    fractions = tuple(fractions)
    if (
        len(fractions) != 3
        or any(not 0 < f < 1 for f in fractions)
        or abs(sum(fractions) - 1.0) > 1e-9
    ):
        raise ValueError(
            f"`fractions` must be three numbers in (0, 1) "
            f"summing to 1, got fractions={fractions!r}."
        )
    train_frac, valid_frac, test_frac = fractions
    i = int(len(text) * train_frac)
    train, rest = text[:i], text[i:]
    j = int(len(rest) * (valid_frac / (valid_frac + test_frac)))
    return train, rest[:j], rest[j:]


def tokenize(text: str, level: str, add_eos: bool = True) -> List[str]:
    """Characters, or whitespace-split words with `<eos>` ending each line.

    Lines are split on "\\n" (a final newline does not start a line) and
    each line on any whitespace, so " a  b \\n\\n" gives
    ["a", "b", "<eos>", "<eos>"].
    """
    validation.check_choice("level", level, LEVELS)
    if level == "char":
        return list(text)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    tokens = []
    for line in lines:
        tokens.extend(line.split())
        if add_eos:
            tokens.append(EOS)
    return tokens


def _check_split(tokens, path):
    if not tokens:
        raise ValueError(f"Corpus file {path} holds no tokens.")
    return tokens


def _split_files(directory, pattern, corpus):
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"{corpus}: the corpus folder {directory} does not exist (it "
            f"should hold {', '.join(pattern.format(s) for s in SPLITS)})."
        )
    return {s: os.path.join(directory, pattern.format(s)) for s in SPLITS}


def read_wikitext(
    directory: str,
    level: str = "word",
    add_eos: bool = True,
    name: str = "wikitext",
) -> Corpus:
    """Reads WikiText-2 or WikiText-103 from its token (or raw) files.

    Args:
      directory: the folder with wiki.{train,valid,test}.tokens (word level)
        or wiki.{train,valid,test}.raw (char level).
      level: "word" or "char".
      add_eos: end every line with `<eos>` at word level.
      name: the corpus name to record.

    Returns:
      A `Corpus`.
    """
    validation.check_choice("level", level, LEVELS)
    files = _split_files(directory, WIKITEXT_FILES[level], name)
    splits = {}
    for split, path in files.items():
        if level == "char" and not os.path.isfile(path):
            raise FileNotFoundError(
                f"Corpus file {path} does not exist; char level reads the "
                f"raw WikiText files (wikitext-*-raw-v1), which are a "
                f"separate download from the tokenised wiki.*.tokens."
            )
        text = read_text(path)
        splits[split] = _check_split(tokenize(text, level, add_eos), path)
    return Corpus(name, level, splits, directory)


def read_ptb(
    directory: str, level: str = "word", add_eos: bool = True
) -> Corpus:
    """Reads the Penn Treebank (Mikolov's version) from ptb.*.txt.

    Args:
      directory: the folder with ptb.train.txt, ptb.valid.txt, ptb.test.txt
        (simple-examples/data in Mikolov's archive).
      level: "word" (with `<eos>` ending each sentence) or "char" (the
        characters of the same files; `<unk>` is then five characters).
      add_eos: end every line with `<eos>` at word level.

    Returns:
      A `Corpus`.
    """
    validation.check_choice("level", level, LEVELS)
    files = _split_files(directory, PTB_FILES, "ptb")
    splits = {
        split: _check_split(tokenize(read_text(path), level, add_eos), path)
        for split, path in files.items()
    }
    return Corpus("ptb", level, splits, directory)


def read_text_file(
    path: str,
    level: str = "char",
    fractions: Sequence[float] = TFDS_FRACTIONS,
    add_eos: bool = True,
    name: str = "text",
) -> Corpus:
    """Reads one plain text file and splits it by fraction of characters.

    The characters are split first (`split_by_fraction`), then each part is
    tokenised, so a word may be cut at a split boundary.

    Args:
      path: the text file.
      level: "char" or "word".
      fractions: train/valid/test fractions (default 90/5/5).
      add_eos: end every line with `<eos>` at word level.
      name: the corpus name to record.

    Returns:
      A `Corpus`.
    """
    validation.check_choice("level", level, LEVELS)
    texts = split_by_fraction(read_text(path), fractions)
    splits = {}
    for split, text in zip(SPLITS, texts):
        tokens = tokenize(text, level, add_eos)
        if not tokens:
            raise ValueError(
                f"Corpus file {path}: its {split} split "
                f"(fractions={tuple(fractions)}) holds no "
                f"tokens; the file is too short."
            )
        splits[split] = tokens
    return Corpus(name, level, splits, path)


def _tfds_tiny_shakespeare(data_dir):
    """The TFDS splits' texts when prepared in `data_dir`, else None."""
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

    builder = tfds.builder("tiny_shakespeare", data_dir=data_dir)
    if not builder.is_prepared():
        return None
    texts = {}
    for split, tfds_split in _TFDS_SPLITS.items():
        examples = list(
            builder.as_dataset(split=tfds_split).as_numpy_iterator()
        )
        texts[split] = "".join(e["text"].decode("utf-8") for e in examples)
    return texts, builder.data_dir


def read_tiny_shakespeare(
    path: str, level: str = "char", add_eos: bool = True
) -> Corpus:
    """Reads tiny Shakespeare from input.txt or a prepared TFDS data_dir.

    Args:
      path: the char-rnn input.txt, a folder holding it, or a TFDS data_dir
        in which `tiny_shakespeare` is already prepared (never downloaded).
      level: "char" (the usual) or "word".
      add_eos: end every line with `<eos>` at word level.

    Returns:
      A `Corpus` with TFDS's splits: 1,003,854 / 55,770 / 55,770 characters.

    Raises:
      FileNotFoundError: when `path` is neither, naming what was looked for.
    """
    validation.check_choice("level", level, LEVELS)
    if os.path.isdir(path):
        local = os.path.join(path, TINY_SHAKESPEARE_FILE)
        if os.path.exists(local):
            path = local
        else:
            prepared = _tfds_tiny_shakespeare(path)
            if prepared is None:
                raise FileNotFoundError(
                    f"tiny_shakespeare: {path} holds neither "
                    f"{TINY_SHAKESPEARE_FILE} nor a prepared TFDS "
                    f"tiny_shakespeare (looked for {local} and "
                    f"{os.path.join(path, 'tiny_shakespeare')}); nothing is "
                    f"downloaded: copy char-rnn's input.txt there, or run "
                    f"`tfds build tiny_shakespeare --data_dir={path}` on a "
                    f"machine with internet access."
                )
            texts, source = prepared
            splits = {s: tokenize(t, level, add_eos) for s, t in texts.items()}
            return Corpus("tiny_shakespeare", level, splits, source)
    return read_text_file(
        path, level, TFDS_FRACTIONS, add_eos, name="tiny_shakespeare"
    )


# name -> (reader(path, level), default level)
CORPORA: Dict[str, Tuple[Callable[[str, str], Corpus], str]] = {
    "tiny_shakespeare": (read_tiny_shakespeare, "char"),
    "wikitext2": (lambda p, l: read_wikitext(p, l, name="wikitext2"), "word"),
    "wikitext103": (
        lambda p, l: read_wikitext(p, l, name="wikitext103"),
        "word",
    ),
    "ptb": (read_ptb, "word"),
    "text": (read_text_file, "char"),
}


def load_corpus(name: str, path: str, level: Optional[str] = None) -> Corpus:
    """Reads a registered corpus from disk.

    Args:
      name: one of `CORPORA`: "tiny_shakespeare", "wikitext2",
        "wikitext103", "ptb", "text".
      path: its file or folder (see the module docstring).
      level: "char" or "word"; None: "char" for tiny_shakespeare and text,
        "word" for the others.

    Returns:
      A `Corpus` with "train", "valid" and "test" token lists.
    """
    validation.check_choice("name", name, tuple(CORPORA))
    reader, default_level = CORPORA[name]
    level = default_level if level is None else level
    validation.check_choice("level", level, LEVELS)
    if not path:
        raise ValueError(
            f"`path` must name the {name} file or folder, got path={path!r}."
        )
    return reader(os.path.expanduser(path), level)


def report(argv):
    """Prints corpus statistics and times one epoch of the pipeline (the
    absl main of `main`, reading its flags)."""
    del argv
    import time  # pylint: disable=g-import-not-at-top

    from absl import flags  # pylint: disable=g-import-not-at-top

    from mi_zoo.data.text import (
        lm_dataset,  # pylint: disable=g-import-not-at-top
    )

    f = flags.FLAGS
    corpus = load_corpus(f.corpus, f.path, f.level)
    vocab = corpus.build_vocabulary(f.min_count, f.max_size)
    print(f"{corpus.name} ({corpus.level} level) from {corpus.source}")
    for split, tokens in corpus.splits.items():
        print(
            f"  {split}: {len(tokens):,} tokens, "
            f"unk rate {vocab.unk_rate(tokens):.4f}"
        )
    print(
        f"  vocabulary: {len(vocab):,} entries, fingerprint "
        f"{vocab.fingerprint}"
    )
    ids = vocab.encode(corpus.train)
    steps = lm_dataset.num_batches(len(ids), f.batch_size, f.sequence_length)
    dataset = lm_dataset.lm_dataset(ids, f.batch_size, f.sequence_length)
    start = time.perf_counter()
    count = sum(1 for _ in dataset)
    seconds = time.perf_counter() - start
    tokens = count * f.batch_size * f.sequence_length
    print(
        f"  train: {steps} batches of [{f.batch_size}, "
        f"{f.sequence_length}] per epoch; one epoch in {seconds:.2f} s "
        f"({count / seconds:,.0f} batches/s, {tokens / seconds:,.0f} "
        f"tokens/s)"
    )


def main(argv=None):
    """`python -m mi_zoo.data.text.corpora --path=...`: defines the flags
    (only when run, so that importing this module defines none) and runs
    `report` with absl (`argv`: as sys.argv, None for sys.argv)."""
    from absl import app  # pylint: disable=g-import-not-at-top
    from absl import flags  # pylint: disable=g-import-not-at-top

    flags.DEFINE_enum(
        "corpus", "tiny_shakespeare", list(CORPORA), "Corpus name."
    )
    flags.DEFINE_string("path", None, "The corpus file or folder.")
    flags.DEFINE_enum(
        "level",
        None,
        list(LEVELS),
        "char or word; default: the corpus's usual level.",
    )
    flags.DEFINE_integer("min_count", 1, "Vocabulary min count.")
    flags.DEFINE_integer("max_size", None, "Vocabulary max size.")
    flags.DEFINE_integer("batch_size", 64, "Parallel streams B.")
    flags.DEFINE_integer("sequence_length", 128, "BPTT length T.")
    flags.mark_flag_as_required("path")
    app.run(report, argv=argv)


if __name__ == "__main__":
    main()
