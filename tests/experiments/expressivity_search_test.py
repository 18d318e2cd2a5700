"""The width search of the expressivity experiment on a fake trainer."""

from absl.testing import absltest

from mi_zoo.experiments import expressivity_search
from mi_zoo.models import expressivity


class SearchWidthTest(absltest.TestCase):
    def _fake(self, needed):
        calls = []

        def run(width):
            calls.append(width)
            return 0.05 if width >= needed else 1.0

        return run, calls

    def test_finds_smallest_width_exactly_with_zero_tolerance(self):
        for needed in (1, 3, 4, 5, 37, 64, 100):
            with self.subTest(needed=needed):
                run, calls = self._fake(needed)
                result = expressivity_search.search_width(
                    run, 1, 128, 0.1, tolerance=0
                )
                self.assertTrue(result.reached)
                self.assertEqual(result.width, needed)
                self.assertEqual(len(calls), len(set(calls)))

    def test_tolerance_bounds_the_answer(self):
        run, _ = self._fake(37)
        result = expressivity_search.search_width(run, 4, 1024, 0.1, 0.25)
        self.assertGreaterEqual(result.width, 37)
        self.assertLessEqual(result.width, 37 * 1.25 + 1)

    def test_not_reached(self):
        run, calls = self._fake(10**6)
        result = expressivity_search.search_width(run, 4, 100, 0.1)
        self.assertFalse(result.reached)
        self.assertIsNone(result.width)
        self.assertEqual(calls, [4, 8, 16, 32, 64, 100])

    def test_run_search_on_fake_trainer(self):
        import tempfile

        from mi_zoo.training import trainer

        def fake_train(
            task, config, strategy, settings=None, interactive=None
        ):
            return {
                "step": 1,
                "eval": {"mse": 0.01 if task.width >= 6 else 0.5},
                "parameters": 0,
            }

        out = tempfile.mkdtemp()
        summary = expressivity_search.run_search(
            "dot",
            4,
            "mi_low_rank",
            lambda sub: trainer.TrainConfig(model_dir=sub),
            out,
            tolerance=0,
            train_fn=fake_train,
            train_examples=8,
            eval_examples=8,
        )
        self.assertTrue(summary["reached"])
        self.assertEqual(summary["width"], 6)
        self.assertEqual(
            summary["parameters"],
            expressivity.parameter_count("mi_low_rank", 4, 1, 6),
        )
        self.assertEqual(
            [r["width"] for r in summary["tried"]], [1, 2, 4, 5, 6, 8]
        )
        summary = expressivity_search.run_search(
            "dot",
            4,
            "mi_low_rank",
            lambda sub: trainer.TrainConfig(model_dir=sub),
            out + "/b",
            width_range=(1, 4),
            train_fn=fake_train,
            train_examples=8,
            eval_examples=8,
        )
        self.assertFalse(summary["reached"])
        self.assertIsNone(summary["parameters"])

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, "largest"):
            expressivity_search.search_width(lambda w: 0, 8, 4)


if __name__ == "__main__":
    absltest.main()
