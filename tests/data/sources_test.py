"""The generic pieces of the dataset loaders (mi_zoo.data.sources)."""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from mi_zoo.core import registry
from mi_zoo.data import sources


def request(**overrides):
    args = dict(
        name="toy",
        batch_size=4,
        eval_batch_size=8,
        seed=0,
        data_dir=None,
        image_kind=None,
        eval_split=None,
        train_limit=None,
        eval_limit=None,
        options=None,
    )
    args.update(overrides)
    return sources.checked_request(**args)


class SourcesTest(parameterized.TestCase):
    def test_checked_request_copies_the_options(self):
        options = {"config": "small"}
        r = request(options=options)
        self.assertIsInstance(r, sources.Request)
        self.assertEqual(r.options, {"config": "small"})
        self.assertIsNot(r.options, options)
        self.assertEqual(request().options, {})

    @parameterized.parameters(
        (dict(batch_size=0), "batch_size"),
        (dict(eval_batch_size=-1), "eval_batch_size"),
        (
            dict(seed=-1),
            "`seed` (--seed) must be a non-negative integer, got seed=-1.",
        ),
        (dict(seed=True), "got seed=True."),
        (dict(train_limit=0), "train_limit"),
        (dict(eval_limit=1.5), "eval_limit"),
        (
            dict(options=["config"]),
            "`options` must be a mapping (dict) or "
            "None, got options=['config'].",
        ),
    )
    def test_checked_request_errors(self, overrides, message):
        with self.assertRaises(ValueError) as error:
            request(**overrides)
        self.assertIn(message, str(error.exception))

    def test_choose_image_kind_and_split(self):
        self.assertEqual(
            sources.choose_image_kind("toy", None, ("a", "b")), "a"
        )
        self.assertEqual(
            sources.choose_image_kind("toy", "b", ("a", "b")), "b"
        )
        self.assertEqual(
            sources.choose_split("toy", None, ("val", "test")), "val"
        )
        with self.assertRaisesRegex(
            ValueError,
            r"`image_kind` \(--image_kind\) must be one of "
            r"\('a',\) for the 'toy' dataset, got image_kind='b'\.$",
        ):
            sources.choose_image_kind("toy", "b", ("a",))
        with self.assertRaisesRegex(
            ValueError,
            r"`eval_split` \(--eval_split\) must be one of "
            r"\('val',\) for the 'toy' dataset, got eval_split='x'\.$",
        ):
            sources.choose_split("toy", "x", ("val",))
        with self.assertRaisesRegex(
            ValueError,
            r"`config` \(--config\) must be one of "
            r"\('a', 'b'\) for the 'toy' dataset, got config='c'\.$",
        ):
            sources.choose("toy", "c", ("a", "b"), "config")

    def test_check_options(self):
        self.assertEqual(
            sources.check_options("toy", {"a": 2}, {"a": 1, "b": 0}),
            {"a": 2, "b": 0},
        )
        with self.assertRaisesRegex(
            ValueError,
            r"unknown `options` \['c'\] for the 'toy' "
            r"dataset; it accepts \['a'\], got options=\{'c': 1\}\.$",
        ):
            sources.check_options("toy", {"c": 1}, {"a": 1})

    def test_data_dir_checks(self):
        with tempfile.TemporaryDirectory() as folder:
            self.assertEqual(
                sources.require_data_dir("toy", folder, "x"), folder
            )
            missing = os.path.join(folder, "missing")
            with self.assertRaisesRegex(
                FileNotFoundError,
                r"does not exist; it must be a "
                r"directory holding x\.$",
            ):
                sources.require_data_dir("toy", missing, "x")
        with self.assertRaisesRegex(
            ValueError,
            r"got data_dir=None: it must be a "
            r"directory holding x\.$",
        ):
            sources.require_data_dir("toy", None, "x")
        with self.assertRaisesRegex(
            ValueError,
            r"must be a path, got "
            r"data_dir=3\.$",
        ):
            sources.require_data_dir("toy", 3, "x")
        sources.reject_data_dir("toy", None)
        with self.assertRaisesRegex(
            ValueError,
            r"leave `data_dir` "
            r"\(--data_dir\) unset, got "
            r"data_dir='/tmp'\.$",
        ):
            sources.reject_data_dir("toy", "/tmp")

    def test_limited_keeps_the_first_examples(self):
        def make(batch_size, shuffle):
            del shuffle
            return tf.data.Dataset.range(10).batch(batch_size)

        whole = sources.limited(
            make,
            None,
            batch_size=4,
            shuffle=False,
            seed=0,
            repeat=False,
            drop_remainder=False,
        )
        self.assertEqual(
            [b.numpy().tolist() for b in whole],
            [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]],
        )
        first = sources.limited(
            make,
            5,
            batch_size=2,
            shuffle=False,
            seed=0,
            repeat=False,
            drop_remainder=True,
        )
        self.assertEqual([b.numpy().tolist() for b in first], [[0, 1], [2, 3]])
        shuffled = sources.limited(
            make,
            5,
            batch_size=5,
            shuffle=True,
            seed=1,
            repeat=True,
            drop_remainder=True,
        )
        batches = [b.numpy() for b in shuffled.take(3)]
        for batch in batches:  # Every epoch holds the same first 5 examples.
            np.testing.assert_array_equal(np.sort(batch), np.arange(5))

    def test_limited_pipelines_follow_the_request(self):
        calls = []

        def read(split, batch_size, shuffle, seed, drop_remainder):
            calls.append((split, batch_size, shuffle, seed, drop_remainder))
            first = {"train": 0, "val": 100}[split]
            return tf.data.Dataset.range(first, first + 10).batch(batch_size)

        r = request(batch_size=2, eval_batch_size=4, seed=3, eval_limit=5)
        train, evaluation = sources.limited_pipelines(r, read, "train", "val")
        self.assertEqual(
            calls, [("train", 2, True, 3, True), ("val", 1, False, 0, False)]
        )
        self.assertEqual(
            [b.numpy().tolist() for b in evaluation],
            [[100, 101, 102, 103], [104]],
        )
        limited = sources.limited_pipelines(
            request(batch_size=2, train_limit=3), read, "train", "val"
        )[0]
        for batch in limited.take(6):  # Full batches of the first 3, forever.
            self.assertEqual(batch.shape, (2,))
            self.assertTrue(set(batch.numpy()) <= {0, 1, 2})

    def test_batched_maps_in_order_and_shuffles_each_epoch(self):
        rows = tf.data.Dataset.range(5)
        plain = sources.batched(rows, lambda r: 10 * r, 2, False, 0, False, 5)
        self.assertEqual(
            [b.numpy().tolist() for b in plain], [[0, 10], [20, 30], [40]]
        )
        full = sources.batched(rows, lambda r: r, 2, False, 0, True, 5)
        self.assertEqual([b.numpy().tolist() for b in full], [[0, 1], [2, 3]])
        shuffled = sources.batched(
            rows, lambda r: r, 5, True, 3, True, 5, True
        )
        epochs = [b.numpy().tolist() for b in shuffled.take(8)]
        for epoch in epochs:  # Each batch is one whole epoch here.
            self.assertEqual(sorted(epoch), [0, 1, 2, 3, 4])
        self.assertGreater(len({tuple(e) for e in epochs}), 1)

    def test_limited_count(self):
        self.assertEqual(sources.limited_count(7, None), 7)
        self.assertEqual(sources.limited_count(7, 3), 3)
        self.assertEqual(sources.limited_count(2, 3), 2)

    def test_load_checks_the_name_then_the_request(self):
        datasets = registry.Registry("toy dataset")
        datasets.register("toy")(lambda r: r)
        r = sources.load(
            datasets, "toy", batch_size=4, eval_batch_size=8, seed=1
        )
        self.assertEqual(r, request(seed=1, options={}))
        with self.assertRaisesRegex(
            ValueError, r"Unknown toy dataset 'other'"
        ):
            sources.load(datasets, "other", batch_size=0)
        with self.assertRaisesRegex(ValueError, r"batch_size"):
            sources.load(
                datasets, "toy", batch_size=0, eval_batch_size=8, seed=1
            )


if __name__ == "__main__":
    absltest.main()
