"""Tests of the shared image decode/resize helper."""

import os

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from mi_zoo.data import images
from tests.data import fixtures


class ImagesTest(parameterized.TestCase):
    @parameterized.parameters(
        ("png", fixtures.write_png), ("jpg", fixtures.write_jpeg)
    )
    def test_load_image_png_and_jpeg(self, ext, write):
        path = os.path.join(fixtures.tempdir(self), f"x.{ext}")
        write(path, (255, 0, 0), size=(20, 10))  # PIL size is (w, h)
        image = images.load_image(path, (4, 6)).numpy()
        self.assertEqual(image.shape, (4, 6, 3))
        self.assertEqual(image.dtype, np.float32)
        np.testing.assert_allclose(image[..., 0], 1.0, atol=0.02)
        np.testing.assert_allclose(image[..., 1:], 0.0, atol=0.02)

    def test_rgba_png_gives_3_channels(self):
        path = os.path.join(fixtures.tempdir(self), "rgba.png")
        from PIL import Image  # pylint: disable=g-import-not-at-top

        Image.new("RGBA", (5, 5), (0, 0, 255, 128)).save(path)
        raw = tf.io.read_file(path)
        self.assertEqual(images.decode_image(raw).shape, (5, 5, 3))

    def test_resize_equals_load(self):
        path = os.path.join(fixtures.tempdir(self), "x.png")
        fixtures.write_png(path, (10, 200, 30))
        decoded = images.decode_image(tf.io.read_file(path))
        np.testing.assert_array_equal(
            images.resize_image(decoded, (8, 8)),
            images.load_image(path, (8, 8)),
        )

    def test_works_in_dataset_map(self):
        path = os.path.join(fixtures.tempdir(self), "x.png")
        fixtures.write_png(path, (0, 0, 0))
        ds = tf.data.Dataset.from_tensor_slices([path, path]).map(
            lambda p: images.load_image(p, (3, 3))
        )
        self.assertEqual(ds.element_spec.shape, (3, 3, 3))
        self.assertLen(list(ds), 2)

    @parameterized.parameters(
        (128,), ((0, 4),), ((4, 4.0),), ((1, 2, 3),), ((True, 2),)
    )
    def test_bad_image_size(self, size):
        with self.assertRaisesRegex(
            ValueError,
            r"`image_size` must be "
            r"\(height, width\), two positive "
            r"integers, got image_size=",
        ):
            images.resize_image(tf.zeros((2, 2, 3), tf.uint8), size)


if __name__ == "__main__":
    absltest.main()
