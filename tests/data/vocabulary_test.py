"""Tests of the word/char `Vocabulary`: building, ids, JSON and matching."""

import json
import os
import shutil
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from mi_zoo.data import vocabulary
from tests.data import fixtures

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
        self.assertEqual(
            vocab.tokens, ["the", "cat", "sat", "on", "mat", "<unk>", "ran"]
        )
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
        vocab = vocabulary.Vocabulary.build(
            ["a"] * 3 + ["b"] * 2 + ["<unk>"], max_size=3
        )
        self.assertEqual(vocab.tokens, ["a", "b", "<unk>"])

    def test_build_from_nothing(self):
        with self.assertRaisesRegex(ValueError, "from no tokens"):
            vocabulary.Vocabulary.build([])

    @parameterized.parameters(
        ("min_count", 0), ("max_size", -2), ("max_size", 1.5)
    )
    def test_bad_arguments(self, name, value):
        with self.assertRaisesRegex(
            ValueError,
            rf"`{name}` must be a "
            rf"positive integer, got {name}=",
        ):
            vocabulary.Vocabulary.build(WORDS, **{name: value})

    def test_max_size_without_room(self):
        with self.assertRaisesRegex(ValueError, "max_size=1"):
            vocabulary.Vocabulary.build("ab", max_size=1)

    def test_duplicate_tokens(self):
        with self.assertRaisesRegex(
            ValueError,
            r"'a' appears twice, at ids "
            r"1 and 2",
        ):
            vocabulary.Vocabulary(["a", "a"])

    def test_id_out_of_range(self):
        with self.assertRaisesRegex(
            IndexError, "Token id 9 is out of range for a vocabulary of size 3"
        ):
            vocabulary.Vocabulary(["a", "b"]).id_to_token(9)

    def test_fingerprint_is_stable_and_order_sensitive(self):
        a = vocabulary.Vocabulary(["x", "y"])
        self.assertEqual(
            a.fingerprint, vocabulary.Vocabulary(["x", "y"]).fingerprint
        )
        self.assertNotEqual(
            a.fingerprint, vocabulary.Vocabulary(["y", "x"]).fingerprint
        )
        self.assertRegex(a.fingerprint, r"^[0-9a-f]{16}$")

    def test_save_load_round_trip(self):
        vocab = vocabulary.Vocabulary.build(WORDS + ["é", "日本"])
        path = os.path.join(self.tmp, "ckpt", vocabulary.FILENAME)
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
            rf"\('b' vs 'c'\)",
        ):
            saved.check_matches(current, "checkpoint /ckpt")

    def test_load_missing(self):
        path = os.path.join(self.tmp, "none.json")
        with self.assertRaisesRegex(
            FileNotFoundError, f"Vocabulary file {path} does not exist"
        ):
            vocabulary.Vocabulary.load(path)

    def _write(self, text):
        path = os.path.join(self.tmp, "vocab.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_load_truncated(self):
        full = json.dumps(vocabulary.Vocabulary(["a"]).to_json())
        path = self._write(full[: len(full) // 2])
        with self.assertRaisesRegex(
            ValueError, f"Vocabulary file {path} is not valid JSON"
        ):
            vocabulary.Vocabulary.load(path)

    def test_load_not_a_vocabulary(self):
        path = self._write('{"tokens": ["a"]}')
        with self.assertRaisesRegex(
            ValueError, f"{path} is not a mi_zoo vocabulary"
        ):
            vocabulary.Vocabulary.load(path)

    def test_load_missing_keys(self):
        path = self._write('{"format": "mi_zoo.vocabulary", "version": 1}')
        with self.assertRaisesRegex(
            ValueError,
            rf"{path} lacks the keys "
            rf"\['unk', 'tokens', 'fingerprint'\]",
        ):
            vocabulary.Vocabulary.load(path)

    def test_load_edited_tokens(self):
        data = vocabulary.Vocabulary(["a", "b"]).to_json()
        data["tokens"][1] = "z"
        path = self._write(json.dumps(data))
        with self.assertRaisesRegex(
            ValueError,
            f"{path} is corrupted: its 3 tokens hash to fingerprint",
        ):
            vocabulary.Vocabulary.load(path)

    def test_load_duplicate_tokens(self):
        data = vocabulary.Vocabulary(["a", "b"]).to_json()
        data["tokens"][2] = "a"
        path = self._write(json.dumps(data))
        with self.assertRaisesRegex(
            ValueError, f"{path}: Vocabulary token 'a' appears twice"
        ):
            vocabulary.Vocabulary.load(path)


class TextVocabularyTest(absltest.TestCase):
    """Question/caption vocabularies: `<pad>` 0, `<unk>` 1, word tokenizer."""

    def test_from_texts_order_pad_unk(self):
        vocab = vocabulary.Vocabulary.from_texts(
            ["the cube", "The sphere?", "a cube"], min_count=1
        )
        self.assertEqual(vocab.tokens[:2], ["<pad>", "<unk>"])
        self.assertEqual((vocab.pad_id, vocab.unk_id), (0, 1))
        # by count, then alphabetically
        self.assertEqual(vocab.tokens[2:], ["cube", "the", "a", "sphere"])
        np.testing.assert_array_equal(
            vocab.encode("the red cube", max_length=5), [3, 1, 2, 0, 0]
        )
        np.testing.assert_array_equal(
            vocab.encode("a a a", max_length=2), [4, 4]
        )
        self.assertEqual(vocab.encode("a a a", max_length=2).dtype, np.int32)
        np.testing.assert_array_equal(vocab.encode("The cube"), [3, 2])
        self.assertEqual(vocab.decode_text([3, 1, 2, 0]), "the <unk> cube")

    def test_from_texts_min_count_and_max_size(self):
        texts = ["x y", "x z", "x y"]
        self.assertEqual(
            vocabulary.Vocabulary.from_texts(texts, min_count=2).tokens[2:],
            ["x", "y"],
        )
        # max_size counts <pad> and <unk>.
        self.assertEqual(
            vocabulary.Vocabulary.from_texts(texts, max_size=3).tokens[2:],
            ["x"],
        )
        with self.assertRaisesRegex(
            ValueError,
            r"besides '<pad>' and "
            r"'<unk>', got max_size=2",
        ):
            vocabulary.Vocabulary.from_texts(texts, max_size=2)

    def test_from_texts_order_does_not_depend_on_text_order(self):
        a = vocabulary.Vocabulary.from_texts(["b a", "c"])
        b = vocabulary.Vocabulary.from_texts(["c", "a b"])
        self.assertEqual(a, b)

    def test_from_no_texts(self):
        with self.assertRaisesRegex(ValueError, "got no texts"):
            vocabulary.Vocabulary.from_texts([])
        with self.assertRaisesRegex(ValueError, "got 1 texts without a word"):
            vocabulary.Vocabulary.from_texts(["?!"])

    def test_pad_must_be_id_0(self):
        with self.assertRaisesRegex(
            ValueError,
            r"padding token '<pad>' must "
            r"be id 0, got it at id 1",
        ):
            vocabulary.Vocabulary(["a", "<pad>"], pad="<pad>")
        with self.assertRaisesRegex(
            ValueError,
            r"`pad` must be None or a "
            r"non-empty string other than "
            r"unk='<unk>', got pad='<unk>'",
        ):
            vocabulary.Vocabulary(["a"], pad="<unk>")

    def test_bad_tokenizer(self):
        with self.assertRaisesRegex(
            ValueError,
            r"`tokenizer` must be one of "
            r"\(None, 'words'\), got "
            r"tokenizer='bpe'",
        ):
            vocabulary.Vocabulary(["a"], tokenizer="bpe")

    def test_max_length_needs_pad(self):
        vocab = vocabulary.Vocabulary.build("abc")
        with self.assertRaisesRegex(
            ValueError,
            r"max_length=4\) pads, but "
            r"this vocabulary has no padding token",
        ):
            vocab.encode("ab", max_length=4)

    def test_lm_fingerprints_are_unchanged_by_pad_support(self):
        # Version 1 files recorded this fingerprint; it must still match.
        self.assertEqual(
            vocabulary.Vocabulary(["a", "b"]).fingerprint,
            vocabulary._fingerprint(["<unk>", "a", "b"], "<unk>"),
        )
        plain = vocabulary.Vocabulary(["a"])
        padded = vocabulary.Vocabulary(["a"], pad="<pad>")
        self.assertNotEqual(plain.fingerprint, padded.fingerprint)
        with self.assertRaisesRegex(
            ValueError,
            r"padding tokens None vs "
            r"'<pad>'",
        ):
            plain.check_matches(padded, "the checkpoint")

    def test_save_load(self):
        path = os.path.join(fixtures.tempdir(self), "v.json")
        vocab = vocabulary.Vocabulary.from_texts(["how many red cubes"])
        vocab.save(path)
        loaded = vocabulary.Vocabulary.load(path)
        self.assertEqual(loaded.tokens, vocab.tokens)
        self.assertEqual(loaded, vocab)
        self.assertEqual((loaded.pad, loaded.tokenizer), ("<pad>", "words"))
        loaded.check_matches(vocab, "the checkpoint")

    def test_loads_version_1_files(self):
        vocab = vocabulary.Vocabulary(["a", "b"])
        data = vocab.to_json()
        data["version"] = 1
        del data["pad"], data["tokenizer"]
        path = os.path.join(fixtures.tempdir(self), "v1.json")
        with open(path, "w") as f:
            json.dump(data, f)
        self.assertEqual(vocabulary.Vocabulary.load(path), vocab)

    def test_loads_former_text_vocab_files(self):
        path = os.path.join(fixtures.tempdir(self), "old.json")
        with open(path, "w") as f:
            json.dump({"words": ["<pad>", "<unk>", "cube", "the"]}, f)
        loaded = vocabulary.Vocabulary.load(path)
        self.assertEqual(
            loaded, vocabulary.Vocabulary.from_texts(["the cube", "cube"])
        )
        np.testing.assert_array_equal(loaded.encode("The cube?", 3), [3, 2, 0])

    def test_bad_former_text_vocab_file(self):
        tmp = fixtures.tempdir(self)
        wrong = os.path.join(tmp, "wrong.json")
        with open(wrong, "w") as f:
            json.dump({"words": ["a", "b"]}, f)
        with self.assertRaisesRegex(
            ValueError,
            r"wrong.json \(a former "
            r"TextVocab file\) must hold",
        ):
            vocabulary.Vocabulary.load(wrong)
        empty = os.path.join(tmp, "empty.json")
        open(empty, "w").close()
        with self.assertRaisesRegex(
            ValueError,
            r"empty.json is not valid "
            r"JSON",
        ):
            vocabulary.Vocabulary.load(empty)


if __name__ == "__main__":
    absltest.main()
