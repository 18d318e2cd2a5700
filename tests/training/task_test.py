"""The Task interface's data: named batches and `TaskData`."""

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from mi_zoo.training import task as task_lib
from tests.training import toy_task


class NamedBatchesTest(absltest.TestCase):
    def test_pairs_and_triples_get_their_names(self):
        x = {"a": np.arange(6.0).reshape(3, 2)}
        y = np.array([0, 1, 2])
        info = {"kind": np.array([5, 6, 7])}
        pairs = task_lib.named_batches(
            tf.data.Dataset.from_tensor_slices((x, y)).batch(2)
        )
        triples = task_lib.named_batches(
            tf.data.Dataset.from_tensor_slices((x, y, info)).batch(2)
        )
        first = next(iter(pairs))
        self.assertEqual(set(first), {"inputs", "targets"})
        np.testing.assert_array_equal(first["inputs"]["a"], x["a"][:2])
        np.testing.assert_array_equal(first["targets"], y[:2])
        batches = list(triples)
        self.assertEqual(set(batches[0]), {"inputs", "targets", "info"})
        np.testing.assert_array_equal(
            np.concatenate([b["info"]["kind"] for b in batches]), info["kind"]
        )

    def test_none_stays_none(self):
        self.assertIsNone(task_lib.named_batches(None))

    def test_other_elements_are_refused(self):
        for element in (
            np.zeros(3),
            (np.zeros(3),),
            (np.zeros(3),) * 4,
            {"x": np.zeros(3)},
        ):
            with self.subTest(element=type(element).__name__):
                with self.assertRaisesRegex(
                    ValueError,
                    r"needs a dataset of \(inputs, targets\) "
                    r"or \(inputs, targets, info\) tuples, got elements "
                    r".*\.$",
                ):
                    task_lib.named_batches(
                        tf.data.Dataset.from_tensor_slices(element)
                    )

    def test_task_data_defaults(self):
        data = task_lib.TaskData(train=tf.data.Dataset.range(2))
        self.assertIsNone(data.eval)
        self.assertIsNone(data.spec)
        self.assertTrue(data.train_checkpointable)

    def test_toy_task_batches_are_named(self):
        data = toy_task.ToyTask().prepare(8, 5, seed=0)
        train = next(iter(data.train))
        self.assertEqual(set(train), {"inputs", "targets"})
        self.assertEqual(train["inputs"].shape, (8, 4))
        self.assertEqual(train["targets"].shape, (8, 2))
        self.assertEqual(next(iter(data.eval))["inputs"].shape, (5, 4))


if __name__ == "__main__":
    absltest.main()
