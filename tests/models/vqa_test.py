"""Every registered VQA model builds, learns, saves and runs distributed."""

import itertools
import os
import tempfile
import warnings

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np
import pytest

from mi_zoo import layers as mi_layers
from mi_zoo import models
from mi_zoo.training import devices
from tests import distribution

devices.split_cpu(2)

SPECS = {
    "pixels": models.VqaSpec(40, 7, "pixels", (32, 32, 3), 6),
    "grid": models.VqaSpec(40, 7, "grid", (4, 4, 24), 6, "sigmoid"),
    "grid_flat": models.VqaSpec(40, 7, "grid", (9, 24), 6),
    "regions": models.VqaSpec(40, 7, "regions", (5, 24), 6, "sigmoid"),
}
# Small sizes keep the suite fast; the defaults are built in
# test_builds_for_every_compatible_input_kind.
SMALL_SIZES = {
    "concat": {"hidden": 32},
    "mi": {"hidden": 32, "rank": 8},
    "film": {
        "filters": 16,
        "classifier_filters": 32,
        "hidden": 32,
        "num_blocks": 2,
    },
    "mlb": {"joint_size": 16},
    "marn": {"joint_size": 16, "units": 16, "num_layers": 2},
    "mcb": {"sketch_dim": 64, "attention_hidden": 8},
    "mfb": {"units": 8, "factor": 2, "attention_hidden": 8},
    "mfh": {"units": 8, "factor": 2, "attention_hidden": 8},
    "mutan": {"units": 8, "rank": 2, "mm_dim": 8, "attention_hidden": 8},
    "block": {
        "units": 8,
        "mm_dim": 8,
        "chunks": 2,
        "rank": 2,
        "attention_hidden": 8,
    },
    "linear_sum": {"units": 8, "mm_dim": 8, "attention_hidden": 8},
    "concat_mlp": {"units": 8, "hidden_units": 8, "attention_hidden": 8},
    "tucker": {"units": 8, "mm_dim": 4, "attention_hidden": 8},
    "block_tucker": {
        "units": 8,
        "mm_dim": 8,
        "chunks": 2,
        "attention_hidden": 8,
    },
    "ban": {"glimpses": 2, "rank": 6, "hidden": 16},
    "dan": {"units": 8},
    "rn": {"g_units": 8, "g_layers": 2, "f_units": 8, "stem_filters": 8},
    "cnn_mlp": {"hidden": 8, "stem_filters": 8},
}


def small(name):
    return {"question_units": 16, **SMALL_SIZES.get(name, {})}


def random_batch(spec, batch, seed=0):
    """Inputs and answers of `spec`'s form, with padded questions and (for
    regions) zero-padded boxes."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, spec.question_length + 1, size=batch)
    question = rng.integers(1, spec.vocab_size, (batch, spec.question_length))
    question[np.arange(spec.question_length)[None] >= lengths[:, None]] = 0
    inputs = {
        "question": question.astype("int32"),
        "image": rng.normal(size=(batch,) + spec.image_shape).astype(
            "float32"
        ),
    }
    if spec.image_kind == "regions":
        regions = spec.image_shape[0]
        valid = rng.integers(1, regions + 1, size=batch)
        padded = np.arange(regions)[None] >= valid[:, None]  # [B, R]
        inputs["image"][padded] = 0.0
        corner = rng.uniform(0, 0.5, (batch, regions, 2))
        inputs["boxes"] = np.concatenate(
            [corner, corner + rng.uniform(0.1, 0.5, (batch, regions, 2))], -1
        ).astype("float32")
        inputs["boxes"][padded] = 0.0
    if spec.answer_convention == "softmax":
        answers = rng.integers(0, spec.num_answers, batch)
    else:  # answer counts of 10 annotators (ids past the set dropped)
        answers = np.zeros((batch, spec.num_answers), "float32")
        for row in answers:
            ids = rng.integers(0, spec.num_answers + 2, 10)
            np.add.at(row, ids[ids < spec.num_answers], 1.0)
    return inputs, answers


def compatible_models(name):
    """The model built for each spec it accepts (a builder raises
    ValueError otherwise): {kind: model}."""
    found = {}
    for kind, spec in SPECS.items():
        try:
            found[kind] = models.build_vqa_model(name, spec, **small(name))
        except ValueError:
            continue
    return found


def compatible(name):
    """The kinds of SPECS a model accepts."""
    return list(compatible_models(name))


def compiled(name, spec, learning_rate=3e-3):
    model = models.build_vqa_model(name, spec, **small(name))
    model.compile(
        keras.optimizers.Adam(learning_rate),
        models.answer_loss(spec),
        metrics=models.answer_metrics(spec),
    )
    return model


NAMES = [(name, name) for name in models.VQA_MODELS.names()]
#: Models built at every size on every input kind, trained, saved and
#: reloaded, and fitted under MirroredStrategy, in the default run (question
#: attention over regions, a convolutional FiLM network, bilinear
#: attention); the others are slow tests (4-31 s each on the shared CPU).
#: The layers' conformance suite round-trips every layer configuration and
#: fits one configuration of every layer class under the strategy by
#: default.
DEFAULT_RUN = ("mlb", "film", "ban")
DEFAULT_NAMES = tuple(n for n in NAMES if n[0] in DEFAULT_RUN)
OTHER_NAMES = tuple(n for n in NAMES if n[0] not in DEFAULT_RUN)
#: Fitted under MirroredStrategy by default (13-18 s each here): batch
#: normalisation and FiLM on a grid, bilinear attention on masked regions.
MIRRORED_RUN = ("film", "ban")
MIRRORED_NAMES = tuple(n for n in NAMES if n[0] in MIRRORED_RUN)
OTHER_MIRRORED_NAMES = tuple(n for n in NAMES if n[0] not in MIRRORED_RUN)


class VqaModelsTest(parameterized.TestCase):
    def setUp(self):
        super().setUp()
        keras.utils.set_random_seed(0)

    @parameterized.named_parameters(*DEFAULT_NAMES)
    def test_builds_at_every_size_for_every_compatible_input_kind(self, name):
        self.check_builds_at_every_size_for_every_compatible_input_kind(name)

    @parameterized.named_parameters(*OTHER_NAMES)
    @pytest.mark.slow
    def test_builds_at_every_size_every_other_model(self, name):
        self.check_builds_at_every_size_for_every_compatible_input_kind(name)

    def check_builds_at_every_size_for_every_compatible_input_kind(self, name):
        # The sizes of --model_size: "small" (the binaries' default) and
        # "paper" (the builder's defaults), on tiny specs.
        self.assertEqual(models.VQA_MODELS.sizes(name), ("paper", "small"))
        self.assertEqual(models.VQA_MODELS.arguments(name, "paper"), {})
        kinds = compatible(name)
        self.assertNotEmpty(kinds)
        for size, kind in itertools.product(("paper", "small"), kinds):
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # e.g. masks Keras would drop
                model = models.VQA_MODELS.build(name, SPECS[kind], size=size)
            self.assertEqual(model.name, name)
            self.assertEqual(
                tuple(model.outputs[0].shape), (None, SPECS[kind].num_answers)
            )

    def test_size_sets_the_builder_arguments(self):
        spec = SPECS["grid"]
        default = models.build_vqa_model("mlb", spec)
        small = models.VQA_MODELS.build("mlb", spec, size="small")
        over = models.VQA_MODELS.build(
            "mlb", spec, size="small", joint_size=24
        )
        self.assertEqual(
            default.get_layer("fusion").get_config()["joint_size"], 1200
        )  # The builder's default: the paper's.
        self.assertEqual(
            small.get_layer("fusion").get_config()["joint_size"],
            models.VQA_MODELS.arguments("mlb", "small")["joint_size"],
        )
        self.assertEqual(
            over.get_layer("fusion").get_config()["joint_size"], 24
        )

    @parameterized.parameters(
        (
            "mlb",
            "fusion_activation=relu,normalize=true",
            ("fusion",),
            {"activation": "relu", "normalize": True},
            {"activation": "tanh", "normalize": False},
        ),
        (
            "mfb",
            "input_activation=relu,dropout_input=0.1,product_dropout=0",
            ("attention_fusion", "fusion"),
            {"input_activation": "relu", "dropout_input": 0.1, "dropout": 0.0},
            {
                "input_activation": "linear",
                "dropout_input": 0.0,
                "dropout": 0.1,
            },
        ),
        (
            "mfh",
            "input_activation=relu,dropout_input=0.1,product_dropout=0",
            ("attention_fusion", "fusion"),
            {"input_activation": "relu", "dropout_input": 0.1, "dropout": 0.0},
            {
                "input_activation": "linear",
                "dropout_input": 0.0,
                "dropout": 0.1,
            },
        ),
    )
    def test_block_options_reach_the_fusions(
        self, name, hparams, layers, options, defaults
    ):
        # --model_hparams text, parsed as the binary parses it.
        spec = SPECS["regions"]
        parsed = models.VQA_MODELS.parse_hyperparameters(name, hparams)
        for kwargs, expected in ((parsed, options), ({}, defaults)):
            model = models.VQA_MODELS.build(
                name, spec, **{**small(name), **kwargs}
            )
            for layer in layers:
                config = model.get_layer(layer).get_config()
                self.assertEqual(
                    {key: config[key] for key in expected}, expected
                )

    def test_unknown_size(self):
        with self.assertRaisesRegex(
            ValueError,
            r"Unknown size of VQA model 'mlb'; its sizes are "
            r"\('paper', 'small'\), got size='huge'\.$",
        ):
            models.VQA_MODELS.build("mlb", SPECS["grid"], size="huge")

    @parameterized.named_parameters(*DEFAULT_NAMES)
    def test_loss_decreases_save_and_reload(self, name):
        self.check_loss_decreases_save_and_reload(name)

    @parameterized.named_parameters(*OTHER_NAMES)
    @pytest.mark.slow
    def test_loss_decreases_save_and_reload_every_other_model(self, name):
        self.check_loss_decreases_save_and_reload(name)

    def check_loss_decreases_save_and_reload(self, name):
        # One input kind per model, rotating over the registry so that every
        # kind is trained by some model; concat trains on all of them.
        kinds = compatible(name)
        if name != "concat":
            kinds = [kinds[models.VQA_MODELS.names().index(name) % len(kinds)]]
        for kind in kinds:
            spec = SPECS[kind]
            model = compiled(name, spec)
            inputs, answers = random_batch(spec, 16)
            history = model.fit(
                inputs, answers, epochs=10, batch_size=16, verbose=0
            ).history["loss"]
            self.assertLess(history[-1], history[0], msg=f"{name} on {kind}")
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, f"{name}.keras")
                model.save(path)
                loaded = keras.saving.load_model(path)
            np.testing.assert_array_equal(
                loaded(inputs, training=False), model(inputs, training=False)
            )

    @parameterized.named_parameters(*MIRRORED_NAMES)
    def test_fit_under_mirrored_strategy(self, name):
        self.check_fit_under_mirrored_strategy(name)

    @parameterized.named_parameters(*OTHER_MIRRORED_NAMES)
    @pytest.mark.slow
    def test_fit_under_mirrored_strategy_every_other_model(self, name):
        self.check_fit_under_mirrored_strategy(name)

    def check_fit_under_mirrored_strategy(self, name):
        spec = SPECS[compatible(name)[0]]
        with distribution.mirrored_strategy().scope():
            model = compiled(name, spec)
        inputs, answers = random_batch(spec, 8, seed=1)
        history = model.fit(inputs, answers, epochs=2, batch_size=8, verbose=0)
        self.assertTrue(np.isfinite(history.history["loss"]).all())

    @parameterized.named_parameters(*NAMES)
    def test_attention_maps_are_distributions(self, name):
        for kind, model in compatible_models(name).items():
            spec = SPECS[kind]
            try:
                attention = models.attention_model(model)
            except ValueError:
                continue  # a model without attention
            inputs, _ = random_batch(spec, 4)
            axes = models.attention_axes(model)
            # Image positions and tokens have distinct counts in SPECS, so
            # an axis's size says which mask applies to it.
            positions = int(np.prod(spec.image_shape[:-1]))
            valid = {spec.question_length: inputs["question"] != 0}
            if spec.image_kind == "regions":
                valid[positions] = np.any(inputs["image"] != 0, -1)
            # Called eagerly: predict would trace a function per model.
            for map_name, maps in attention(inputs, training=False).items():
                maps = np.asarray(maps)
                self.assertTrue((maps >= 0).all(), map_name)
                np.testing.assert_allclose(
                    maps.sum(axis=axes[map_name]),
                    1.0,
                    rtol=1e-4,
                    err_msg=f"{map_name} on {kind}",
                )
                for axis in axes[map_name]:
                    mask = valid.get(maps.shape[axis])
                    if mask is None:
                        continue
                    shape = [1] * maps.ndim
                    shape[0], shape[axis] = mask.shape
                    self.assertTrue(
                        (maps * ~mask.reshape(shape) == 0).all(), map_name
                    )


class SpecAndRegistryTest(parameterized.TestCase):
    def test_unknown_model_lists_the_registered_ones(self):
        with self.assertRaisesRegex(
            ValueError,
            r"Unknown VQA model 'resnet'; registered: "
            r"\(.*'concat'.*\)",
        ):
            models.build_vqa_model("resnet", SPECS["grid"])

    def test_duplicate_registration(self):
        with self.assertRaisesRegex(
            ValueError, r"VQA model 'concat' is already"
        ):
            models.VQA_MODELS.register("concat")(lambda spec: None)

    @parameterized.parameters(
        (
            dict(image_kind="video"),
            r"`image_kind` must be one of "
            r"\('pixels', 'grid', 'regions', 'backbone'\), "
            r"got image_kind='video'",
        ),
        (
            dict(image_shape=(4, 4)),
            r"image_shape=\(4, 4\) does not fit "
            r"image_kind='pixels': expected \(H, W, channels\)",
        ),
        (dict(num_answers=0), r"got num_answers=0"),
        (dict(answer_convention="hinge"), r"got answer_convention='hinge'"),
    )
    def test_bad_spec(self, change, message):
        kwargs = dict(
            vocab_size=10,
            question_length=5,
            image_kind="pixels",
            image_shape=(8, 8, 3),
            num_answers=3,
        )
        kwargs.update(change)
        with self.assertRaisesRegex(ValueError, message):
            models.VqaSpec(**kwargs)

    def test_film_needs_a_spatial_image(self):
        with self.assertRaisesRegex(
            ValueError, r"film model needs a spatial image"
        ):
            models.build_vqa_model("film", SPECS["regions"])

    def test_ban_attention_rank(self):
        """BAN as the authors' code has it (ban8_vqa2): attention logits
        of rank 3 x the features' (here 12 = 3 x 4), no pooling."""
        model = models.build_vqa_model(
            "ban",
            SPECS["regions"],
            question_units=4,
            glimpses=2,
            rank=4,
            pool_size=1,
            attention_rank=12,
            hidden=8,
        )
        layer = model.get_layer("bilinear_attention")
        self.assertEqual(
            (layer.rank, layer.attention_rank, layer.pool_size), (4, 12, 1)
        )
        self.assertIn(12, [w.shape[-1] for w in layer.weights])
        default = models.build_vqa_model(
            "ban", SPECS["regions"], **small("ban")
        )
        self.assertIsNone(
            default.get_layer("bilinear_attention").attention_rank
        )

    def test_ban_counter(self):
        """counter=True: the counting module reads the region boxes."""
        spec = SPECS["regions"]
        model = models.build_vqa_model(
            "ban", spec, counter=True, **small("ban")
        )
        layer = model.get_layer("bilinear_attention")
        self.assertTrue(layer.counter)
        self.assertEqual(layer.count_layer.objects, 10)
        model.compile(
            keras.optimizers.Adam(3e-3),
            models.answer_loss(spec),
            metrics=models.answer_metrics(spec),
        )
        inputs, answers = random_batch(spec, 16)
        history = model.fit(
            inputs, answers, epochs=10, batch_size=16, verbose=0
        ).history["loss"]
        self.assertLess(history[-1], history[0])
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "ban.keras")
            model.save(path)
            loaded = keras.saving.load_model(path)
        after = model(inputs, training=False)
        np.testing.assert_array_equal(loaded(inputs, training=False), after)
        # The counts reach the answers: without their projection they change.
        layer.count_kernel.assign(np.zeros(layer.count_kernel.shape))
        self.assertFalse(np.allclose(model(inputs, training=False), after))

    def test_ban_counter_needs_regions(self):
        with self.assertRaisesRegex(
            ValueError,
            r"`counter=True` counts region boxes and needs a VqaSpec with "
            r"image_kind='regions', got image_kind='grid'\.",
        ):
            models.build_vqa_model(
                "ban", SPECS["grid"], counter=True, **small("ban")
            )

    def test_ban_weight_norm(self):
        """weight_norm=True: BAN's kernels and the classifier's."""
        spec = SPECS["regions"]
        plain = models.build_vqa_model("ban", spec, **small("ban"))
        model = models.build_vqa_model(
            "ban", spec, weight_norm=True, counter=True, **small("ban")
        )
        self.assertTrue(model.get_layer("bilinear_attention").weight_norm)
        for name in ("answer_hidden", "answer"):
            self.assertIsInstance(
                model.get_layer(name), mi_layers.WeightNormDense
            )
        self.assertIsInstance(plain.get_layer("answer"), keras.layers.Dense)
        inputs, _ = random_batch(spec, 4)
        self.assertTrue(np.isfinite(model.predict(inputs, verbose=0)).all())

    def test_model_without_attention(self):
        model = models.build_vqa_model(
            "concat", SPECS["grid"], **small("concat")
        )
        with self.assertRaisesRegex(ValueError, "has no attention maps"):
            models.attention_model(model)

    def test_soft_accuracy_scores_the_argmax(self):
        # The deprecated metric function, kept for models compiled with it.
        y_true = np.array([[0.0, 0.3, 1.0], [0.6, 0.0, 0.0]], "float32")
        y_pred = np.array([[0.1, 0.2, 3.0], [0.0, 2.0, 1.0]], "float32")
        np.testing.assert_allclose(
            models.heads.vqa_soft_accuracy(y_true, y_pred), [1.0, 0.0]
        )


class QuestionEncoderTest(parameterized.TestCase):
    @parameterized.product(cell=("gru", "lstm"), bidirectional=(False, True))
    def test_vector_is_the_state_at_the_last_real_token(
        self, cell, bidirectional
    ):
        tokens = keras.Input((6,), dtype="int32")
        vector, sequence, mask = models.encoders.encode_question(
            tokens,
            20,
            embedding_dim=4,
            units=3,
            cell=cell,
            bidirectional=bidirectional,
        )
        encoder = keras.Model(tokens, [vector, sequence, mask])
        ids = np.array([[5, 6, 7, 0, 0, 0]], "int32")
        v, s, m = encoder.predict(ids, verbose=0)
        np.testing.assert_array_equal(m, [[1, 1, 1, 0, 0, 0]])
        width = 6 if bidirectional else 3
        self.assertEqual(v.shape, (1, width))
        # Padding does not change the encoding.
        v_short = encoder.predict(np.array([[5, 6, 7, 0, 0, 0]]), verbose=0)[0]
        np.testing.assert_allclose(v, v_short)
        np.testing.assert_allclose(v[0, :3], s[0, 2, :3], rtol=1e-6)

    def test_bad_cell(self):
        with self.assertRaisesRegex(ValueError, r"got cell='rnn'"):
            models.encoders.encode_question(
                keras.Input((4,), dtype="int32"), 10, cell="rnn"
            )


if __name__ == "__main__":
    absltest.main()
