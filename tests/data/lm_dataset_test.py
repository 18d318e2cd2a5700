"""Tests of the batchify/BPTT `tf.data` pipeline for stateful LMs."""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from mi_zoo.data.text import lm_dataset


class LmDatasetTest(parameterized.TestCase):
    def test_batchify(self):
        np.testing.assert_array_equal(
            lm_dataset.batchify(np.arange(11), 3),
            [[0, 1, 2], [3, 4, 5], [6, 7, 8]],
        )

    @parameterized.parameters(
        (23, 2, 3, True, 3),
        (23, 2, 3, False, 4),
        (100, 4, 6, True, 4),
        (100, 4, 6, False, 4),
        (1000, 7, 10, True, 14),
    )
    def test_num_batches(self, n, b, t, drop, expected):
        self.assertEqual(lm_dataset.num_batches(n, b, t, drop), expected)
        ds = lm_dataset.lm_dataset(np.arange(n), b, t, drop)
        self.assertEqual(int(ds.cardinality()), expected)
        self.assertLen(list(ds), expected)

    @parameterized.parameters(True, False)
    def test_windows_continue_each_stream(self, drop):
        n, b, t = 103, 4, 5
        ids = np.arange(n) * 7 % 101  # Any ids; position is recoverable.
        length = n // b
        batches = list(lm_dataset.lm_dataset(ids, b, t, drop))
        for k, (x, y) in enumerate(batches):
            x, y = x.numpy(), y.numpy()
            size = x.shape[1]
            self.assertEqual(
                size,
                t if drop or k < len(batches) - 1 else (length - 1) - k * t,
            )
            for row in range(b):
                start = row * length + k * t
                np.testing.assert_array_equal(
                    x[row], ids[start : start + size]
                )
                np.testing.assert_array_equal(
                    y[row], ids[start + 1 : start + 1 + size]
                )
        # Concatenating a stream's windows gives the stream, minus its last
        # token (only a target), with drop_remainder=False.
        if not drop:
            stream = np.concatenate([x.numpy()[1] for x, _ in batches])
            np.testing.assert_array_equal(stream, ids[length : 2 * length - 1])

    def test_static_shapes_and_dtype(self):
        ds = lm_dataset.lm_dataset(np.arange(50, dtype=np.int64), 2, 4)
        spec = ds.element_spec
        self.assertEqual(tuple(spec[0].shape), (2, 4))
        self.assertEqual(tuple(spec[1].shape), (2, 4))
        self.assertEqual(spec[0].dtype.name, "int32")

    def test_deterministic(self):
        ids = np.random.default_rng(0).integers(0, 9, 500)
        first = [x.numpy() for x, _ in lm_dataset.lm_dataset(ids, 3, 7)]
        second = [x.numpy() for x, _ in lm_dataset.lm_dataset(ids, 3, 7)]
        np.testing.assert_array_equal(first, second)

    def test_sequence_length_longer_than_data(self):
        with self.assertRaisesRegex(
            ValueError,
            r"sequence_length=10 is longer than the data: 20 tokens in "
            r"batch_size=2 streams give 10 tokens per stream, so at most "
            r"9 input positions.*--sequence_length",
        ):
            lm_dataset.lm_dataset(np.arange(20), 2, 10)

    def test_batch_size_too_large(self):
        with self.assertRaisesRegex(
            ValueError,
            r"batch_size=6 is too large "
            r"for the data: 11 tokens",
        ):
            lm_dataset.num_batches(11, 6, 1)

    @parameterized.parameters(
        ("batch_size", 0), ("sequence_length", -1), ("sequence_length", 2.0)
    )
    def test_bad_sizes(self, name, value):
        kwargs = {"batch_size": 2, "sequence_length": 3, name: value}
        with self.assertRaisesRegex(
            ValueError,
            rf"`{name}` must be a "
            rf"positive integer, got {name}=",
        ):
            lm_dataset.lm_dataset(np.arange(40), **kwargs)

    def test_bad_ids(self):
        with self.assertRaisesRegex(
            ValueError,
            r"1-D token stream, got "
            r"shape \(4, 5\)",
        ):
            lm_dataset.lm_dataset(np.zeros((4, 5), np.int32), 2, 2)
        with self.assertRaisesRegex(
            ValueError, "integer token ids, got dtype float"
        ):
            lm_dataset.lm_dataset(np.zeros(40), 2, 2)


if __name__ == "__main__":
    absltest.main()
