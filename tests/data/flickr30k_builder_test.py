"""Tests of the Flickr30k TFDS builder: built from fixtures in the original
formats, read back, compared with the `flickr30k` reader."""

import os
import tempfile

from absl.testing import absltest
import numpy as np
import tensorflow_datasets as tfds

from mi_zoo.data import flickr30k
from mi_zoo.data import images
from mi_zoo.data import tfds_manual
from mi_zoo.data.flickr30k import builder as flickr30k_builder
from tests.data import fixtures

SPLITS = {
    "1000092795.jpg": "train",
    "10002456.jpg": "test",
    "1000268201.jpg": "val",
}


def build(manual, data_dir, config="karpathy"):
    builder = flickr30k_builder.Flickr30k(config=config, data_dir=data_dir)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=manual)
    )
    return builder


def as_list(x):
    return x.to_list() if hasattr(x, "to_list") else np.asarray(x).tolist()


class Flickr30kBuilderTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.TemporaryDirectory()
        cls.manual = os.path.join(cls.tmp.name, "manual")
        fixtures.write_flickr30k(cls.manual, splits=SPLITS)
        cls.data_dir = os.path.join(cls.tmp.name, "tfds")
        for config in ("karpathy", "token_file"):
            build(cls.manual, cls.data_dir, config)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()
        super().tearDownClass()

    def records(self, config, split):
        builder = flickr30k_builder.Flickr30k(
            config=config, data_dir=self.data_dir
        )
        return builder, {
            r["image_filename"].decode(): r
            for r in tfds.as_numpy(builder.as_dataset(split=split))
        }

    def test_name_and_splits(self):
        builder = flickr30k_builder.Flickr30k(data_dir=self.data_dir)
        self.assertEqual(builder.name, "flickr30k")
        self.assertEqual(builder.builder_config.name, "karpathy")
        self.assertEqual(
            {k: v.num_examples for k, v in builder.info.splits.items()},
            {"train": 1, "validation": 1, "test": 1},
        )
        token = flickr30k_builder.Flickr30k(
            config="token_file", data_dir=self.data_dir
        )
        self.assertEqual(token.info.splits["full"].num_examples, 3)

    def test_records_equal_the_reader(self):
        for config, splits, source in (
            (
                "karpathy",
                {"train": "train", "validation": "val", "test": "test"},
                "karpathy",
            ),
            ("token_file", {"full": "all"}, "token"),
        ):
            for split, name in splits.items():
                builder, records = self.records(config, split)
                vocab = tfds_manual.word_vocabulary(builder, "captions/tokens")
                self.assertEqual(
                    vocab,
                    flickr30k.build_vocab(
                        self.manual,
                        "train" if source == "karpathy" else "all",
                        source,
                    ),
                )
                pairs = flickr30k.split_examples(self.manual, name, source)
                self.assertCountEqual(
                    records, [os.path.basename(p) for p, _ in pairs]
                )
                for path, captions in pairs:
                    r = records[os.path.basename(path)]
                    self.assertEqual(
                        [t.decode() for t in r["captions"]["text"]], captions
                    )
                    self.assertEqual(
                        as_list(r["captions"]["tokens"]),
                        [vocab.encode(c).tolist() for c in captions],
                    )
                # Pixels: the reader's pipeline resizes exactly what the
                # record holds.
                ds = flickr30k.flickr30k_dataset(
                    self.manual,
                    name,
                    vocab,
                    1,
                    source=source,
                    image_size=(6, 4),
                )
                for batch in ds:
                    path = pairs[int(batch["image_index"][0])][0]
                    record = records[os.path.basename(path)]
                    np.testing.assert_allclose(
                        images.resize_image(record["image"], (6, 4)),
                        batch["image"][0],
                        atol=1e-6,
                    )

    def test_missing_karpathy_file_names_it(self):
        manual = fixtures.tempdir(self)
        fixtures.write_flickr30k(manual, karpathy=False)
        with self.assertRaisesRegex(
            FileNotFoundError,
            r"config 'karpathy' "
            r"needs the Karpathy split file "
            r"'.*dataset_flickr30k.json'.*build "
            r"config 'token_file'",
        ):
            build(manual, fixtures.tempdir(self))

    def test_missing_manual_dir_names_it_and_the_files(self):
        missing = os.path.join(fixtures.tempdir(self), "flickr")
        with self.assertRaisesRegex(
            FileNotFoundError,
            rf"(?s)Building 'flickr30k' needs the original files in its "
            rf"manual directory.*{missing} does not exist or is empty"
            rf".*flickr30k-images/1000092795.jpg.*dataset_flickr30k.json",
        ):
            build(missing, fixtures.tempdir(self))

    def test_missing_image_is_named(self):
        manual = fixtures.tempdir(self)
        fixtures.write_flickr30k(manual, splits=SPLITS)
        os.remove(os.path.join(manual, "flickr30k-images", "10002456.jpg"))
        with self.assertRaisesRegex(
            FileNotFoundError,
            r"Flickr30k image "
            r"'.*10002456.jpg' does not exist",
        ):
            build(manual, fixtures.tempdir(self))


if __name__ == "__main__":
    absltest.main()
