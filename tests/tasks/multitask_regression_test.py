"""The multitask-regression task: data, one-hot contexts, matched parameter
counts, and that every conditioning variant trains."""

import os
import shutil
import tempfile

from absl.testing import absltest
import numpy as np

from mi_zoo.tasks import multitask_regression as mtr
from mi_zoo.training import trainer


class DataTest(absltest.TestCase):
    def test_targets_follow_the_formula_in_float64(self):
        for family in ("linear", "sine"):
            a, b, train, held_out = mtr.make_data(
                5, family, 30, 20, data_seed=3
            )
            for split, per_task in ((train, 30), (held_out, 20)):
                self.assertEqual(split.y.dtype, np.float64)
                self.assertEqual(split.x.shape, (5 * per_task, 1))
                i = split.task
                x = split.x[:, 0]
                expected = (
                    a[i] * x + b[i]
                    if family == "linear"
                    else a[i] * np.sin(10.0 * x) + b[i]
                )
                np.testing.assert_allclose(
                    split.y[:, 0], expected, rtol=0, atol=1e-15
                )
                self.assertTrue(np.all(np.abs(x) <= 1.0))
                np.testing.assert_array_equal(
                    np.bincount(i), np.full(5, per_task)
                )
            self.assertTrue(np.all(np.abs(a) <= 1) and np.all(np.abs(b) <= 1))
            # Held-out x's are other draws than the train ones.
            self.assertFalse(np.isin(held_out.x, train.x).any())

    def test_seeded(self):
        first = mtr.make_data(4, "sine", 10, 10, data_seed=1)
        again = mtr.make_data(4, "sine", 10, 10, data_seed=1)
        other = mtr.make_data(4, "sine", 10, 10, data_seed=2)
        np.testing.assert_array_equal(first[0], again[0])
        np.testing.assert_array_equal(first[2].x, again[2].x)
        self.assertFalse(np.allclose(first[0], other[0]))

    def test_contexts_are_one_hot(self):
        _, _, train, held_out = mtr.make_data(7, "linear", 5, 3)
        for split in (train, held_out):
            self.assertEqual(split.z.shape, (len(split.x), 7))
            np.testing.assert_array_equal(split.z.sum(axis=1), 1)
            np.testing.assert_array_equal(split.z.argmax(axis=1), split.task)
            self.assertTrue(set(np.unique(split.z)) <= {0.0, 1.0})

    def test_bad_values_are_named(self):
        with self.assertRaisesRegex(ValueError, "num_tasks"):
            mtr.make_data(0, "sine", 5, 5)
        with self.assertRaisesRegex(ValueError, "function family 'cubic'"):
            mtr.make_data(2, "cubic", 5, 5)
        with self.assertRaisesRegex(ValueError, "conditioning 'hyper'"):
            mtr.MultitaskRegressionTask(2, "hyper")
        with self.assertRaisesRegex(ValueError, "parameter_budget=10 is too"):
            mtr.MultitaskRegressionTask(40, "mi_full", parameter_budget=10)


class ParameterCountTest(absltest.TestCase):
    def test_closed_form_equals_count_params(self):
        for name in mtr.CONDITIONINGS.names():
            for num_tasks in (1, 10):
                task = mtr.MultitaskRegressionTask(
                    num_tasks,
                    name,
                    parameter_budget=3000,
                    examples_per_task=2,
                    eval_examples_per_task=2,
                    rank=3,
                )
                with self.subTest(name=name, num_tasks=num_tasks):
                    self.assertEqual(
                        task.build_model().count_params(), task.parameters
                    )

    def test_counts_are_matched_across_variants(self):
        # The full MI's count moves by ~T·k per unit of width, so small
        # budgets match less finely.
        for budget, tolerance in (
            (2000, 0.05),
            (5000, 0.02),
            (20000, 0.01),
            (50000, 0.01),
        ):
            for num_tasks in (1, 10, 20, 40):
                counts = {
                    name: mtr.parameter_count(
                        name,
                        num_tasks,
                        *mtr.choose_widths(name, num_tasks, budget),
                    )
                    for name in mtr.CONDITIONINGS.names()
                }
                with self.subTest(budget=budget, num_tasks=num_tasks):
                    for name, count in counts.items():
                        self.assertAlmostEqual(
                            count / budget, 1, delta=tolerance, msg=name
                        )

    def test_widths_stay_close(self):
        n, k = mtr.choose_widths("mi_full", 40, 20000)
        self.assertLessEqual(max(n, k) / min(n, k), mtr.WIDTH_RATIO)


class TrainingTest(absltest.TestCase):
    def test_every_variant_lowers_the_loss(self):
        root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        for name in mtr.CONDITIONINGS.names():
            task = mtr.MultitaskRegressionTask(
                3,
                name,
                function_family="linear",
                parameter_budget=600,
                examples_per_task=64,
                eval_examples_per_task=32,
            )
            model = task.build_model()
            before = task.evaluate(model, 64)["mse"]
            del model
            results = trainer.train(
                task,
                trainer.TrainConfig(
                    model_dir=os.path.join(root, name),
                    train_steps=150,
                    batch_size=32,
                    learning_rate=1e-2,
                    log_every=150,
                    checkpoint_every=150,
                    export=False,
                ),
                interactive=False,
            )
            with self.subTest(name=name):
                self.assertEqual(results["parameters"], task.parameters)
                self.assertLess(results["eval"]["mse"], 0.5 * before)
                self.assertAlmostEqual(
                    results["eval"]["mse"], results["eval"]["task_mse/mean"]
                )
                self.assertGreaterEqual(
                    results["eval"]["task_mse/max"],
                    results["eval"]["task_mse/min"],
                )


if __name__ == "__main__":
    absltest.main()
