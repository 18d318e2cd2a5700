"""Tests of MultiplicativeIntegrationLSTMCell."""

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.layers import MultiplicativeIntegrationLSTMCell
from tests import backend
from tests.backend import as_numpy
from tests.layers import references
from tests.layers import test_util


class MILSTMCellTest(parameterized.TestCase):
    def test_sequence_matches_float64_reference(self):
        cell = MultiplicativeIntegrationLSTMCell(5, dtype="float64")
        rnn = keras.layers.RNN(cell, return_sequences=True, dtype="float64")
        x = np.random.default_rng(0).normal(size=(3, 4, 6))
        rnn(x)
        w = test_util.random_weights(cell)
        y = as_numpy(rnn(x))
        h = c = np.zeros((3, 5))
        for t in range(4):
            h, c = references.mi_lstm_step(x[:, t], h, c, w)
            backend.assert_allclose(y[:, t], h, **backend.close())

    def test_alpha_zero_is_the_plain_lstm_cell(self):
        x = np.random.default_rng(1).normal(size=(3, 4, 6)).astype("float32")
        cell = MultiplicativeIntegrationLSTMCell(5, alpha_initializer="zeros")
        mi = keras.layers.RNN(cell)
        lstm = keras.layers.LSTM(5)
        mi(x), lstm(x)
        lstm.set_weights(
            [
                as_numpy(cell.kernel),
                as_numpy(cell.recurrent_kernel),
                as_numpy(cell.bias),
            ]
        )
        backend.assert_allclose(mi(x), lstm(x), rtol=1e-5, atol=1e-6)

    def test_unit_forget_bias(self):
        cell = MultiplicativeIntegrationLSTMCell(3)
        keras.layers.RNN(cell)(np.zeros((1, 2, 4), "float32"))
        backend.assert_array_equal(
            cell.bias, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]
        )
        backend.assert_array_equal(cell.alpha, np.ones(12))

    def test_config_round_trip(self):
        cell = MultiplicativeIntegrationLSTMCell(
            4, use_bias=False, unit_forget_bias=False, activation="relu"
        )
        config = cell.get_config()
        self.assertEqual(
            MultiplicativeIntegrationLSTMCell.from_config(config).get_config(),
            config,
        )

    @parameterized.parameters(0, -1, 2.0, None)
    def test_bad_units(self, units):
        with self.assertRaisesRegex(
            ValueError,
            rf"`units` must be a positive integer, got "
            rf"units={units!r}",
        ):
            MultiplicativeIntegrationLSTMCell(units)

    def test_bad_input_shape(self):
        cell = MultiplicativeIntegrationLSTMCell(4)
        with self.assertRaisesRegex(
            ValueError,
            r"expects inputs of shape \[batch, features\] "
            r"with known features, got \(2, 3, 5\)",
        ):
            cell.build((2, 3, 5))


if __name__ == "__main__":
    absltest.main()
