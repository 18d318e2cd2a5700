"""mi_zoo.models.backbones (re-exported by mi_zoo.features): the registry,
the grid model's preprocessing, layers and pooling against float64 NumPy
references, the cells' boxes."""

import os
import shutil
import tempfile

from absl.testing import absltest
import keras
import numpy as np
import pytest

from mi_zoo.models import backbones
from tests.features import fixtures

# Caffe preprocessing of ResNet (He et al.'s released models): RGB -> BGR,
# minus the ImageNet channel means, no scaling.
BGR_MEANS = np.array([103.939, 116.779, 123.68])


class GridModelTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp()
        cls.weights = fixtures.write_weights(
            os.path.join(cls.root, "r50.weights.h5")
        )
        cls.pixels = np.random.default_rng(0).uniform(size=(3, 64, 64, 3))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)
        super().tearDownClass()

    def test_resnet_is_the_application_on_caffe_preprocessed_pixels(self):
        model = backbones.grid_model(
            "resnet50", fixtures.IMAGE_SIZE, weights=self.weights
        )
        self.assertEqual(model.output_shape, (None, 2, 2, 2048))
        net = keras.applications.ResNet50(
            include_top=False, weights=None, input_shape=(64, 64, 3)
        )
        net.load_weights(self.weights)
        reference = self.pixels * 255.0
        reference = reference[..., ::-1] - BGR_MEANS  # float64
        np.testing.assert_allclose(
            model.predict(self.pixels.astype(np.float32), verbose=0),
            net.predict(reference.astype(np.float32), verbose=0),
            rtol=1e-4,
            atol=1e-4,
        )

    def test_mobilenet_v3_preprocesses_inside(self):
        # The application's own rescaling to [-1, 1] reads [0, 255] pixels:
        # the grid model feeds it pixels * 255 (float64 reference).
        model = backbones.grid_model(
            "mobilenet_v3_small", fixtures.IMAGE_SIZE, weights=None
        )
        self.assertEqual(model.output_shape, (None, 2, 2, 576))
        net = keras.applications.MobileNetV3Small(
            include_top=False,
            weights=None,
            input_shape=(64, 64, 3),
            include_preprocessing=True,
        )
        net.set_weights(model.get_weights())
        np.testing.assert_allclose(
            model.predict(self.pixels.astype(np.float32), verbose=0),
            net.predict((self.pixels * 255.0).astype(np.float32), verbose=0),
            rtol=1e-4,
            atol=1e-4,
        )

    @pytest.mark.slow  # 15-60 s: run with -m slow (and by bazel test)
    def test_chosen_layer_and_pooled_grid(self):
        conv4 = backbones.grid_model(
            "resnet50", (64, 64), "conv4_block6_out", weights=self.weights
        )
        self.assertEqual(conv4.output_shape, (None, 4, 4, 1024))
        pooled = backbones.grid_model(
            "resnet50",
            (64, 64),
            "conv4_block6_out",
            grid=(2, 1),
            weights=self.weights,
        )
        self.assertEqual(pooled.output_shape, (None, 2, 1, 1024))
        cells = conv4.predict(self.pixels, verbose=0).astype(np.float64)
        # Average pooling to 2 x 1: the mean of each 2 x 4 block of cells.
        expected = cells.reshape(3, 2, 2, 1, 4, 1024).mean(axis=(2, 4))
        np.testing.assert_allclose(
            pooled.predict(self.pixels, verbose=0),
            expected,
            rtol=1e-5,
            atol=1e-5,
        )

    def test_registry(self):
        self.assertEqual(
            backbones.BACKBONES.names(),
            tuple(
                sorted(
                    ["resnet50", "resnet101", "resnet152"]
                    + [
                        f"efficientnetv2_{s}"
                        for s in ("b0", "b1", "b2", "b3", "s", "m", "l")
                    ]
                    + [
                        f"convnext_{s}"
                        for s in ("tiny", "small", "base", "large", "xlarge")
                    ]
                    + ["mobilenet_v3_small", "mobilenet_v3_large"]
                )
            ),
        )
        resnet = backbones.BACKBONES.build("resnet152")
        self.assertIs(resnet.application, keras.applications.ResNet152)
        self.assertEqual(resnet.default_layer, "conv5_block3_out")
        # The others preprocess inside (include_preprocessing=True).
        for name, channels in (
            ("efficientnetv2_b0", 1280),
            ("convnext_tiny", 768),
            ("mobilenet_v3_small", 576),
        ):
            with self.subTest(name=name):
                self.assertIsNone(backbones.BACKBONES.build(name).preprocess)
                model = backbones.grid_model(name, (64, 96), weights=None)
                self.assertEqual(model.output_shape, (None, 2, 3, channels))

    def test_errors(self):
        with self.assertRaisesRegex(
            ValueError,
            r"Unknown feature backbone 'vgg16'; registered: \(.*'resnet50'",
        ):
            backbones.grid_model("vgg16", (64, 64), weights=None)
        with self.assertRaisesRegex(
            ValueError,
            r"^Backbone 'resnet50' has no layer 'conv9'; its last layers are "
            r"\[.*'conv5_block3_out'\] \(net.summary\(\) lists them all\), "
            r"got layer='conv9'\.$",
        ):
            backbones.grid_model("resnet50", (64, 64), "conv9", weights=None)
        with self.assertRaisesRegex(
            ValueError,
            r"^`image_size` must be at least 32 x 32 \(the backbones "
            r"downsample 32 times\), got image_size=\(16, 64\)\.$",
        ):
            backbones.grid_model("resnet50", (16, 64), weights=None)
        with self.assertRaisesRegex(ValueError, r"got image_size=\(64,\)\.$"):
            backbones.grid_model("resnet50", (64,), weights=None)
        with self.assertRaisesRegex(
            ValueError,
            r"^`weights` must be 'imagenet', None or the path of a "
            r"'.weights.h5' file of the backbone, got weights='r50.h5'\.$",
        ):
            backbones.grid_model("resnet50", (64, 64), weights="r50.h5")
        for grid in ((3, 1), (0, 1), (2,)):
            with self.subTest(grid=grid):
                with self.assertRaisesRegex(
                    ValueError,
                    r"^`grid` must be \(gh, gw\) dividing the backbone's 2 x "
                    r"2 cells at image_size=\(64, 64\), got grid=%s\.$"
                    % (repr(grid).replace("(", r"\(").replace(")", r"\)")),
                ):
                    backbones.grid_model(
                        "resnet50", (64, 64), grid=grid, weights=None
                    )


class GridBoxesTest(absltest.TestCase):
    def test_cells_row_by_row(self):
        boxes = backbones.grid_boxes(2, 3)
        self.assertEqual(boxes.dtype, np.float32)
        expected = [
            [c / 3, r / 2, (c + 1) / 3, (r + 1) / 2]
            for r in range(2)
            for c in range(3)
        ]
        np.testing.assert_allclose(boxes, expected, rtol=1e-7)
        # The cells tile the unit square.
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        self.assertAlmostEqual(float(area.sum()), 1.0, places=6)

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, r"got width=0"):
            backbones.grid_boxes(2, 0)


if __name__ == "__main__":
    absltest.main()
