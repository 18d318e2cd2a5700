"""The Relation Network and CNN+MLP models, and the pixel path they share
with the other pixel models (stem width, position kept before pooling).

(vqa_test.py builds, trains, saves and distributes every registered model,
rn and cnn_mlp included.)"""

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo import fusion
from mi_zoo import models
from tests.models import vqa_test

SORT_OF_CLEVR = models.VqaSpec(12, 11, "pixels", (75, 75, 3), 10)
RN_SMALL = {"question_units": 8, "g_units": 8, "g_layers": 2, "f_units": 8}


def layer_of(model, kind):
    return next(l for l in model.layers if isinstance(l, kind))


class RelationNetworkModelTest(parameterized.TestCase):
    def setUp(self):
        super().setUp()
        keras.utils.set_random_seed(0)

    def test_pixel_objects_are_the_cells_with_coordinates(self):
        # The paper's stem: 75 px through 4 stride-2 layers of 24 filters
        # gives 5 × 5 cells of 24 features + 2 coordinates.
        model = models.build_vqa_model("rn", SORT_OF_CLEVR, **RN_SMALL)
        rn = layer_of(model, fusion.RelationNetwork)
        self.assertEqual(tuple(rn.input[0].shape), (None, 25, 26))
        self.assertEqual(rn.g_units, (8, 8))

    @parameterized.parameters("concat", "film", "mi")
    def test_question_fusions_build_and_learn(self, question_fusion):
        spec = vqa_test.SPECS["grid"]
        model = models.build_vqa_model(
            "rn",
            spec,
            question_fusion=question_fusion,
            dropout=0.0,
            **RN_SMALL,
        )
        self.assertEqual(
            layer_of(model, fusion.RelationNetwork).question_fusion,
            question_fusion,
        )
        model.compile(keras.optimizers.Adam(3e-3), models.answer_loss(spec))
        inputs, answers = vqa_test.random_batch(spec, 16)
        losses = model.fit(
            inputs, answers, epochs=8, batch_size=16, verbose=0
        ).history["loss"]
        self.assertLess(losses[-1], losses[0])

    def test_padding_regions_change_nothing(self):
        spec = vqa_test.SPECS["regions"]
        model = models.build_vqa_model("rn", spec, **RN_SMALL)
        inputs, _ = vqa_test.random_batch(spec, 4)
        padded = ~np.any(inputs["image"] != 0, -1)  # [B, R]
        self.assertTrue(padded.any())
        moved = {k: v.copy() for k, v in inputs.items()}
        moved["boxes"][padded] = 0.7  # padding boxes: not part of any pair
        np.testing.assert_array_equal(
            model.predict(inputs, verbose=0), model.predict(moved, verbose=0)
        )

    def test_grid_cells_get_coordinates(self):
        model = models.build_vqa_model(
            "rn", vqa_test.SPECS["grid"], **RN_SMALL
        )  # grid (4, 4, 24)
        rn = layer_of(model, fusion.RelationNetwork)
        self.assertEqual(tuple(rn.input[0].shape), (None, 16, 26))

    def test_cnn_mlp_flattens_the_stem_without_coordinates(self):
        model = models.build_vqa_model(
            "cnn_mlp", SORT_OF_CLEVR, hidden=8, question_units=8
        )
        flat = model.get_layer("flatten_image")
        self.assertEqual(tuple(flat.output.shape), (None, 5 * 5 * 24))

    def test_paper_sizes(self):
        # g 4 × 256, f 256, 256, dropout 0.5 (the paper, the peer's code).
        model = models.VQA_MODELS.build("rn", SORT_OF_CLEVR, size="paper")
        rn = layer_of(model, fusion.RelationNetwork)
        self.assertEqual((rn.g_units, rn.f_units), ((256,) * 4, (256, 256)))
        self.assertEqual(model.get_layer("answer").input.shape[-1], 256)


class PixelPathTest(parameterized.TestCase):
    @parameterized.parameters("concat", "mi", "film", "rn", "cnn_mlp", "mlb")
    def test_stem_has_24_filters_by_default(self, name):
        model = models.build_vqa_model(name, SORT_OF_CLEVR)
        for i in range(4):
            self.assertEqual(model.get_layer(f"stem_conv_{i}").filters, 24)

    @parameterized.parameters(*models.VQA_MODELS.names())
    def test_every_model_takes_stem_filters(self, name):
        model = models.VQA_MODELS.build(
            name, SORT_OF_CLEVR, size="small", stem_filters=8
        )
        self.assertEqual(model.get_layer("stem_conv_3").filters, 8)

    @parameterized.parameters("concat", "mi")
    def test_fusion_is_per_cell_before_the_pooling(self, name):
        # The question meets each of the 25 cells (with its coordinates)
        # before the mean: position is not averaged away.
        model = models.build_vqa_model(name, SORT_OF_CLEVR)
        self.assertEqual(
            tuple(model.get_layer("fusion").output.shape)[:2], (None, 25)
        )
        self.assertEqual(model.get_layer("fusion").input[0].shape[-1], 26)

    @parameterized.parameters("concat", "mi")
    def test_classifier_hidden_layer(self, name):
        # Without the hidden layer after the pooling, a count (a product of
        # two pooled features) cannot be read out (mi: count at the prior).
        model = models.build_vqa_model(
            name, SORT_OF_CLEVR, classifier_hidden=32
        )
        self.assertEqual(model.get_layer("answer_hidden").units, 32)
        none = models.build_vqa_model(name, SORT_OF_CLEVR, classifier_hidden=0)
        self.assertNotIn("answer_hidden", [l.name for l in none.layers])


if __name__ == "__main__":
    absltest.main()
