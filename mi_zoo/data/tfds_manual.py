"""What the TFDS builders of the real corpora share.

`vqa_v2.builder.VqaV2`, `clevr.builder.ClevrV1` and
`flickr30k.builder.Flickr30k` read files you already have
(`dl_manager.manual_dir`) through the zoo's readers (`vqa_v2`, `clevr`,
`flickr30k`); nothing is downloaded. They derive from `ManualDirBuilder`,
which:

* turns TFDS's bare `AssertionError` for a missing or empty manual directory
  into a `FileNotFoundError` that names the directory and repeats the
  builder's `MANUAL_DOWNLOAD_INSTRUCTIONS`;
* stores word vocabularies inside the build: question/caption tokens are a
  `Sequence(ClassLabel())` whose names are the `vocabulary.Vocabulary`
  tokens (`<pad>`, `<unk>`, words), set when the train split is read and
  saved by TFDS beside the records (`<feature>.labels.txt`), so
  `word_vocabulary(builder, key)` gives back the exact vocabulary of the
  build.

Build any of them with a manual directory and a data directory, e.g.:

    import tensorflow_datasets as tfds
    from mi_zoo.data.clevr import builder as clevr_v1_builder
    builder = clevr_v1_builder.ClevrV1(data_dir="/data/tfds")
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        manual_dir="/data/clevr"))
    ds = builder.as_dataset(split="validation")

Reference: TFDS, "Manual download" (https://www.tensorflow.org/datasets/
add_dataset#manual_download_and_extraction).
"""

import os
import sys
from typing import Sequence

import tensorflow_datasets as tfds

from mi_zoo.data import vocabulary


class ManualDirBuilder(
    tfds.core.GeneratorBasedBuilder, skip_registration=True
):
    """Base of the manual-directory builders (not registered itself)."""

    @tfds.core.utils.classproperty
    @classmethod
    def code_path(cls):
        """The subclass's file. TFDS's own lookup needs `importlib_resources`,
        which this environment lacks; the path only locates a (absent)
        checksums file."""
        return tfds.core.Path(
            os.path.abspath(sys.modules[cls.__module__].__file__)
        )

    def check_prepared(self, title: str, data_dir) -> None:
        """Raises unless this build is in `data_dir`.

        Args:
          title: the corpus, e.g. "VQA v2", for the message.
          data_dir: the data directory the caller was given.

        Raises:
          FileNotFoundError: naming `data_dir`, the folder looked in and
            the command that builds it.
        """
        if not self.is_prepared():
            raise FileNotFoundError(
                f"No {title} build in data_dir={data_dir!r} (looked in "
                f"{self.data_dir!r}); build it with {type(self).__name__}("
                f"data_dir={data_dir!r}).download_and_prepare("
                f"download_config=tfds.download.DownloadConfig("
                f"manual_dir=...))."
            )

    def _manual_dir(self, dl_manager) -> str:
        """`dl_manager.manual_dir` as a string; a clear error when missing.

        Raises:
          FileNotFoundError: naming the directory and what to put there.
        """
        try:
            return os.fspath(dl_manager.manual_dir)
        except AssertionError as e:
            raise FileNotFoundError(
                f"Building {self.name!r} needs the original files in its "
                f"manual directory (pass tfds.download.DownloadConfig("
                f"manual_dir=...) to download_and_prepare): {e}"
            ) from None

    def _split_files(self, dl_manager, locate, splits) -> dict:
        """{TFDS split: locate(manual dir, name)} for each (TFDS split,
        the corpus's split name) of `splits`; raises as `_manual_dir`."""
        manual_dir = self._manual_dir(dl_manager)
        return {
            split: locate(manual_dir, name) for split, name in splits.items()
        }


def word_tokens_feature() -> tfds.features.Sequence:
    """The feature of a tokenised question or caption (vocabulary ids)."""
    return tfds.features.Sequence(tfds.features.ClassLabel())


def set_word_vocabulary(
    feature: tfds.features.Sequence, vocab: vocabulary.Vocabulary
) -> None:
    """Stores `vocab` as the names of a `word_tokens_feature`."""
    if vocab.pad != vocabulary.PAD or vocab.tokenizer != "words":
        raise ValueError(
            f"A word-token feature stores a vocabulary with "
            f"pad={vocabulary.PAD!r} and tokenizer='words' "
            f"(Vocabulary.from_texts), got {vocab!r}."
        )
    feature.feature.names = vocab.tokens


def word_vocabulary(
    builder: tfds.core.DatasetBuilder, key: str
) -> vocabulary.Vocabulary:
    """The question/caption vocabulary stored in a prepared build.

    Args:
      builder: a prepared builder (e.g. `ClevrV1(data_dir=...)`).
      key: the token feature, e.g. "question_tokens", or a path into nested
        features, e.g. "questions/question_tokens".

    Returns:
      The `vocabulary.Vocabulary` whose ids the records hold.
    """
    feature = builder.info.features
    for part in key.split("/"):
        feature = feature[part]
    names: Sequence[str] = feature.feature.names
    if not names:
        raise ValueError(
            f"{builder.name!r} in {builder.data_dir!r} has no "
            f"vocabulary for {key!r}; is it prepared "
            f"(builder.download_and_prepare)?"
        )
    return vocabulary.Vocabulary(names, pad=vocabulary.PAD, tokenizer="words")
