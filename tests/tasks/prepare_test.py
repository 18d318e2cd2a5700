"""Every task of the zoo under the `Task` interface: its spec, model and
evaluation work on a fresh task (no `prepare` first, nothing depends on
call order), and `prepare` gives named batches that the model built
before it reads."""

import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from mi_zoo.tasks import expressivity
from mi_zoo.tasks import matching
from mi_zoo.tasks import multitask_regression
from mi_zoo.training import task as task_lib
from tests.tasks import language_model_test
from tests.tasks import matching_test
from tests.tasks import vqa_test


def _vqa():
    return vqa_test._task()  # pylint: disable=protected-access


def _matching():
    return matching.MatchingTask(
        "clevr2d",
        "mdan",
        hyperparameters=matching_test.TINY,
        eval_batch_size=5,
        data_dir=tempfile.mkdtemp(),
        options={"config": matching_test.tiny_config()},
        num_images=2,
    )


def _language_model():
    return language_model_test._task()  # pylint: disable=protected-access


def _expressivity():
    return expressivity.ExpressivityTask(
        "dot", 3, "mlp", 4, train_examples=32, eval_examples=12
    )


def _multitask_regression():
    return multitask_regression.MultitaskRegressionTask(
        num_tasks=3,
        parameter_budget=300,
        examples_per_task=8,
        eval_examples_per_task=4,
    )


TASKS = (
    ("vqa", _vqa),
    ("matching", _matching),
    ("language_model", _language_model),
    ("expressivity", _expressivity),
    ("multitask_regression", _multitask_regression),
)


class PrepareTest(parameterized.TestCase):
    @parameterized.named_parameters(*TASKS)
    def test_model_and_evaluation_need_no_prepare(self, make):
        task = make()
        if hasattr(task, "spec"):  # ZooTask: loads its spec by itself.
            self.assertIsNotNone(task.spec)
        model = task.build_model()
        results = task.evaluate(model, 4)
        if results is None:  # The engine's pass over prepare's eval.
            self.assertIsNotNone(task.prepare(4, 4, seed=0).eval)
        else:
            self.assertIn("loss", results)
            self.assertTrue(np.isfinite(results["loss"]))

    @parameterized.named_parameters(*TASKS)
    def test_prepare_gives_named_batches(self, make):
        task = make()
        model = task.build_model()  # Before prepare: in either order.
        data = task.prepare(4, 3, seed=0)
        self.assertIsInstance(data, task_lib.TaskData)
        batch = next(iter(data.train))
        self.assertIsInstance(batch, dict)
        self.assertContainsSubset({"inputs", "targets"}, set(batch))
        self.assertContainsSubset(set(batch), {"inputs", "targets", "info"})
        outputs, _ = task.call_model(
            model, batch["inputs"], None, training=False
        )
        loss = np.asarray(
            task.per_example_loss(batch["targets"], outputs, batch["inputs"])
        )
        self.assertEqual(loss.shape, (4,))
        self.assertTrue(np.all(np.isfinite(loss)))
        if data.eval is not None:
            first = next(iter(data.eval))
            self.assertContainsSubset({"inputs", "targets"}, set(first))
            self.assertLessEqual(len(first["targets"]), 3)

    def test_vqa_eval_batches_carry_the_question_type(self):
        task = _vqa()
        batch = next(iter(task.prepare(4, 3, seed=0).eval))
        self.assertEqual(set(batch), {"inputs", "targets", "info"})
        self.assertEqual(batch["info"]["question_type"].shape, (3,))
        self.assertEqual(task.spec, task.data.spec)

    def test_matching_eval_batches_carry_the_image_index(self):
        task = _matching()
        batch = next(iter(task.prepare(4, 3, seed=0).eval))
        self.assertEqual(set(batch), {"inputs", "targets", "info"})
        self.assertNotIn("image_index", batch["inputs"])
        np.testing.assert_array_equal(batch["info"]["image_index"], [0, 1, 2])


if __name__ == "__main__":
    absltest.main()
