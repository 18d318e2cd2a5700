"""Tests of the shared argument checks: integral sizes of any kind (NumPy
integers from configs or arrays) are accepted and stored as plain ints;
bools, floats and strings are refused with their messages."""

import os
import re
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo import fusion
from mi_zoo import layers
from mi_zoo.core import validation

INTEGERS = (np.int32, np.int64, np.uint16, int)


class ChecksTest(parameterized.TestCase):
    @parameterized.parameters(*INTEGERS)
    def test_integral_sizes_are_accepted_as_plain_ints(self, kind):
        for check in (validation.check_positive_int, validation.check_axis):
            got = check("units", kind(32))
            self.assertIs(type(got), int)
            self.assertEqual(got, 32)
        self.assertIs(type(validation.check_film_axis(kind(2))), int)
        self.assertIsNone(
            validation.check_positive_int("units", None, allow_none=True)
        )

    @parameterized.parameters(
        True,
        np.bool_(True),
        32.0,
        np.float64(32.0),
        np.float32(32.0),
        "32",
        0,
        np.int64(0),
        -3,
        np.int32(-3),
        None,
        ([32],),
    )
    def test_non_positive_integers_are_refused(self, value):
        with self.assertRaisesRegex(
            ValueError,
            re.escape(
                f"`mm_dim` must be a positive integer, got mm_dim={value!r}."
            )
            + "$",
        ):
            validation.check_positive_int("mm_dim", value)

    def test_static_product(self):
        self.assertEqual(validation.static_product((3, 5)), 15)
        self.assertEqual(validation.static_product(()), 1)
        self.assertIsNone(validation.static_product((3, None, 5)))
        self.assertEqual(validation.rows_per_context((2, 3, 5, 7), (2, 4)), 15)
        self.assertIsNone(validation.rows_per_context((2, None, 7), (2, 4)))

    def test_positive_ints_checks_each_in_order(self):
        got = validation.check_positive_ints(
            units=np.int64(4), rank=2, mm_dim=np.uint16(8)
        )
        self.assertEqual(got, (4, 2, 8))
        self.assertEqual([type(v) for v in got], [int] * 3)
        with self.assertRaisesRegex(
            ValueError, r"^`rank` must be a positive integer, got rank=0\.$"
        ):
            validation.check_positive_ints(units=4, rank=0, mm_dim=-1)

    @parameterized.parameters(
        False, np.bool_(False), 1.0, np.float64(-1.0), "1", None
    )
    def test_axis_refuses_bools_floats_and_strings(self, value):
        with self.assertRaisesRegex(
            ValueError,
            re.escape(f"`axis` must be an integer, got axis={value!r}.") + "$",
        ):
            validation.check_axis("axis", value)

    @parameterized.parameters(0, 0.0, 0.5, np.float64(0.999))
    def test_rates_in_zero_one_are_accepted(self, value):
        validation.check_rate("dropout", value)

    @parameterized.parameters(True, False, 1, 1.0, -0.1, "0.5", None)
    def test_rates_outside_zero_one_are_refused(self, value):
        with self.assertRaisesRegex(
            ValueError,
            re.escape(
                f"`dropout` must be a number in [0, 1), got dropout={value!r}."
            )
            + "$",
        ):
            validation.check_rate("dropout", value)

    def test_plain_ints(self):
        got = validation.plain_ints(
            {
                "units": np.int64(8),
                "sizes": (np.int32(2), 3),
                "widths": [np.uint8(4)],
                "rate": np.float64(0.5),
                "flag": True,
                "name": "x",
            }
        )
        self.assertEqual(
            got,
            {
                "units": 8,
                "sizes": (2, 3),
                "widths": [4],
                "rate": 0.5,
                "flag": True,
                "name": "x",
            },
        )
        self.assertIs(type(got["units"]), int)
        self.assertIs(type(got["sizes"][0]), int)
        self.assertIs(type(got["widths"][0]), int)
        self.assertIs(got["flag"], True)


def _cases():
    """{name: (layer from sizes made by a given int type, inputs)}."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6)).astype("float32")
    y = rng.normal(size=(2, 5)).astype("float32")
    return {
        "mi_low_rank": (
            lambda c: layers.MultiplicativeInteraction(
                units=c(8), form="low_rank", rank=c(2)
            ),
            (x, y),
        ),
        "conditional_bias": (lambda c: layers.ConditionalBias(c(6)), (x, y)),
        "film": (lambda c: layers.FiLM(axis=c(-1)), (x, y)),
        "mlb": (
            lambda c: fusion.LowRankBilinearPooling(c(12), units=c(4)),
            (x, y),
        ),
        "mfb": (
            lambda c: fusion.FactorizedBilinearPooling(
                units=c(4), factor=c(3), order=c(2), dropout=0.0
            ),
            (x, y),
        ),
        "mutan": (
            lambda c: fusion.Mutan(
                c(4), rank=c(3), mm_dim=c(8), x_hidden=c(8), y_hidden=c(8)
            ),
            (x, y),
        ),
        "block": (
            lambda c: fusion.Block(c(4), mm_dim=c(8), chunks=c(2), rank=c(2)),
            (x, y),
        ),
        "mcb": (
            lambda c: fusion.CompactBilinearPooling(
                sketch_dim=c(16), units=c(4), seed=c(3)
            ),
            (x, y),
        ),
    }


class IntegralSizesTest(parameterized.TestCase):
    @parameterized.product(
        name=[
            "mi_low_rank",
            "conditional_bias",
            "film",
            "mlb",
            "mfb",
            "mutan",
            "block",
            "mcb",
        ],
        kind=[np.int32, np.int64],
    )
    def test_layer_with_numpy_sizes_equals_plain_ints(self, name, kind):
        make, inputs = _cases()[name]
        from_numpy, from_ints = make(kind), make(int)
        config = from_numpy.get_config()
        expected = from_ints.get_config()
        config.pop("name"), expected.pop("name")
        self.assertEqual(config, expected)
        for key, value in config.items():
            self.assertNotIsInstance(value, np.generic, key)
            for item in value if isinstance(value, (list, tuple)) else ():
                self.assertNotIsInstance(item, np.generic, key)
        out_numpy, out_ints = from_numpy(*inputs), from_ints(*inputs)
        self.assertEqual(tuple(out_numpy.shape), tuple(out_ints.shape))
        from_ints.set_weights(from_numpy.get_weights())
        np.testing.assert_allclose(
            from_ints(*inputs), from_numpy(*inputs), rtol=1e-5, atol=1e-6
        )

    def test_unary_layers(self):
        emb = layers.TiedEmbedding(np.int64(10), np.int32(4))
        self.assertEqual(emb.get_config()["input_dim"], 10)
        self.assertIs(type(emb.get_config()["output_dim"]), int)
        cell = layers.MultiplicativeIntegrationLSTMCell(np.int64(5))
        self.assertIs(type(cell.get_config()["units"]), int)
        out = keras.layers.RNN(cell)(np.zeros((2, 3, 4), "float32"))
        self.assertEqual(tuple(out.shape), (2, 5))

    def test_keras_file_round_trip(self):
        x_in = keras.Input((6,))
        y_in = keras.Input((5,))
        z = fusion.Block(
            np.int64(4),
            mm_dim=np.int64(8),
            chunks=np.int32(2),
            rank=np.int64(2),
        )(x_in, y_in)
        z = layers.MultiplicativeInteraction(np.int64(3))(z, y_in)
        model = keras.Model([x_in, y_in], z)
        path = os.path.join(tempfile.mkdtemp(), "m.keras")
        self.addCleanup(os.remove, path)
        model.save(path)
        loaded = keras.models.load_model(path)
        x = np.ones((2, 6), "float32")
        y = np.ones((2, 5), "float32")
        np.testing.assert_allclose(loaded([x, y]), model([x, y]), rtol=1e-6)

    @parameterized.parameters(
        (
            lambda: layers.MultiplicativeInteraction(True),
            "`units` must be a positive integer, got units=True.",
        ),
        (
            lambda: layers.MultiplicativeInteraction(8.0),
            "`units` must be a positive integer, got units=8.0.",
        ),
        (
            lambda: fusion.Block(4, mm_dim=np.float64(8.0)),
            "`mm_dim` must be a positive integer, got mm_dim=np.float64(8.0).",
        ),
        (
            lambda: fusion.Mutan(4, rank=np.bool_(True)),
            "`rank` must be a positive integer, got rank=np.True_.",
        ),
        (
            lambda: layers.FiLM(axis=1.0),
            "`axis` must be an integer, got axis=1.0.",
        ),
    )
    def test_bools_and_floats_are_refused(self, make, message):
        with self.assertRaisesRegex(ValueError, re.escape(message) + "$"):
            make()


if __name__ == "__main__":
    absltest.main()
