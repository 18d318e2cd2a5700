"""Tests of the word/char `Vocabulary`: building, ids, JSON and matching."""

import json
import os
import shutil
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from mi_zoo.data import vocabulary

WORDS = "the cat sat on the mat the cat <unk> ran".split()


class VocabularyTest(parameterized.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def test_build_frequency_order_and_unk_in_text(self):
        vocab = vocabulary.Vocabulary.build(WORDS)
        # Most frequent first, ties in first-seen order; <unk> occurs in the
        # text, so it is not added again.
        self.assertEqual(vocab.tokens,
                         ["the", "cat", "sat", "on", "mat", "<unk>", "ran"])
        self.assertEqual(vocab.unk_id, 5)

    def test_build_adds_unk_first(self):
        vocab = vocabulary.Vocabulary.build("abca")
        self.assertEqual(vocab.tokens, ["<unk>", "a", "b", "c"])
        np.testing.assert_array_equal(vocab.encode("abz"), [1, 2, 0])
        self.assertEqual(vocab.encode("abz").dtype, np.int32)
        self.assertEqual("".join(vocab.decode([1, 2, 3])), "abc")

    def test_sorted_order(self):
        vocab = vocabulary.Vocabulary.build("cbaa", order="sorted")
        self.assertEqual(vocab.tokens, ["<unk>", "a", "b", "c"])

    def test_min_count_and_max_size(self):
        vocab = vocabulary.Vocabulary.build(WORDS, min_count=2)
        self.assertEqual(vocab.tokens, ["<unk>", "the", "cat"])
        vocab = vocabulary.Vocabulary.build(WORDS, max_size=3)
        self.assertEqual(vocab.tokens, ["<unk>", "the", "cat"])
        self.assertEqual(vocab.token_to_id("mat"), vocab.unk_id)
        self.assertAlmostEqual(vocab.unk_rate(["the", "mat"]), 0.5)

    def test_max_size_keeps_unk_from_the_text(self):
        tokens = ["<unk>"] * 3 + ["a"] * 2 + ["b"]
        vocab = vocabulary.Vocabulary.build(tokens, max_size=2)
        self.assertEqual(vocab.tokens, ["<unk>", "a"])
        vocab = vocabulary.Vocabulary.build(["a"] * 3 + ["b"] * 2 + ["<unk>"],
                                            max_size=3)
        self.assertEqual(vocab.tokens, ["a", "b", "<unk>"])

    def test_build_from_nothing(self):
        with self.assertRaisesRegex(ValueError, "from no tokens"):
            vocabulary.Vocabulary.build([])

    @parameterized.parameters(("min_count", 0), ("max_size", -2),
                              ("max_size", 1.5))
    def test_bad_arguments(self, name, value):
        with self.assertRaisesRegex(ValueError, rf"`{name}` must be a "
                                    rf"positive integer, got {name}="):
            vocabulary.Vocabulary.build(WORDS, **{name: value})

    def test_max_size_without_room(self):
        with self.assertRaisesRegex(ValueError, "max_size=1"):
            vocabulary.Vocabulary.build("ab", max_size=1)

    def test_duplicate_tokens(self):
        with self.assertRaisesRegex(ValueError, r"'a' appears twice, at ids "
                                    r"1 and 2"):
            vocabulary.Vocabulary(["a", "a"])

    def test_id_out_of_range(self):
        with self.assertRaisesRegex(IndexError, "Token id 9 is out of range "
                                    "for a vocabulary of size 3"):
            vocabulary.Vocabulary(["a", "b"]).id_to_token(9)

    def test_fingerprint_is_stable_and_order_sensitive(self):
        a = vocabulary.Vocabulary(["x", "y"])
        self.assertEqual(a.fingerprint,
                         vocabulary.Vocabulary(["x", "y"]).fingerprint)
        self.assertNotEqual(a.fingerprint,
                            vocabulary.Vocabulary(["y", "x"]).fingerprint)
        self.assertRegex(a.fingerprint, r"^[0-9a-f]{16}$")

    def test_save_load_round_trip(self):
        vocab = vocabulary.Vocabulary.build(WORDS + ["é", "日本"])
        path = os.path.join(self.tmp, "ckpt",
                            vocabulary.FILENAME)
        self.assertEqual(vocab.save(path), path)
        loaded = vocabulary.Vocabulary.load(path)
        self.assertEqual(loaded, vocab)
        self.assertEqual(loaded.fingerprint, vocab.fingerprint)
        loaded.check_matches(vocab, "the checkpoint")  # No error.
        self.assertFalse(os.path.exists(path + ".tmp"))

    def test_check_matches_names_both(self):
        saved = vocabulary.Vocabulary(["a", "b", "c"])
        current = vocabulary.Vocabulary(["a", "c"])
        with self.assertRaisesRegex(
                ValueError,
                rf"Vocabulary mismatch with checkpoint /ckpt: checkpoint "
                rf"/ckpt has size 4 and fingerprint {saved.fingerprint}, the "
                rf"current vocabulary has size 3 and fingerprint "
                rf"{current.fingerprint}; first difference at id 2 "
                rf"\('b' vs 'c'\)"):
            saved.check_matches(current, "checkpoint /ckpt")

    def test_load_missing(self):
        path = os.path.join(self.tmp, "none.json")
        with self.assertRaisesRegex(FileNotFoundError,
                                    f"Vocabulary file {path} does not exist"):
            vocabulary.Vocabulary.load(path)

    def _write(self, text):
        path = os.path.join(self.tmp, "vocab.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_load_truncated(self):
        full = json.dumps(vocabulary.Vocabulary(["a"]).to_json())
        path = self._write(full[:len(full) // 2])
        with self.assertRaisesRegex(ValueError, f"Vocabulary file {path} is "
                                    f"not valid JSON"):
            vocabulary.Vocabulary.load(path)

    def test_load_not_a_vocabulary(self):
        path = self._write('{"tokens": ["a"]}')
        with self.assertRaisesRegex(ValueError, f"{path} is not a mi_zoo "
                                    f"vocabulary"):
            vocabulary.Vocabulary.load(path)

    def test_load_missing_keys(self):
        path = self._write('{"format": "mi_zoo.vocabulary", "version": 1}')
        with self.assertRaisesRegex(ValueError, rf"{path} lacks the keys "
                                    rf"\['unk', 'tokens', 'fingerprint'\]"):
            vocabulary.Vocabulary.load(path)

    def test_load_edited_tokens(self):
        data = vocabulary.Vocabulary(["a", "b"]).to_json()
        data["tokens"][1] = "z"
        path = self._write(json.dumps(data))
        with self.assertRaisesRegex(ValueError, f"{path} is corrupted: its 3 "
                                    f"tokens hash to fingerprint"):
            vocabulary.Vocabulary.load(path)

    def test_load_duplicate_tokens(self):
        data = vocabulary.Vocabulary(["a", "b"]).to_json()
        data["tokens"][2] = "a"
        path = self._write(json.dumps(data))
        with self.assertRaisesRegex(ValueError, f"{path}: Vocabulary token "
                                    f"'a' appears twice"):
            vocabulary.Vocabulary.load(path)


if __name__ == "__main__":
    absltest.main()
