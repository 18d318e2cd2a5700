"""Tests of the question/caption tokenizer and vocabulary."""

import json
import os

from absl.testing import absltest

from mi_zoo.data import text_vocab
from tests.data import fixtures


class TextVocabTest(absltest.TestCase):

    def test_tokenize(self):
        self.assertEqual(text_vocab.tokenize("What's on the TABLE, left?"),
                         ["whats", "on", "the", "table", "left"])
        self.assertEqual(text_vocab.tokenize("a  b-c\t2.5"),
                         ["a", "b", "c", "2", "5"])

    def test_build_order_pad_unk(self):
        vocab = text_vocab.TextVocab.build(
            ["the cube", "The sphere?", "a cube"], min_count=1)
        self.assertEqual(vocab.itos[:2], ["<pad>", "<unk>"])
        # by count, then alphabetically
        self.assertEqual(vocab.itos[2:], ["cube", "the", "a", "sphere"])
        self.assertEqual(vocab.encode("the red cube", max_length=5),
                         [3, 1, 2, 0, 0])
        self.assertEqual(vocab.encode("a a a", max_length=2), [4, 4])
        self.assertEqual(vocab.decode([3, 1, 2, 0]), "the <unk> cube")

    def test_min_count_and_max_size(self):
        texts = ["x y", "x z", "x y"]
        self.assertEqual(text_vocab.TextVocab.build(texts, 2).itos[2:],
                         ["x", "y"])
        self.assertEqual(
            text_vocab.TextVocab.build(texts, max_size=1).itos[2:], ["x"])

    def test_save_load(self):
        path = os.path.join(fixtures.tempdir(self), "v.json")
        vocab = text_vocab.TextVocab.build(["how many red cubes"])
        vocab.save(path)
        loaded = text_vocab.TextVocab.load(path)
        self.assertEqual(loaded.itos, vocab.itos)
        self.assertEqual(loaded.stoi, vocab.stoi)

    def test_no_texts(self):
        with self.assertRaisesRegex(ValueError, "got no texts"):
            text_vocab.TextVocab.build([])

    def test_bad_files(self):
        tmp = fixtures.tempdir(self)
        missing = os.path.join(tmp, "missing.json")
        with self.assertRaisesRegex(FileNotFoundError,
                                    r"vocabulary file '.*missing.json' does "
                                    r"not exist"):
            text_vocab.TextVocab.load(missing)
        empty = os.path.join(tmp, "empty.json")
        open(empty, "w").close()
        with self.assertRaisesRegex(ValueError, r"'.*empty.json' is empty"):
            text_vocab.TextVocab.load(empty)
        truncated = os.path.join(tmp, "trunc.json")
        with open(truncated, "w") as f:
            f.write('{"words": ["<pad>", "<u')
        with self.assertRaisesRegex(ValueError, r"'.*trunc.json' is not valid "
                                    r"JSON \(truncated\?\)"):
            text_vocab.TextVocab.load(truncated)
        wrong = os.path.join(tmp, "wrong.json")
        with open(wrong, "w") as f:
            json.dump({"words": ["a", "b"]}, f)
        with self.assertRaisesRegex(ValueError, r"'.*wrong.json' must hold"):
            text_vocab.TextVocab.load(wrong)


if __name__ == "__main__":
    absltest.main()
