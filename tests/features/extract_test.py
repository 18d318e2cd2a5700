"""The command line, `python -m mi_zoo.features.extract`, through a
subprocess as users run it: the files it writes, its progress and summary
lines, one `error:` line per unreadable image, resume, and one-line user
errors without a traceback."""

import os
import re
import shutil
import tempfile

from absl.testing import absltest
import h5py
import numpy as np
import pytest

from mi_zoo.data import images
from mi_zoo.models import backbones
from tests import cli
from tests.features import fixtures


def _run(*argv):
    return cli.run_module("mi_zoo.features.extract", *argv)


class ExtractTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp()
        cls.image_dir = os.path.join(cls.root, "images")
        cls.files = fixtures.write_images(cls.image_dir)
        cls.corrupt = fixtures.write_corrupt(cls.image_dir)
        cls.weights = fixtures.write_weights(
            os.path.join(cls.root, "r50.weights.h5")
        )
        cls.out = os.path.join(cls.root, "out")
        cls.flags = (
            f"--images={cls.image_dir}",
            f"--out={cls.out}",
            f"--backbone={fixtures.BACKBONE}",
            "--image_size=64,64",
            f"--weights={cls.weights}",
            "--batch_size=16",
        )
        cls.first = _run(*cls.flags)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)
        super().tearDownClass()

    def test_writes_the_features_and_names_the_unreadable_image(self):
        done = self.first
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        self.assertEqual(
            done.stdout.strip().splitlines()[-1],
            f"Features of 50 images in {self.out} (50 computed now); "
            f"1 left out (listed above)",
        )
        errors = re.findall(r"(?m)^error: .*$", done.stderr)
        self.assertLen(errors, 1)
        self.assertRegex(
            errors[0],
            r"^error: image '%s' cannot be read \(not a PNG, JPEG, BMP or "
            r"GIF image: .+\)$" % re.escape(self.corrupt),
        )
        self.assertRegex(done.stderr, r"step 51/51 .*images/s=.* left out=1")
        self.assertNotIn("Traceback", done.stderr)
        ids = np.load(os.path.join(self.out, "image_ids.npy"))
        np.testing.assert_array_equal(ids, np.arange(1, 51))
        model = backbones.grid_model(
            fixtures.BACKBONE, fixtures.IMAGE_SIZE, weights=self.weights
        )
        pixels = np.stack(
            [images.load_image(f, fixtures.IMAGE_SIZE) for f in self.files]
        )
        expected = model.predict(pixels, verbose=0).reshape(50, 4, 2048)
        np.testing.assert_allclose(
            np.load(os.path.join(self.out, "features.npy")),
            expected,
            rtol=1e-5,
            atol=1e-5,
        )

    def check_user_errors(self, cases):
        for argv, code, pattern in cases:
            with self.subTest(argv=argv[-1]):
                process = _run(*argv)
                self.assertEqual(process.returncode, code, process.stderr)
                last = process.stderr.strip().splitlines()[-1]
                self.assertRegex(last, r"^error: ")
                self.assertRegex(last, pattern)
                self.assertNotIn("Traceback", process.stderr)
                self.assertNotIn("USAGE", process.stderr)

    @pytest.mark.slow  # 40-90 s here: run with -m slow (and by bazel test)
    def test_user_errors_are_one_line(self):
        self.check_user_errors(
            [
                (self.flags[1:], 2, r"--images is required\.$"),
                (self.flags + ("--image_size=64",), 2, r"--image_size=64$"),
                (
                    self.flags + ("--layer=conv4_block6_out",),
                    1,
                    r"holds a finished extraction with other settings .*got "
                    r"out='%s'\.$" % re.escape(self.out),
                ),
            ]
        )

    @pytest.mark.slow
    def test_more_user_errors_and_a_second_run(self):
        again = _run(*self.flags)
        self.assertEqual(again.returncode, 0, again.stderr[-3000:])
        self.assertIn("(0 computed now)", again.stdout)
        self.check_user_errors(
            [
                (self.flags + ("--backbone=vgg16",), 2, r"--backbone.*vgg16"),
                (
                    self.flags + ("--weights=/no/such.weights.h5",),
                    1,
                    r"--weights is neither imagenet, none nor an existing "
                    r"\.weights\.h5 file, got --weights=/no/such\.weights"
                    r"\.h5$",
                ),
                (
                    (f"--images={self.root}/none/*.jpg",) + self.flags[1:],
                    1,
                    r"^error: No image files .*got images='.*none/\*\.jpg'"
                    r"\.$",
                ),
            ]
        )

    @pytest.mark.slow
    def test_hdf5_format(self):
        out = os.path.join(self.root, "hdf5")
        flags = (self.flags[0], f"--out={out}") + self.flags[2:]
        done = _run(*flags, "--format=hdf5")
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        path = os.path.join(out, "features.hdf5")
        self.assertEqual(
            done.stdout.strip().splitlines()[-1],
            f"Features of 50 images in {path} (50 computed now); "
            f"1 left out (listed above)",
        )
        with h5py.File(path, "r") as h5:
            features = h5["image_features"][()]
        np.testing.assert_array_equal(
            features, np.load(os.path.join(self.out, "features.npy"))
        )
        self.check_user_errors(
            [
                (
                    flags + ("--format=tsv",),
                    2,
                    r"--format.*tsv",
                ),
            ]
        )


if __name__ == "__main__":
    absltest.main()
