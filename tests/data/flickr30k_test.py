"""Tests of the Flickr30k reader on a tiny fixture in the real formats."""

import json
import os

from absl.testing import absltest
import numpy as np

from mi_zoo.data import flickr30k
from tests.data import fixtures


class Flickr30kTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.dir = fixtures.tempdir(self)

    def test_token_file(self):
        fixtures.write_flickr30k(self.dir, karpathy=False)
        caps = flickr30k.read_token_file(
            os.path.join(self.dir, flickr30k.TOKEN_FILE)
        )
        self.assertEqual(caps, dict(sorted(fixtures.FLICKR_CAPTIONS.items())))

    def test_karpathy_split(self):
        fixtures.write_flickr30k(self.dir, token_file=False)
        splits = flickr30k.read_karpathy_split(
            os.path.join(self.dir, flickr30k.KARPATHY_FILE)
        )
        self.assertEqual(
            [n for n, _ in splits["train"]],
            ["1000092795.jpg", "1000268201.jpg"],
        )
        self.assertEqual(
            splits["test"][0][1], fixtures.FLICKR_CAPTIONS["10002456.jpg"]
        )

    def test_dataset_karpathy(self):
        fixtures.write_flickr30k(self.dir)
        vocab = flickr30k.build_vocab(self.dir)
        self.assertNotIn("pulley", vocab)  # a test-split word
        ds = flickr30k.flickr30k_dataset(
            self.dir,
            "train",
            vocab,
            3,
            image_size=(10, 8),
            max_caption_length=6,
        )
        batches = list(ds)
        self.assertLen(batches, 2)
        b = batches[0]
        self.assertEqual(b["image"].shape, (3, 10, 8, 3))
        self.assertEqual(b["caption"].dtype.name, "int32")
        self.assertEqual(b["caption"].shape, (3, 6))
        self.assertEqual(
            vocab.decode_text(b["caption"][0].numpy()),
            "two young guys with shaggy hair",
        )
        index = np.concatenate([x["image_index"] for x in batches])
        np.testing.assert_array_equal(index, [0, 0, 1, 1])
        np.testing.assert_allclose(b["image"][0, 5, 4], [1, 0, 0], atol=0.02)
        np.testing.assert_allclose(
            batches[1]["image"][0, 5, 4], [0, 0, 1], atol=0.02
        )

    def test_dataset_token_file_all_and_seeded_shuffle(self):
        fixtures.write_flickr30k(self.dir, karpathy=False)
        vocab = flickr30k.build_vocab(self.dir, "all")

        def order(seed):
            ds = flickr30k.flickr30k_dataset(
                self.dir,
                "all",
                vocab,
                5,
                image_size=(4, 4),
                shuffle=True,
                seed=seed,
            )
            return next(iter(ds))["caption"][:, 0].numpy().tolist()

        self.assertEqual(order(2), order(2))
        self.assertLen(order(2), 5)
        with self.assertRaisesRegex(
            ValueError,
            r"split='train' needs the "
            r"Karpathy split file '.*dataset_"
            r"flickr30k.json'",
        ):
            flickr30k.flickr30k_dataset(self.dir, "train", vocab, 2)

    def test_source_choice(self):
        fixtures.write_flickr30k(self.dir)
        pairs = flickr30k.split_examples(self.dir, "all", source="token")
        self.assertLen(pairs, 3)
        with self.assertRaisesRegex(ValueError, r"`source` must be one of"):
            flickr30k.split_examples(self.dir, "all", source="coco")

    def test_bad_inputs(self):
        with self.assertRaisesRegex(
            FileNotFoundError,
            r"Flickr30k manual "
            r"directory '/no/flickr' does not exist",
        ):
            flickr30k.split_examples("/no/flickr", "all")
        with self.assertRaisesRegex(
            FileNotFoundError,
            r"token file "
            r"'.*results_20130124.token' does not "
            r"exist",
        ):
            flickr30k.split_examples(self.dir, "all")
        fixtures.write_flickr30k(self.dir)
        token = os.path.join(self.dir, flickr30k.TOKEN_FILE)
        with open(token, "a") as f:
            f.write("broken line without tab\n")
        with self.assertRaisesRegex(
            ValueError,
            r"'.*results_20130124.token': "
            r"line 6 is not 'image.jpg#i<TAB>"
            r"caption'",
        ):
            flickr30k.read_token_file(token)
        open(token, "w").close()
        with self.assertRaisesRegex(ValueError, r"token file '.*' is empty"):
            flickr30k.read_token_file(token)
        karpathy = os.path.join(self.dir, flickr30k.KARPATHY_FILE)
        with open(karpathy) as f:
            text = f.read()
        with open(karpathy, "w") as f:
            f.write(text[:50])
        with self.assertRaisesRegex(
            ValueError,
            r"Karpathy split file "
            r"'.*dataset_flickr30k.json' is not valid "
            r"JSON",
        ):
            flickr30k.split_examples(self.dir, "train")
        with open(karpathy, "w") as f:
            json.dump({"images": [{"filename": "x.jpg"}]}, f)
        with self.assertRaisesRegex(
            ValueError,
            r"image 0 lacks filename, "
            r"split or sentences",
        ):
            flickr30k.split_examples(self.dir, "train")

    def test_missing_image_and_split(self):
        fixtures.write_flickr30k(self.dir)
        with self.assertRaisesRegex(ValueError, r"has no 'val' images"):
            flickr30k.split_examples(self.dir, "val")
        os.remove(os.path.join(self.dir, "flickr30k-images", "10002456.jpg"))
        with self.assertRaisesRegex(
            FileNotFoundError,
            r"Flickr30k image "
            r"'.*10002456.jpg' does not exist",
        ):
            flickr30k.split_examples(self.dir, "test")


if __name__ == "__main__":
    absltest.main()
