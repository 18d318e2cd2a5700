"""Every Keras layer of mi_zoo, registered once for the conformance suite.

An entry builds a small functional model around one layer configuration, so
the shared tests (serialisation, SavedModel, unknown batch, XLA, mixed
precision, MirroredStrategy) run over all of them. Adding a public layer to
`mi_zoo.layers` or `mi_zoo.fusion` without an entry here (or in
`fusion_cases.py`) fails `test_every_public_layer_is_registered`.
"""

import dataclasses
from typing import Callable
from typing import Tuple

import keras
import numpy as np

from mi_zoo import layers


@dataclasses.dataclass(frozen=True)
class Case:
    """One layer configuration and the inputs it is called with.

    Attributes:
      name: test-name suffix.
      make_layer: builds a fresh layer.
      input_shapes: the shape of each positional input, without the batch.
      input_dtypes: the dtype of each input ("float32" if not given); "bool"
        inputs are padding masks with the first position always valid.
    """

    name: str
    make_layer: Callable[[], keras.layers.Layer]
    input_shapes: Tuple[Tuple[int, ...], ...]
    input_dtypes: Tuple[str, ...] = ()

    def dtypes(self):
        return self.input_dtypes or ("float32",) * len(self.input_shapes)

    def model(self):
        """A functional model: inputs -> layer(*inputs)."""
        inputs = [
            keras.Input(shape, dtype=dtype, name=f"input_{i}")
            for i, (shape, dtype) in enumerate(
                zip(self.input_shapes, self.dtypes())
            )
        ]
        outputs = self.make_layer()(*inputs)
        return keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs)

    def inputs(self, batch, seed=0):
        """Random inputs for a batch, as a list of arrays."""
        rng = np.random.default_rng(seed)
        arrays = []
        for shape, dtype in zip(self.input_shapes, self.dtypes()):
            if dtype == "bool":
                mask = rng.random((batch,) + shape) < 0.7
                mask[:, 0] = True
                arrays.append(mask)
            else:
                arrays.append(rng.normal(size=(batch,) + shape).astype(dtype))
        return arrays


def feed(inputs):
    """Model input: the tensor itself for one input, else the list."""
    return inputs[0] if len(inputs) == 1 else list(inputs)


@keras.saving.register_keras_serializable(package="mi_zoo_tests")
class TiedOutput(keras.layers.Layer):
    """A `TiedEmbedding` and the `TiedOutputInteraction` tied to it, as one
    layer (x [.., E], z [.., m]) -> logits [.., V]: the output layer refers
    to the embedding, so it is not serialisable on its own."""

    def __init__(self, vocab_size=7, embedding_size=5, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding_size = embedding_size
        self.embedding = layers.TiedEmbedding(
            vocab_size, embedding_size, use_bias=False
        )
        self.output_interaction = layers.TiedOutputInteraction(
            self.embedding, vocab_size, form="low_rank", rank=2
        )

    def build(self, x_shape, z_shape):
        self.embedding.build()
        self.output_interaction.build(x_shape, z_shape)

    def call(self, x, z):
        return self.output_interaction(x, z)

    def compute_output_shape(self, x_shape, z_shape):
        return tuple(x_shape)[:-1] + (self.vocab_size,)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocab_size=self.vocab_size, embedding_size=self.embedding_size
        )
        return config


@keras.saving.register_keras_serializable(package="mi_zoo_tests")
class MaskedRNN(keras.layers.Layer):
    """(x [T, E], valid bool [T]) -> rnn(x, mask=valid): the packed RNNs
    take their mask as a keyword (and Keras reserves the name `mask`)."""

    def __init__(self, kind="gru", units=4, **kwargs):
        super().__init__(**kwargs)
        self.kind = kind
        self.units = units
        rnn_class = {"gru": layers.PackedGRU, "lstm": layers.PackedLSTM}[kind]
        self.rnn = rnn_class(units, return_sequences=True)

    def build(self, x_shape, valid_shape):
        self.rnn.build(x_shape)

    def call(self, x, valid):
        return self.rnn(x, mask=valid)

    def compute_output_shape(self, x_shape, valid_shape):
        return tuple(x_shape)[:-1] + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(kind=self.kind, units=self.units)
        return config


MI = layers.MultiplicativeInteraction
CASES = (
    Case("mi_full", lambda: MI(6, form="full"), ((5,), (3,))),
    Case(
        "mi_full_feature_map",
        lambda: MI(6, activation="relu"),
        ((4, 4, 5), (3,)),
    ),
    Case(
        "mi_full_outer_sequence",
        lambda: MI(6, contraction="outer"),
        ((4, 5), (4, 3)),
    ),
    # Big enough that the outer product runs in context chunks (two at a
    # batch of 3, three at an unknown batch): `mi_contraction.context_chunks`.
    Case(
        "mi_full_outer_chunks",
        lambda: MI(4, contraction="outer"),
        ((64, 96), (48,)),
    ),
    Case(
        "mi_low_rank", lambda: MI(6, form="low_rank", rank=2), ((4, 5), (3,))
    ),
    Case("mi_diagonal", lambda: MI(form="diagonal"), ((4, 4, 5), (3,))),
    Case("mi_scalar", lambda: MI(5, form="scalar"), ((5,), (3,))),
    Case("film", lambda: layers.FiLM(), ((4, 4, 5), (3,))),
    Case(
        "film_channels_first", lambda: layers.FiLM(axis=1), ((5, 4, 4), (3,))
    ),
    Case("concat_linear", lambda: layers.ConcatLinear(6), ((4, 5), (3,))),
    Case("conditional_bias", lambda: layers.ConditionalBias(6), ((5,), (3,))),
    Case(
        "conditional_scaling",
        lambda: layers.ConditionalScaling(),
        ((4, 5), (3,)),
    ),
    Case(
        "coordinate_channels",
        lambda: layers.CoordinateChannels(),
        ((3, 4, 5),),
    ),
    Case(
        "mi_lstm",
        lambda: keras.layers.RNN(layers.MultiplicativeIntegrationLSTMCell(6)),
        ((4, 5),),
    ),
    # Boolean inputs are valid token ids (0, 1).
    Case(
        "tied_embedding",
        lambda: layers.TiedEmbedding(7, 5),
        ((4,),),
        ("bool",),
    ),
    Case("tied_output_interaction", TiedOutput, ((4, 5), (3,))),
    Case("packed_gru", MaskedRNN, ((5, 3), (5,)), ("float32", "bool")),
    Case(
        "packed_lstm",
        lambda: MaskedRNN("lstm"),
        ((5, 3), (5,)),
        ("float32", "bool"),
    ),
    Case(
        "weight_norm_dense",
        lambda: layers.WeightNormDense(4, activation="relu"),
        ((3, 5),),
    ),
)


def layer_classes(case):
    """The mi_zoo classes a case exercises (the cell inside an RNN too)."""
    layer = case.make_layer()
    found = {type(layer)}
    if isinstance(layer, keras.layers.RNN):
        found.add(type(layer.cell))
    if isinstance(layer, MaskedRNN):
        found.add(type(layer.rnn))
    if isinstance(layer, TiedOutput):
        found |= {type(layer.embedding), type(layer.output_interaction)}
    return found


def first_of_each_class(cases):
    """The cases, in order, that exercise some class no earlier case does:
    one configuration per class, for the checks too slow to run on every
    configuration by default."""
    seen, first = set(), []
    for case in cases:
        classes = layer_classes(case)
        if classes - seen:
            first.append(case)
        seen |= classes
    return first
