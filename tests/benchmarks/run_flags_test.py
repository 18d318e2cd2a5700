"""Tests of the benchmark scripts' flag helpers (benchmarks.run_flags)."""

from absl.testing import absltest

from benchmarks import run_flags


class CheckNamesTest(absltest.TestCase):
    def test_known_names_pass_through(self):
        self.assertEqual(
            run_flags.check_names("models", ["mlb", "ban"], ("ban", "mlb")),
            ["mlb", "ban"],
        )

    def test_unknown_name_exits_with_one_line(self):
        with self.assertRaises(SystemExit) as raised:
            run_flags.check_names("fusions", ["mlb", "nope"], ("mlb", "mfb"))
        self.assertEqual(
            raised.exception.code,
            "--fusions: unknown ['nope']; choose from ['mlb', 'mfb'], got "
            "'mlb,nope'.",
        )

    def test_empty_list_exits(self):
        with self.assertRaises(SystemExit) as raised:
            run_flags.check_names("layers", [], ("full",))
        self.assertEqual(
            raised.exception.code,
            "--layers is empty; choose from ['full'].",
        )


if __name__ == "__main__":
    absltest.main()
