"""Image kind "backbone": a pretrained feature backbone inside a VQA model
(`encoders.encode_backbone`), its spec (`core.specs.BackboneSpec`), the
features against a float64 NumPy reference, freezing and fine-tuning, the
.keras round trip, every model of the zoo on it, and the errors."""

import os
import shutil
import tempfile

from absl.testing import absltest
import keras
import numpy as np

from mi_zoo import models
from mi_zoo.core import specs
from mi_zoo.models import encoders

SMALL = specs.BackboneSpec("mobilenet_v3_small", weights=None)


def backbone_spec(backbone=SMALL, image_size=64):
    return specs.VqaSpec(
        vocab_size=12,
        question_length=5,
        image_kind="backbone",
        image_shape=(image_size, image_size, 3),
        num_answers=4,
        backbone=backbone,
    )


def inputs(batch=2, image_size=64, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "question": rng.integers(1, 12, (batch, 5)).astype(np.int32),
        "image": rng.uniform(size=(batch, image_size, image_size, 3)).astype(
            np.float32
        ),
    }


class EncodeBackboneTest(absltest.TestCase):
    def test_cells_are_the_backbones_l2_normalised(self):
        image = keras.Input((64, 64, 3), name="image")
        features, mask = encoders.encode_backbone({"image": image}, SMALL)
        self.assertIsNone(mask)
        model = keras.Model(image, features)
        self.assertEqual(model.output_shape, (None, 2, 2, 576))
        pixels = inputs()["image"]
        raw = np.asarray(
            model.get_layer("mobilenet_v3_small_features")(pixels), np.float64
        )
        norm = np.sqrt(np.sum(raw**2, axis=-1, keepdims=True))
        np.testing.assert_allclose(
            model.predict(pixels, verbose=0),
            raw / np.maximum(norm, 1e-12),
            rtol=1e-5,
            atol=1e-6,
        )

    def test_grid_and_layer(self):
        image = keras.Input((64, 64, 3), name="image")
        pooled, _ = encoders.encode_backbone(
            {"image": image},
            specs.BackboneSpec(
                "mobilenet_v3_small", grid=(1, 1), weights=None
            ),
        )
        self.assertEqual(tuple(pooled.shape), (None, 1, 1, 576))
        with self.assertRaisesRegex(
            ValueError,
            r"^Backbone 'mobilenet_v3_small' has no layer 'conv9'; its last "
            r"layers are .*, got layer='conv9'\.$",
        ):
            encoders.encode_backbone(
                {"image": image},
                specs.BackboneSpec(
                    "mobilenet_v3_small", layer="conv9", weights=None
                ),
            )

    def test_frozen_by_default_and_fine_tuned_on_request(self):
        frozen = models.VQA_MODELS.build("mlb", backbone_spec(), size="small")
        tuned = models.VQA_MODELS.build(
            "mlb",
            backbone_spec(
                specs.BackboneSpec(
                    "mobilenet_v3_small", weights=None, trainable=True
                )
            ),
            size="small",
        )
        for model, trainable in ((frozen, False), (tuned, True)):
            net = model.get_layer("mobilenet_v3_small_features")
            self.assertEqual(net.trainable, trainable)
            self.assertEqual(bool(net.trainable_weights), trainable)
        # The frozen model trains everything but the backbone's weights.
        backbone_count = frozen.get_layer(
            "mobilenet_v3_small_features"
        ).count_params()
        self.assertEqual(
            sum(int(np.prod(w.shape)) for w in tuned.trainable_weights)
            - sum(int(np.prod(w.shape)) for w in frozen.trainable_weights),
            sum(
                int(np.prod(w.shape))
                for w in tuned.get_layer(
                    "mobilenet_v3_small_features"
                ).trainable_weights
            ),
        )
        self.assertGreater(backbone_count, 900_000)

    def test_keras_round_trip(self):
        model = models.VQA_MODELS.build("film", backbone_spec(), size="small")
        root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        path = os.path.join(root, "model.keras")
        model.save(path)
        loaded = keras.models.load_model(path)
        x = inputs()
        np.testing.assert_allclose(
            np.asarray(loaded(x)),
            np.asarray(model(x)),
            rtol=1e-5,
            atol=1e-6,
        )
        self.assertFalse(
            loaded.get_layer("mobilenet_v3_small_features").trainable
        )

    def test_vqa_models_build_on_a_backbone(self):
        # One of each way a model reads the image: a global vector
        # (concat), a spatial map (film), objects with coordinates (rn),
        # attention over cells (ban). (All 18 models built in a script.)
        x = inputs(batch=1)
        for name in ("concat", "film", "rn", "ban"):
            with self.subTest(model=name):
                model = models.VQA_MODELS.build(
                    name, backbone_spec(), size="small"
                )
                self.assertEqual(tuple(model(x).shape), (1, 4))


class BackboneSpecTest(absltest.TestCase):
    def test_spec_fields(self):
        spec = backbone_spec()
        self.assertTrue(spec.reads_pixels)
        self.assertEqual(spec.backbone, SMALL)
        as_dict = specs.VqaSpec(
            12,
            5,
            "backbone",
            (64, 64, 3),
            4,
            backbone={"name": "mobilenet_v3_small", "grid": [2, 2]},
        )
        self.assertEqual(
            as_dict.backbone,
            specs.BackboneSpec("mobilenet_v3_small", grid=(2, 2)),
        )
        self.assertFalse(specs.VqaSpec(12, 5, "grid", (4, 8), 4).reads_pixels)

    def test_errors(self):
        for kwargs, message in (
            (
                dict(image_kind="backbone", backbone=None),
                r"^`backbone` must be a BackboneSpec for image_kind="
                r"'backbone' and None otherwise, got image_kind='backbone' "
                r"and backbone=None\.$",
            ),
            (
                dict(image_kind="pixels", backbone=SMALL),
                r"and None otherwise, got image_kind='pixels' and "
                r"backbone=BackboneSpec\(name='mobilenet_v3_small'",
            ),
            (
                dict(image_kind="backbone", backbone="resnet50"),
                r"^`backbone` must be a BackboneSpec, got "
                r"backbone='resnet50'\.$",
            ),
            (
                dict(image_kind="backbone", image_shape=(64, 64)),
                r"^image_shape=\(64, 64\) does not fit "
                r"image_kind='backbone': expected \(H, W, channels\)\.$",
            ),
        ):
            with self.subTest(kwargs=kwargs):
                arguments = dict(
                    vocab_size=12,
                    question_length=5,
                    image_shape=(64, 64, 3),
                    num_answers=4,
                )
                arguments.update(kwargs)
                with self.assertRaisesRegex(ValueError, message):
                    specs.VqaSpec(**arguments)
        for kwargs, message in (
            (dict(name=""), r"^`name` must be a backbone's name, got name=''"),
            (dict(layer=3), r"got layer=3\.$"),
            (dict(grid=(2, 0)), r"two positive integers, got grid=\(2, 0\)"),
            (dict(grid=2), r"got grid=2\.$"),
            (
                dict(weights="r50.h5"),
                r"^`weights` must be 'imagenet', None or the path of a "
                r"'.weights.h5' file of the backbone, got weights='r50.h5'\.$",
            ),
            (dict(trainable=1), r"got trainable=1\.$"),
        ):
            with self.subTest(kwargs=kwargs):
                arguments = dict(name="resnet50")
                arguments.update(kwargs)
                with self.assertRaisesRegex(ValueError, message):
                    specs.BackboneSpec(**arguments)
        with self.assertRaisesRegex(
            ValueError,
            r"^`image_kind` must be one of \('pixels', 'grid', 'regions'\)",
        ):
            specs.MatchingSpec(12, 5, "backbone", (64, 64, 3))

    def test_unknown_backbone_lists_the_known_ones(self):
        with self.assertRaisesRegex(
            ValueError,
            r"Unknown feature backbone 'vgg16'; registered: \(.*"
            r"'mobilenet_v3_small'.*'resnet50'",
        ):
            models.VQA_MODELS.build(
                "concat",
                backbone_spec(specs.BackboneSpec("vgg16", weights=None)),
                size="small",
            )
        with self.assertRaisesRegex(
            ValueError, r"at least 32 x 32 .*got image_size=\(16, 16\)\.$"
        ):
            models.VQA_MODELS.build(
                "concat", backbone_spec(image_size=16), size="small"
            )


if __name__ == "__main__":
    absltest.main()
