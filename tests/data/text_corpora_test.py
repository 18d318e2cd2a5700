"""Tests of the LM corpus readers on tiny fixtures in the real formats."""

import importlib.resources
import os
import shutil
import sys
import tempfile
import time
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized

from mi_zoo.data.text import corpora as text_corpora
from mi_zoo.data.text import lm_dataset

# The real char-rnn file, shared beside the repository; tests only.
REAL_TINY_SHAKESPEARE = os.path.join(
    os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ),
    "..",
    "shared",
    "data",
    "tiny_shakespeare",
    "input.txt",
)

WIKI = {
    "train": (
        " \n = Valkyria Chronicles III = \n \n Senjō no Valkyria 3 : "
        "<unk> Chronicles , a tactical role @-@ playing game . \n"
    ),
    "valid": " \n = Homarus gammarus = \n \n It is 1 @,@ 000 m long . \n",
    "test": " \n = Robert <unk> = \n \n He was born in 1970 . \n",
}
PTB = {
    "train": (
        " aer banknote berlitz calloway centrust \n"
        " pierre <unk> N years old will join the board \n"
    ),
    "valid": " consumers may want to move their telephones \n",
    "test": " no it was n't black monday \n",
}
SHAKESPEARE = (
    "First Citizen:\nBefore we proceed any further, hear me "
    "speak.\n\nAll:\nSpeak, speak.\n\n"
) * 3


def write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


class TextCorporaTest(parameterized.TestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def write_wikitext(self, suffix="tokens"):
        for split, text in WIKI.items():
            write(self.tmp, f"wiki.{split}.{suffix}", text)

    def write_ptb(self):
        for split, text in PTB.items():
            write(self.tmp, f"ptb.{split}.txt", text)

    @parameterized.parameters("wikitext2", "wikitext103")
    def test_wikitext_words(self, name):
        self.write_wikitext()
        corpus = text_corpora.load_corpus(name, self.tmp)
        self.assertEqual(corpus.name, name)
        self.assertEqual(corpus.level, "word")
        # Every line, blank ones included, ends with <eos>.
        self.assertEqual(
            corpus.train[:8],
            [
                "<eos>",
                "=",
                "Valkyria",
                "Chronicles",
                "III",
                "=",
                "<eos>",
                "<eos>",
            ],
        )
        self.assertIn("@-@", corpus.train)
        self.assertIn("@,@", corpus.valid)
        self.assertEqual(corpus.train.count("<eos>"), 4)
        vocab = corpus.build_vocabulary()
        self.assertEqual(vocab.tokens.count("<unk>"), 1)
        self.assertEqual(vocab.token_to_id("Homarus"), vocab.unk_id)
        self.assertEqual(
            vocab.token_to_id("Senjō"), vocab.tokens.index("Senjō")
        )

    def test_wikitext_raw_chars(self):
        self.write_wikitext("raw")
        corpus = text_corpora.load_corpus("wikitext2", self.tmp, "char")
        self.assertEqual("".join(corpus.train), WIKI["train"])
        self.assertEqual("".join(corpus.test), WIKI["test"])

    def test_wikitext_chars_need_raw_files(self):
        self.write_wikitext()
        path = os.path.join(self.tmp, "wiki.train.raw")
        with self.assertRaisesRegex(
            FileNotFoundError,
            f"Corpus file {path} does not exist; "
            f"char level reads the raw WikiText",
        ):
            text_corpora.load_corpus("wikitext103", self.tmp, "char")

    def test_ptb(self):
        self.write_ptb()
        corpus = text_corpora.load_corpus("ptb", self.tmp)
        self.assertEqual(corpus.sizes(), {"train": 16, "valid": 8, "test": 7})
        self.assertEqual(
            corpus.test, ["no", "it", "was", "n't", "black", "monday", "<eos>"]
        )
        chars = text_corpora.load_corpus("ptb", self.tmp, "char")
        self.assertEqual("".join(chars.valid), PTB["valid"])

    def test_ptb_missing_split_names_the_file(self):
        self.write_ptb()
        os.remove(os.path.join(self.tmp, "ptb.valid.txt"))
        path = os.path.join(self.tmp, "ptb.valid.txt")
        with self.assertRaisesRegex(
            FileNotFoundError, f"Corpus file {path} does not exist"
        ):
            text_corpora.load_corpus("ptb", self.tmp)

    def test_missing_folder(self):
        path = os.path.join(self.tmp, "nope")
        with self.assertRaisesRegex(
            FileNotFoundError,
            f"ptb: the corpus folder {path} does not exist.*ptb.train.txt",
        ):
            text_corpora.load_corpus("ptb", path)

    @parameterized.parameters("", " \n\n")
    def test_empty_file_names_the_file(self, text):
        self.write_wikitext()
        path = write(self.tmp, "wiki.test.tokens", text)
        with self.assertRaisesRegex(
            ValueError, f"Corpus file {path} is empty"
        ):
            text_corpora.load_corpus("wikitext2", self.tmp)

    def test_not_utf8(self):
        path = os.path.join(self.tmp, "input.txt")
        with open(path, "wb") as f:
            f.write(b"abc\xff\xfe")
        with self.assertRaisesRegex(
            ValueError, f"Corpus file {path} is not UTF-8"
        ):
            text_corpora.load_corpus("text", path)

    def test_text_file_split_like_tfds(self):
        path = write(self.tmp, "input.txt", SHAKESPEARE)
        corpus = text_corpora.load_corpus("text", path)
        n = len(SHAKESPEARE)
        i = int(n * 0.9)
        j = int((n - i) * 0.5)
        self.assertEqual(
            corpus.sizes(), {"train": i, "valid": j, "test": n - i - j}
        )
        self.assertEqual(
            "".join(corpus.train + corpus.valid + corpus.test), SHAKESPEARE
        )
        words = text_corpora.load_corpus("text", path, "word")
        self.assertEqual(words.train[:3], ["First", "Citizen:", "<eos>"])

    def test_text_file_other_fractions(self):
        path = write(self.tmp, "input.txt", "abcdefghij")
        corpus = text_corpora.read_text_file(path, fractions=(0.6, 0.2, 0.2))
        self.assertEqual(
            ["".join(corpus.splits[s]) for s in text_corpora.SPLITS],
            ["abcdef", "gh", "ij"],
        )

    def test_text_file_too_short(self):
        path = write(self.tmp, "input.txt", "abc")
        with self.assertRaisesRegex(
            ValueError,
            f"Corpus file {path}: its valid split .* holds no tokens",
        ):
            text_corpora.load_corpus("text", path)

    @parameterized.parameters((0.9, 0.1), (0.5, 0.6, -0.1), (0.8, 0.1, 0.2))
    def test_bad_fractions(self, *fractions):
        with self.assertRaisesRegex(
            ValueError,
            "`fractions` must be three numbers in \\(0, 1\\) summing to 1",
        ):
            text_corpora.split_by_fraction("abcdef", fractions)

    def test_unknown_name_and_level(self):
        with self.assertRaisesRegex(
            ValueError,
            r"`name` must be one of "
            r"\('tiny_shakespeare', 'wikitext2', "
            r"'wikitext103', 'ptb', 'text'\), got "
            r"name='wt2'",
        ):
            text_corpora.load_corpus("wt2", self.tmp)
        with self.assertRaisesRegex(ValueError, "got level='byte'"):
            text_corpora.load_corpus("ptb", self.tmp, "byte")

    def test_tiny_shakespeare_file_or_folder(self):
        write(self.tmp, "input.txt", SHAKESPEARE)
        from_folder = text_corpora.load_corpus("tiny_shakespeare", self.tmp)
        from_file = text_corpora.load_corpus(
            "tiny_shakespeare", os.path.join(self.tmp, "input.txt")
        )
        self.assertEqual(from_folder.level, "char")
        self.assertEqual(from_folder.splits, from_file.splits)

    def test_tiny_shakespeare_neither_file_nor_tfds(self):
        with self.assertRaisesRegex(
            FileNotFoundError,
            f"tiny_shakespeare: {self.tmp} holds neither input.txt nor "
            f"a prepared TFDS tiny_shakespeare.*nothing is downloaded",
        ):
            text_corpora.load_corpus("tiny_shakespeare", self.tmp)

    def test_tiny_shakespeare_matches_prepared_tfds(self):
        """Prepares TFDS's own builder from the fixture, offline."""
        # tensorflow_datasets looks for the `importlib_resources` backport,
        # absent here; the standard library's module has what it needs.
        if "importlib_resources" not in sys.modules:
            self.enter_context(
                mock.patch.dict(
                    sys.modules, {"importlib_resources": importlib.resources}
                )
            )
        import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

        source = os.path.join(self.tmp, "source")
        data_dir = os.path.join(self.tmp, "tfds")
        os.makedirs(source)
        write(source, "input.txt", SHAKESPEARE)
        builder = tfds.builder("tiny_shakespeare", data_dir=data_dir)
        # The builder accepts a folder holding input.txt from download().
        with mock.patch.object(
            tfds.download.DownloadManager, "download", return_value=source
        ):
            builder.download_and_prepare(
                download_config=tfds.download.DownloadConfig(
                    try_download_gcs=False
                )
            )
        from_tfds = text_corpora.load_corpus("tiny_shakespeare", data_dir)
        from_file = text_corpora.load_corpus("tiny_shakespeare", source)
        self.assertEqual(from_tfds.source, builder.data_dir)
        self.assertEqual(from_tfds.splits, from_file.splits)

    def test_real_tiny_shakespeare(self):
        if not os.path.isfile(REAL_TINY_SHAKESPEARE):
            self.skipTest(
                f"the real tiny Shakespeare is not at "
                f"{os.path.normpath(REAL_TINY_SHAKESPEARE)}"
            )
        start = time.perf_counter()
        corpus = text_corpora.load_corpus(
            "tiny_shakespeare", REAL_TINY_SHAKESPEARE
        )
        # TFDS tiny_shakespeare 1.0.0: int(0.9·n), then the rest halved.
        self.assertEqual(
            corpus.sizes(),
            {"train": 1_003_854, "valid": 55_770, "test": 55_770},
        )
        vocab = corpus.build_vocabulary()
        self.assertLen(vocab, 65 + 1)  # 65 characters and <unk>.
        self.assertEqual(vocab.unk_rate(corpus.valid + corpus.test), 0.0)
        ids = vocab.encode(corpus.train)
        self.assertEqual(lm_dataset.num_batches(len(ids), 64, 128), 122)
        self.assertLess(time.perf_counter() - start, 10.0)


if __name__ == "__main__":
    absltest.main()
