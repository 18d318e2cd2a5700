"""Every Keras layer of mi_zoo, registered once for the conformance suite.

An entry builds a small functional model around one layer configuration, so
the shared tests (serialisation, SavedModel, unknown batch, XLA, mixed
precision, MirroredStrategy) run over all of them. Adding a public layer
without an entry here fails `test_every_public_layer_is_registered`.
"""

import dataclasses
from typing import Callable, Tuple

import keras
import numpy as np

from mi_zoo import layers


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    make_layer: Callable[[], keras.layers.Layer]
    x_shape: Tuple[int, ...]  # without the batch axis
    z_shape: Tuple[int, ...] = ()  # () for single-input layers

    def model(self):
        """A functional model [x, z] -> layer(x, z) (or x -> layer(x))."""
        x = keras.Input(self.x_shape, name="x")
        if not self.z_shape:
            return keras.Model(x, self.make_layer()(x))
        z = keras.Input(self.z_shape, name="z")
        return keras.Model([x, z], self.make_layer()(x, z))

    def inputs(self, batch, seed=0):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(batch,) + self.x_shape).astype("float32")
        if not self.z_shape:
            return [x]
        return [x, rng.normal(size=(batch,) + self.z_shape).astype("float32")]


MI = layers.MultiplicativeInteraction
CASES = (
    Case("mi_full", lambda: MI(6, form="full"), (5,), (3,)),
    Case("mi_full_feature_map", lambda: MI(6, activation="relu"),
         (4, 4, 5), (3,)),
    Case("mi_full_outer_sequence", lambda: MI(6, contraction="outer"),
         (4, 5), (4, 3)),
    Case("mi_low_rank", lambda: MI(6, form="low_rank", rank=2), (4, 5), (3,)),
    Case("mi_diagonal", lambda: MI(form="diagonal"), (4, 4, 5), (3,)),
    Case("mi_scalar", lambda: MI(5, form="scalar"), (5,), (3,)),
    Case("film", lambda: layers.FiLM(), (4, 4, 5), (3,)),
    Case("film_channels_first", lambda: layers.FiLM(axis=1), (5, 4, 4), (3,)),
    Case("concat_linear", lambda: layers.ConcatLinear(6), (4, 5), (3,)),
    Case("conditional_bias", lambda: layers.ConditionalBias(6), (5,), (3,)),
    Case("conditional_scaling", lambda: layers.ConditionalScaling(),
         (4, 5), (3,)),
    Case("mi_lstm", lambda: keras.layers.RNN(
        layers.MultiplicativeIntegrationLSTMCell(6)), (4, 5)),
)


def feed(inputs):
    """Model input: the tensor itself for one input, else the list."""
    return inputs[0] if len(inputs) == 1 else list(inputs)


def layer_classes(case):
    """The mi_zoo classes a case exercises (the cell inside an RNN too)."""
    layer = case.make_layer()
    found = {type(layer)}
    if isinstance(layer, keras.layers.RNN):
        found.add(type(layer.cell))
    return found
