"""Tests of the data tools' throughput helpers."""

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from mi_zoo.data import throughput


class ThroughputTest(absltest.TestCase):
    def test_counts_dict_and_tuple_batches(self):
        features = {"question": np.zeros((10, 3), "int32")}
        dicts = tf.data.Dataset.from_tensor_slices(features).batch(4)
        pairs = tf.data.Dataset.from_tensor_slices(
            (features, np.zeros(10))
        ).batch(4)
        for dataset in (dicts, pairs):
            examples, seconds = throughput.time_one_pass(dataset, "question")
            self.assertEqual(examples, 10)
            self.assertGreaterEqual(seconds, 0.0)

    def test_report_uses_one_interval(self):
        self.assertEqual(
            throughput.report(300, 1.5, "val examples"),
            "300 val examples in 1.5s (200 val examples/s)",
        )
        self.assertIn("(inf pairs/s)", throughput.report(3, 0.0, "pairs"))


if __name__ == "__main__":
    absltest.main()
