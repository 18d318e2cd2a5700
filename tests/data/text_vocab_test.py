"""Tests of the question/caption tokenizer and the corpus JSON reader (the
question/caption vocabulary is `vocabulary.Vocabulary`, tested in
vocabulary_test.py)."""

import json
import os

from absl.testing import absltest

from mi_zoo.data import text_vocab
from tests.data import fixtures


class TokenizerTest(absltest.TestCase):
    def test_tokenize(self):
        self.assertEqual(
            text_vocab.tokenize("What's on the TABLE, left?"),
            ["whats", "on", "the", "table", "left"],
        )
        self.assertEqual(
            text_vocab.tokenize("a  b-c\t2.5"), ["a", "b", "c", "2", "5"]
        )

    def test_tokenize_needs_a_string(self):
        with self.assertRaisesRegex(
            ValueError,
            r"`text` must be a string, "
            r"got text=3",
        ):
            text_vocab.tokenize(3)

    def test_no_module_level_vocabulary_class(self):
        self.assertFalse(hasattr(text_vocab, "TextVocab"))

    def test_read_json_bad_files(self):
        tmp = fixtures.tempdir(self)
        missing = os.path.join(tmp, "missing.json")
        with self.assertRaisesRegex(
            FileNotFoundError,
            r"vocabulary file '.*missing.json' does "
            r"not exist",
        ):
            text_vocab.read_json(missing, "vocabulary")
        empty = os.path.join(tmp, "empty.json")
        open(empty, "w").close()
        with self.assertRaisesRegex(ValueError, r"'.*empty.json' is empty"):
            text_vocab.read_json(empty, "vocabulary")
        truncated = os.path.join(tmp, "trunc.json")
        with open(truncated, "w") as f:
            f.write('{"words": ["<pad>", "<u')
        with self.assertRaisesRegex(
            ValueError,
            r"'.*trunc.json' is not valid "
            r"JSON \(truncated\?\)",
        ):
            text_vocab.read_json(truncated, "vocabulary")

    def _write(self, value):
        path = os.path.join(fixtures.tempdir(self), "records.json")
        with open(path, "w") as f:
            json.dump(value, f)
        return path

    def test_read_json_records_returns_the_list(self):
        records = [{"a": 1, "b": 2, "c": 3}, {"a": 4, "b": 5}]
        path = self._write({"items": records, "other": 0})
        self.assertEqual(
            text_vocab.read_json_records(path, "Items", "items", ("a", "b")),
            records,
        )

    def test_read_json_records_bad_files(self):
        for value, message in (
            (
                [{"a": 1}],
                r"Items file '.*records.json' has no "
                r"\"items\" list\.",
            ),
            ({"items": {"a": 1}}, r"has no \"items\" list\."),
            (
                {"items": []},
                r"Items file '.*records.json' has no "
                r"items\.",
            ),
            (
                {"items": [{"a": 1, "b": 2}, 3]},
                r"records.json': entry 1 is not an object, got 3\.",
            ),
            (
                {"items": [{"a": 1, "b": 2}, {"c": 3}]},
                r"records.json': entry 1 lacks a, b, got \{'c': 3\}\.",
            ),
            (
                {"items": [{"b": 1}]},
                r"entry 0 lacks a, got "
                r"\{'b': 1\}\.",
            ),
        ):
            with (
                self.subTest(value=value),
                self.assertRaisesRegex(ValueError, message),
            ):
                text_vocab.read_json_records(
                    self._write(value), "Items", "items", ("a", "b")
                )
        with self.assertRaisesRegex(FileNotFoundError, r"does not exist"):
            text_vocab.read_json_records(
                "/nonexistent/records.json", "Items", "items", ("a",)
            )


if __name__ == "__main__":
    absltest.main()
