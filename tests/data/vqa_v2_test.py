"""Tests of the VQA v2 reader on tiny fixtures in the official formats."""

import json
import os
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from mi_zoo.data import vocabulary
from mi_zoo.data import vqa_answers
from mi_zoo.data import vqa_v2
from mi_zoo.models import objectives
from tests.data import fixtures


class VqaV2Test(parameterized.TestCase):
    def setUp(self):
        super().setUp()
        self.dir = fixtures.tempdir(self)
        self.qpath, self.apath = fixtures.write_vqa_json(self.dir)
        self.answers = vqa_answers.AnswerVocab(
            ["2", "brown", "yes", "plate", "laptop", "0"]
        )
        self.qvocab = vocabulary.Vocabulary.from_texts(
            q for _, _, q in fixtures.VQA_QUESTIONS
        )

    def features(self, kind):
        if kind == "tsv":
            tsv = fixtures.write_tsv(os.path.join(self.dir, "f.tsv"))
            return vqa_v2.convert_tsv(tsv, os.path.join(self.dir, "npy"))
        return fixtures.write_ban_hdf5(self.dir)

    def dataset(self, features, **kwargs):
        kwargs.setdefault("batch_size", 2)
        return vqa_v2.vqa_v2_dataset(
            self.qpath,
            self.apath,
            features,
            self.answers,
            question_vocab=self.qvocab,
            **kwargs,
        )

    @parameterized.parameters("tsv", "hdf5")
    def test_examples(self, kind):
        features = self.features(kind)
        batches = list(self.dataset(features))
        self.assertLen(batches, 3)
        inputs, targets = batches[0]
        self.assertEqual(inputs["question"].dtype.name, "int32")
        self.assertEqual(inputs["question"].shape, (2, 14))
        self.assertEqual(inputs["image"].shape, (2, 36, 2048))
        self.assertEqual(inputs["boxes"].shape, (2, 36, 4))
        np.testing.assert_array_equal(inputs["num_boxes"], [36, 36])
        self.assertEqual(targets.shape, (2, 6))
        qids = np.concatenate([b[0]["question_id"] for b in batches])
        np.testing.assert_array_equal(qids, [10, 11, 20, 30, 31])
        for b, (x, _) in enumerate(batches):
            for k, qid in enumerate(x["question_id"].numpy()):
                image_id = {10: 1, 11: 1, 20: 2, 30: 3, 31: 3}[int(qid)]
                feats, boxes = fixtures.region_features(image_id)
                w, h = fixtures.IMAGE_SIZES[image_id]
                np.testing.assert_array_equal(x["image"][k], feats)
                np.testing.assert_allclose(
                    x["boxes"][k], boxes / np.array([w, h, w, h]), rtol=1e-6
                )
        self.assertEqual(
            self.qvocab.decode_text(inputs["question"][0].numpy()),
            "what color is the dog",
        )
        all_targets = np.concatenate([b[1] for b in batches])
        # Answer counts by default: q10: 8 x brown; q11: 6 x "2" (3 x "3",
        # "many" dropped); q30: "a laptop" x 2 -> "laptop", plate x 6.
        np.testing.assert_array_equal(all_targets[0], [0, 8, 0, 0, 0, 0])
        np.testing.assert_array_equal(all_targets[1], [6, 0, 0, 0, 0, 0])
        np.testing.assert_array_equal(all_targets[3], [0, 0, 0, 6, 2, 0])
        # target="soft": min(n / 3, 1).
        soft = np.concatenate(
            [b[1] for b in self.dataset(features, target="soft")]
        )
        np.testing.assert_allclose(soft[3], [0, 0, 0, 1, 2 / 3, 0], rtol=1e-6)

    def test_strict_counts_give_the_official_accuracy(self):
        # strict=True counts as the official evaluator matches strings:
        # q10 "Brown." stays "Brown" (7 x brown), q11 "two" stays "two"
        # (2 x "2"), q30 "a laptop" keeps its article (0 x laptop).
        ds = self.dataset(self.features("hdf5"), strict=True, batch_size=5)
        inputs, counts = next(iter(ds))
        np.testing.assert_array_equal(
            counts,
            [
                [0, 7, 0, 0, 0, 0],
                [2, 0, 0, 0, 0, 0],
                [0, 0, 9, 0, 0, 0],
                [0, 0, 0, 6, 0, 0],
                [0, 0, 0, 0, 0, 10],
            ],
        )
        for k, qid in enumerate(inputs["question_id"].numpy()):
            for a, answer in enumerate(self.answers.answers):
                self.assertAlmostEqual(
                    float(vqa_answers.count_accuracy(counts[k, a])),
                    vqa_answers.official_accuracy(
                        answer, fixtures.VQA_ANSWERS[int(qid)]
                    ),
                    places=6,
                )

    def test_counts_targets_feed_vqa_accuracy(self):
        ds = self.dataset(self.features("hdf5"), target="counts", batch_size=5)
        inputs, counts = next(iter(ds))
        np.testing.assert_array_equal(counts[1], [6, 0, 0, 0, 0, 0])
        metric = objectives.VqaAccuracy()
        metric.update_state(counts, np.eye(6)[[1, 0, 2, 4, 5]])
        expected = np.mean([1.0, 1.0, 1.0, vqa_answers.count_accuracy(2), 1.0])
        self.assertAlmostEqual(float(metric.result()), expected, places=6)

    def test_shuffle_is_seeded(self):
        features = self.features("tsv")

        def order(seed):
            ds = self.dataset(features, shuffle=True, seed=seed, batch_size=5)
            return [int(q) for x, _ in ds for q in x["question_id"]]

        self.assertEqual(order(3), order(3))
        self.assertCountEqual(order(3), [10, 11, 20, 30, 31])
        self.assertNotEqual(order(3), order(4))

    def test_tsv_cache_dir_and_no_annotations(self):
        tsv = fixtures.write_tsv(os.path.join(self.dir, "f.tsv"))
        cache = os.path.join(self.dir, "cache")
        ds = vqa_v2.vqa_v2_dataset(
            self.qpath, None, tsv, self.answers, 5, tsv_cache_dir=cache
        )
        inputs = next(iter(ds))
        self.assertIsInstance(inputs, dict)
        self.assertEqual(inputs["image"].shape, (5, 36, 2048))
        self.assertTrue(os.path.isfile(os.path.join(cache, "image_ids.npy")))

    def test_convert_pads_fewer_boxes(self):
        tsv = fixtures.write_tsv(
            os.path.join(self.dir, "f.tsv"), num_boxes=10, dim=8
        )
        out = vqa_v2.convert_tsv(
            tsv, os.path.join(self.dir, "n"), num_boxes=12
        )
        store = vqa_v2.FeatureStore(out)
        feats, boxes, count = store.read_row(store.row_of[2])
        self.assertEqual(feats.shape, (12, 8))
        self.assertEqual(boxes.shape, (12, 4))
        self.assertEqual(count, 10)
        np.testing.assert_array_equal(feats[10:], 0)
        np.testing.assert_array_equal(
            np.load(os.path.join(out, "num_boxes.npy")), [10, 10, 10]
        )
        with self.assertRaisesRegex(
            ValueError,
            r"image 1 has 10 boxes, more "
            r"than num_boxes=4",
        ):
            vqa_v2.convert_tsv(tsv, os.path.join(self.dir, "m"), num_boxes=4)

    def test_feature_ids_do_not_match_questions(self):
        tsv = fixtures.write_tsv(
            os.path.join(self.dir, "f.tsv"), image_ids=(1, 2), dim=8
        )
        npy = vqa_v2.convert_tsv(tsv, os.path.join(self.dir, "npy"))
        with self.assertRaisesRegex(
            ValueError,
            r"features '.*npy' have no "
            r"image 3 \(question 30 of '.*train2014_"
            r"questions.json'\)",
        ):
            self.dataset(npy)

    def test_question_without_annotation(self):
        with open(self.apath) as f:
            data = json.load(f)
        data["annotations"] = data["annotations"][:-1]
        with open(self.apath, "w") as f:
            json.dump(data, f)
        with self.assertRaisesRegex(
            ValueError,
            r"annotations file '.*' has no "
            r"entry for question 31",
        ):
            self.dataset(self.features("hdf5"))

    def test_bad_json_files(self):
        features = self.features("hdf5")
        with open(self.qpath, "w") as f:
            f.write('{"questions": [{"image_id": 1, "quest')
        with self.assertRaisesRegex(
            ValueError,
            r"VQA questions file "
            r"'.*questions.json' is not valid JSON",
        ):
            self.dataset(features)
        open(self.qpath, "w").close()
        with self.assertRaisesRegex(
            ValueError,
            r"VQA questions file "
            r"'.*questions.json' is empty",
        ):
            self.dataset(features)
        with open(self.qpath, "w") as f:
            json.dump({"questions": []}, f)
        with self.assertRaisesRegex(ValueError, "has no questions"):
            self.dataset(features)
        with open(self.apath, "w") as f:
            json.dump({"info": {}}, f)
        with self.assertRaisesRegex(
            ValueError,
            r"VQA annotations file "
            r"'.*annotations.json' has no "
            r"\"annotations\" list",
        ):
            vqa_v2.load_annotations(self.apath)

    def test_bad_feature_files(self):
        empty = os.path.join(self.dir, "empty.tsv")
        open(empty, "w").close()
        with self.assertRaisesRegex(
            ValueError,
            r"features TSV '.*empty.tsv' "
            r"is empty",
        ):
            vqa_v2.convert_tsv(empty, os.path.join(self.dir, "o"))
        short = os.path.join(self.dir, "short.tsv")
        with open(short, "w") as f:
            f.write("1\t640\t480\t36\n")
        with self.assertRaisesRegex(
            ValueError,
            r"'.*short.tsv': line 1 does "
            r"not have the 6 fields",
        ):
            vqa_v2.convert_tsv(short, os.path.join(self.dir, "o"))
        with self.assertRaisesRegex(
            ValueError,
            r"'.*short.tsv' is a TSV; "
            r"convert it",
        ):
            vqa_v2.FeatureStore(short)
        h5 = fixtures.write_ban_hdf5(self.dir)
        os.remove(os.path.join(self.dir, "train36_imgid2idx.pkl"))
        with self.assertRaisesRegex(
            FileNotFoundError,
            r"needs its image-id "
            r"index '.*train36_imgid2idx.pkl'",
        ):
            vqa_v2.FeatureStore(h5)
        with self.assertRaisesRegex(
            ValueError,
            r"neither a convert_tsv "
            r"directory nor",
        ):
            vqa_v2.FeatureStore(os.path.join(self.dir, "nothing"))

    def test_ban_adaptive_boxes(self):
        h5 = fixtures.write_ban_adaptive_hdf5(self.dir, dim=8)
        store = vqa_v2.FeatureStore(h5)
        self.assertEqual(store.kind, "hdf5_pos_boxes")
        self.assertEqual(store.shape, (15, 8))  # the most boxes, image 3
        batches = list(self.dataset(h5))
        qids = np.concatenate([b[0]["question_id"] for b in batches])
        np.testing.assert_array_equal(qids, [10, 11, 20, 30, 31])
        for x, _ in batches:
            self.assertEqual(x["image"].shape[1:], (15, 8))
            self.assertEqual(x["boxes"].shape[1:], (15, 4))
            for k, qid in enumerate(x["question_id"].numpy()):
                image_id = {10: 1, 11: 1, 20: 2, 30: 3, 31: 3}[int(qid)]
                n = fixtures.BAN_ADAPTIVE_BOXES[image_id]
                feats, boxes = fixtures.region_features(image_id, n, 8)
                w, h = fixtures.IMAGE_SIZES[image_id]
                self.assertEqual(int(x["num_boxes"][k]), n)
                np.testing.assert_array_equal(x["image"][k][:n], feats)
                np.testing.assert_array_equal(x["image"][k][n:], 0)
                np.testing.assert_allclose(
                    x["boxes"][k][:n],
                    boxes / np.array([w, h, w, h]),
                    rtol=1e-6,
                )
                np.testing.assert_array_equal(x["boxes"][k][n:], 0)
        padded = vqa_v2.FeatureStore(h5, max_boxes=20)
        feats, _, count = padded.read_image(2)
        self.assertEqual((feats.shape, int(count)), ((20, 8), 10))
        with self.assertRaisesRegex(
            ValueError,
            r"features '.*train.hdf5' "
            r"have no image 7",
        ):
            padded.read_image(7)

    def test_ban_adaptive_reads_lazily(self):
        h5 = fixtures.write_ban_adaptive_hdf5(self.dir, dim=8)
        store = vqa_v2.FeatureStore(h5)
        import h5py  # pylint: disable=g-import-not-at-top

        reads = []
        real = h5py.Dataset.__getitem__

        def spy(dataset, key):
            reads.append((dataset.name, key))
            return real(dataset, key)

        with mock.patch.object(h5py.Dataset, "__getitem__", spy):
            store.read_image(1)
        # Only image 1's slice (row 1: boxes 15..27) of the two datasets.
        self.assertEqual(
            reads,
            [
                ("/image_features", slice(15, 27)),
                ("/spatial_features", (slice(15, 27), slice(None, 4))),
            ],
        )

    def test_ban_adaptive_bad_inputs(self):
        import h5py  # pylint: disable=g-import-not-at-top

        h5 = fixtures.write_ban_adaptive_hdf5(self.dir, dim=8)
        with self.assertRaisesRegex(
            ValueError,
            r"'.*train.hdf5': image "
            r"index 0 has 15 boxes, more than "
            r"max_boxes=12",
        ):
            vqa_v2.FeatureStore(h5, max_boxes=12)
        with self.assertRaisesRegex(
            ValueError,
            r"`max_boxes` must be a "
            r"positive integer, got max_boxes=0",
        ):
            vqa_v2.FeatureStore(h5, max_boxes=0)
        fixed = fixtures.write_ban_hdf5(self.dir, dim=8)
        with self.assertRaisesRegex(
            ValueError,
            r"`max_boxes` applies to "
            r"adaptive-box HDF5 files .*train36.hdf5"
            r"' has a fixed 36 boxes, got "
            r"max_boxes=40",
        ):
            vqa_v2.FeatureStore(fixed, max_boxes=40)
        cases = [
            (
                [[0, 15], [15, 27], [27, 38]],
                r"pos_boxes\[2\] = \[27, 38\] is "
                r"out of range; each \(start, end\) needs 0 <= start <= end <= "
                r"37",
            ),
            (
                [[0, 15], [16, 12], [27, 37]],
                r"pos_boxes\[1\] = \[16, 12\] is "
                r"out of range",
            ),
            ([[-1, 15], [15, 27], [27, 37]], r"pos_boxes\[0\] = \[-1, 15\]"),
            (
                [0, 15, 27],
                r"pos_boxes must be \[num_images, 2\] \(start, "
                r"end\), got shape \(3,\)",
            ),
            (
                [[0.0, 15.0], [15, 27], [27, 37]],
                r"pos_boxes must hold "
                r"integers, got dtype float",
            ),
        ]
        for pos, message in cases:
            with h5py.File(h5, "a") as f:
                del f["pos_boxes"]
                f.create_dataset("pos_boxes", data=np.array(pos))
            with self.assertRaisesRegex(
                ValueError,
                rf"features file "
                rf"'.*train.hdf5': {message}",
            ):
                vqa_v2.FeatureStore(h5)
        with h5py.File(h5, "a") as f:
            del f["pos_boxes"]
            f.create_dataset("pos_boxes", data=np.array([[0, 15], [15, 27]]))
        with self.assertRaisesRegex(
            ValueError,
            r"image-id index "
            r"'.*train_imgid2idx.pkl' points image 2 "
            r"past the 2 rows of '.*train.hdf5'",
        ):
            vqa_v2.FeatureStore(h5)
        with h5py.File(h5, "a") as f:
            del f["spatial_features"]
            f.create_dataset("spatial_features", data=np.zeros((3, 6)))
        with self.assertRaisesRegex(
            ValueError,
            r"'.*train.hdf5': "
            r"spatial_features has 3 rows, "
            r"image_features 37",
        ):
            vqa_v2.FeatureStore(h5)

    def test_split_files_missing(self):
        with self.assertRaisesRegex(
            FileNotFoundError,
            r"manual directory "
            r"'/no/such/dir' does not exist",
        ):
            vqa_v2.split_files("/no/such/dir", "train2014")
        with self.assertRaisesRegex(
            FileNotFoundError,
            r"annotations file "
            r"'.*val2014_annotations.json' is missing",
        ):
            fixtures.write_vqa_json(self.dir, "val2014")
            os.remove(
                os.path.join(self.dir, "v2_mscoco_val2014_annotations.json")
            )
            vqa_v2.split_files(self.dir, "val2014")
        paths = vqa_v2.split_files(self.dir, "train2014")
        self.assertEqual(paths["questions"], self.qpath)


if __name__ == "__main__":
    absltest.main()
