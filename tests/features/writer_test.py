"""mi_zoo.features.writer on 50 generated JPEG/PNG files: the layouts that
the vqa_v2 readers read (convert_tsv's arrays, BAN's HDF5 file), features
read back equal to features computed in memory, resume after an
interruption, unreadable and unnamed files."""

import os
import shutil
import tempfile

from absl.testing import absltest
import numpy as np

from mi_zoo.data import images
from mi_zoo.data import vqa_answers
from mi_zoo.data import vqa_v2
from mi_zoo.features import writer
from mi_zoo.models import backbones
from tests.data import fixtures as data_fixtures
from tests.features import fixtures

SETTINGS = {"backbone": fixtures.BACKBONE, "layer": None}


class Interrupted(Exception):
    """Stands for a kill in the middle of a run."""


class Interrupting:
    """The model, until its `after`-th batch: that call raises."""

    def __init__(self, model, after):
        self.model, self.after, self.calls = model, after, 0
        self.input_shape = model.input_shape
        self.output_shape = model.output_shape

    def predict_on_batch(self, pixels):
        self.calls += 1
        if self.calls > self.after:
            raise Interrupted()
        return self.model.predict_on_batch(pixels)


class WriterTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp()
        cls.image_dir = os.path.join(cls.root, "images")
        cls.files = fixtures.write_images(cls.image_dir)
        weights = fixtures.write_weights(
            os.path.join(cls.root, "r50.weights.h5")
        )
        cls.model = backbones.grid_model(
            fixtures.BACKBONE, fixtures.IMAGE_SIZE, weights=weights
        )
        pixels = np.stack(
            [images.load_image(f, fixtures.IMAGE_SIZE) for f in cls.files]
        )
        # In memory: [50, 2, 2, 2048] -> [50, 4, 2048], file order = ids.
        cls.expected = cls.model.predict(pixels, batch_size=50, verbose=0)
        cls.expected = cls.expected.reshape(len(cls.files), 4, 2048)
        cls.full = cls.extract(cls, os.path.join(cls.root, "full"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)
        super().tearDownClass()

    def extract(self, out_dir, files=None, model=None, **kwargs):
        errors = []
        summary = writer.extract_features(
            self.files if files is None else files,
            out_dir,
            self.model if model is None else model,
            SETTINGS,
            batch_size=8,
            on_error=lambda *e: errors.append(e),
            interactive=False,
            **kwargs,
        )
        summary.reported = errors
        return summary

    def test_layout_is_the_convert_tsv_layout(self):
        out = self.full.out_dir
        self.assertEqual(self.full.written, 50)
        self.assertEqual(self.full.computed, 50)
        self.assertEqual(self.full.errors, [])
        features = np.load(os.path.join(out, "features.npy"))
        self.assertEqual(features.shape, (50, 4, 2048))
        self.assertEqual(features.dtype, np.float32)
        np.testing.assert_array_equal(
            np.load(os.path.join(out, "image_ids.npy")), np.arange(1, 51)
        )
        np.testing.assert_array_equal(
            np.load(os.path.join(out, "num_boxes.npy")), np.full(50, 4)
        )
        boxes = np.load(os.path.join(out, "boxes.npy"))
        np.testing.assert_array_equal(
            boxes, np.broadcast_to(backbones.grid_boxes(2, 2), (50, 4, 4))
        )
        with open(os.path.join(out, "image_files.txt")) as f:
            self.assertEqual(f.read().splitlines(), self.files)
        self.assertEqual(
            sorted(os.listdir(out)),
            [
                "boxes.npy",
                "extraction.json",
                "features.npy",
                "image_files.txt",
                "image_ids.npy",
                "num_boxes.npy",
            ],
        )

    def test_features_read_back_equal_those_computed_in_memory(self):
        store = vqa_v2.FeatureStore(self.full.out_dir)
        self.assertEqual(store.kind, "npy")
        self.assertEqual(store.shape, (4, 2048))
        self.assertTrue(np.all(np.isfinite(self.expected)))
        self.assertGreater(np.std(self.expected), 0)
        for image_id in (1, 2, 37, 50):
            feats, boxes, count = store.read_image(image_id)
            np.testing.assert_allclose(
                feats, self.expected[image_id - 1], rtol=1e-5, atol=1e-5
            )
            self.assertEqual(count, 4)

    def test_vqa_v2_dataset_reads_the_directory(self):
        tmp = data_fixtures.tempdir(self)
        qpath, apath = data_fixtures.write_vqa_json(tmp)
        vocab = vqa_answers.AnswerVocab.build(
            vqa_v2.load_annotations(apath).values(), min_count=1
        )
        ds = vqa_v2.vqa_v2_dataset(
            qpath, apath, self.full.out_dir, vocab, batch_size=5
        )
        inputs, _ = next(iter(ds))
        self.assertEqual(inputs["image"].shape, (5, 4, 2048))
        # Questions of images 1, 1, 2, 3, 3 (tests/data/fixtures.py).
        np.testing.assert_allclose(
            inputs["image"].numpy(),
            self.expected[[0, 0, 1, 2, 2]],
            rtol=1e-5,
            atol=1e-5,
        )
        np.testing.assert_array_equal(inputs["num_boxes"].numpy(), [4] * 5)

    def test_resume_after_an_interruption_gives_the_same_files(self):
        out = data_fixtures.tempdir(self)
        with self.assertRaises(Interrupted):
            self.extract(out, model=Interrupting(self.model, after=3))
        self.assertFalse(os.path.exists(os.path.join(out, "image_ids.npy")))
        status = np.load(os.path.join(out, writer.PARTIAL_STATUS))
        np.testing.assert_array_equal(
            status, [writer.WRITTEN] * 24 + [writer.TODO] * 26
        )
        # A kill can also land between a batch's features and its status,
        # or while rows are being written: those rows are computed again.
        status[16:24] = writer.TODO
        np.save(os.path.join(out, writer.PARTIAL_STATUS), status)
        partial = np.load(
            os.path.join(out, writer.PARTIAL_FEATURES), mmap_mode="r+"
        )
        partial[16:30] = 7.0
        partial.flush()
        del partial
        resumed = self.extract(out)
        self.assertEqual((resumed.written, resumed.computed), (50, 34))
        for name in ("features.npy", "boxes.npy", "image_ids.npy"):
            np.testing.assert_array_equal(
                np.load(os.path.join(out, name)),
                np.load(os.path.join(self.full.out_dir, name)),
                err_msg=name,
            )
        self.assertFalse(
            os.path.exists(os.path.join(out, writer.PARTIAL_FEATURES))
        )
        # Done is done: a third run computes nothing.
        again = self.extract(out)
        self.assertEqual((again.written, again.computed), (50, 0))

    def test_unreadable_and_unnamed_images_are_named_and_counted(self):
        tmp = data_fixtures.tempdir(self)
        corrupt = fixtures.write_corrupt(tmp)
        unnamed = os.path.join(tmp, "cat.png")
        shutil.copy(self.files[0], unnamed)
        twin = os.path.join(tmp, fixtures.image_name(3, "png"))
        shutil.copy(self.files[0], twin)
        for f in self.files[:10]:
            shutil.copy(f, tmp)
        files = writer.list_images(tmp)
        self.assertLen(files, 13)
        out = os.path.join(tmp, "out")
        summary = self.extract(out, files=files)
        self.assertEqual(summary.written, 10)
        reasons = dict(summary.errors)
        self.assertEqual(sorted(reasons), sorted([corrupt, unnamed, twin]))
        self.assertEqual(sorted(summary.reported), sorted(summary.errors))
        self.assertRegex(
            reasons[corrupt],
            r"^cannot be read \(not a PNG, JPEG, BMP or GIF image: .+\)$",
        )
        self.assertEqual(reasons[unnamed], "no image id (digits) in its name")
        self.assertEqual(
            reasons[twin],
            f"repeats the image id 3 of "
            f"{os.path.join(tmp, fixtures.image_name(3, 'jpg'))!r}",
        )
        self.assertIn("3 left out (listed above)", summary.line())
        np.testing.assert_array_equal(
            np.load(os.path.join(out, "image_ids.npy")), np.arange(1, 11)
        )
        np.testing.assert_allclose(
            np.load(os.path.join(out, "features.npy")),
            self.expected[:10],
            rtol=1e-5,
            atol=1e-5,
        )

    def test_hdf5_format_is_bans_layout_read_by_vqa_v2(self):
        # The first 12 images and an unreadable one (left out: the index
        # maps ids to the written rows only), resumed after a kill.
        tmp = data_fixtures.tempdir(self)
        corrupt = fixtures.write_corrupt(tmp)
        for f in self.files[:12]:
            shutil.copy(f, tmp)
        files = writer.list_images(tmp)
        out = os.path.join(tmp, "out")
        with self.assertRaises(Interrupted):
            self.extract(
                out,
                files=files,
                model=Interrupting(self.model, after=1),
                file_format="hdf5",
            )
        summary = self.extract(out, files=files, file_format="hdf5")
        path = os.path.join(out, writer.HDF5_FILE)
        self.assertEqual(
            (summary.written, summary.computed, summary.features_path),
            (12, 4, path),
        )
        self.assertEqual([f for f, _ in summary.errors], [corrupt])
        self.assertIn(f"12 images in {path} (4 computed now)", summary.line())
        self.assertEqual(
            sorted(os.listdir(out)),
            [
                "extraction.json",
                "features.hdf5",
                "features_imgid2idx.pkl",
                "image_files.txt",
                "image_ids.npy",
            ],
        )
        store = vqa_v2.FeatureStore(path)
        self.assertEqual((store.kind, store.shape), ("hdf5", (4, 2048)))
        self.assertEqual(sorted(store.row_of), list(range(1, 13)))
        for image_id in (1, 5, 12):
            feats, boxes, count = store.read_image(image_id)
            np.testing.assert_allclose(
                feats, self.expected[image_id - 1], rtol=1e-5, atol=1e-5
            )
            np.testing.assert_array_equal(boxes, backbones.grid_boxes(2, 2))
            self.assertEqual(count, 4)
        # The VQA v2 pipeline takes the file as a features path.
        qpath, apath = data_fixtures.write_vqa_json(tmp)
        vocab = vqa_answers.AnswerVocab.build(
            vqa_v2.load_annotations(apath).values(), min_count=1
        )
        inputs, _ = next(
            iter(vqa_v2.vqa_v2_dataset(qpath, apath, path, vocab, 5))
        )
        np.testing.assert_allclose(
            inputs["image"].numpy(),
            self.expected[[0, 0, 1, 2, 2]],
            rtol=1e-5,
            atol=1e-5,
        )
        # Done is done; the other format is another extraction.
        again = self.extract(out, files=files, file_format="hdf5")
        self.assertEqual((again.written, again.computed), (12, 0))
        with self.assertRaisesRegex(
            ValueError, r"holds a finished extraction with other settings"
        ):
            self.extract(out, files=files)
        with self.assertRaisesRegex(ValueError, r"got file_format='h5'\.$"):
            self.extract(out, files=files, file_format="h5")

    def test_image_ids_in_file_order(self):
        tmp = data_fixtures.tempdir(self)
        unnamed = os.path.join(tmp, "cat.png")
        shutil.copy(self.files[4], unnamed)
        summary = self.extract(
            os.path.join(tmp, "out"), files=[unnamed], image_ids="order"
        )
        self.assertEqual((summary.written, summary.errors), (1, []))
        store = vqa_v2.FeatureStore(summary.out_dir)
        np.testing.assert_allclose(
            store.read_image(0)[0], self.expected[4], rtol=1e-5, atol=1e-5
        )

    def test_errors(self):
        tmp = data_fixtures.tempdir(self)
        with self.assertRaisesRegex(
            ValueError,
            r"None of the 1 image files has an image id in its name \(pass "
            r"image_ids='order' to number them\), got image_ids='name'\.$",
        ):
            shutil.copy(self.files[0], os.path.join(tmp, "cat.png"))
            self.extract(
                os.path.join(tmp, "a"), files=[os.path.join(tmp, "cat.png")]
            )
        with self.assertRaisesRegex(ValueError, r"got image_ids='file'"):
            self.extract(os.path.join(tmp, "b"), image_ids="file")
        with self.assertRaisesRegex(ValueError, r"got batch_size=0"):
            writer.extract_features(
                self.files, tmp, self.model, SETTINGS, batch_size=0
            )
        # Another run's settings, finished or not.
        other = dict(SETTINGS, layer="conv5_block3_out")
        for out in (self.full.out_dir, os.path.join(tmp, "c")):
            if out != self.full.out_dir:
                with self.assertRaises(Interrupted):
                    self.extract(out, model=Interrupting(self.model, 1))
            with self.assertRaisesRegex(
                ValueError,
                r"holds an? (un)?finished extraction with other settings "
                r"\(settings then: .*\"layer\": null.*; now: .*"
                r"\"layer\": \"conv5_block3_out\".*\); run again with the "
                r"same ones to resume, or pass a new --out, got out=.*'\.$",
            ):
                writer.extract_features(self.files, out, self.model, other)
        with self.assertRaisesRegex(
            ValueError,
            r"other image files \(image files then: 50 images, from "
            r".*; now: 49 images, from .*\).*got out=",
        ):
            self.extract(self.full.out_dir, files=self.files[1:])
        # A directory of other features (vqa_v2.convert_tsv's).
        foreign = os.path.join(tmp, "tsv")
        os.makedirs(foreign)
        np.save(os.path.join(foreign, "image_ids.npy"), np.arange(3))
        with self.assertRaisesRegex(
            ValueError,
            r"holds features not written by mi_zoo.features \(no "
            r"extraction.json\); pass a new --out, got out='.*tsv'\.$",
        ):
            self.extract(foreign)


class ListImagesTest(absltest.TestCase):
    def test_directory_and_glob(self):
        tmp = data_fixtures.tempdir(self)
        paths = fixtures.write_images(tmp, count=3)
        with open(os.path.join(tmp, "notes.txt"), "w") as f:
            f.write("not an image")
        os.makedirs(os.path.join(tmp, "sub.png"))
        self.assertEqual(writer.list_images(tmp), paths)
        self.assertEqual(
            writer.list_images(os.path.join(tmp, "*.png")), [paths[1]]
        )

    def test_nothing_found(self):
        tmp = data_fixtures.tempdir(self)
        with self.assertRaisesRegex(
            ValueError,
            r"^No image files \(extensions .jpg, .jpeg, .png, .bmp, .gif\) "
            r"in the directory or glob pattern, got images='.*\*.jpg'\.$",
        ):
            writer.list_images(os.path.join(tmp, "*.jpg"))

    def test_image_id_of(self):
        self.assertEqual(writer.image_id_of("a/COCO_train2014_07.png"), 7)
        self.assertEqual(writer.image_id_of("2014/img_12_003.jpg"), 3)
        self.assertIsNone(writer.image_id_of("2014/photo.jpg"))


if __name__ == "__main__":
    absltest.main()
