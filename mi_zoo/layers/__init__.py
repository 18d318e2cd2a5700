"""Keras 3 multiplicative-interaction and conditioning layers.

Every layer is written with `keras.ops` only (it runs on the TensorFlow, JAX
and PyTorch backends; `PackedGRU`/`PackedLSTM` pack their steps on
TensorFlow and PyTorch and run Keras's loop under JAX), builds lazily from
its first call, and is registered for `.keras` serialisation under the
package name "mi_zoo" (but for `TiedOutputInteraction`, which refers to its
`TiedEmbedding`).
"""

from mi_zoo.layers.concat_linear import ConcatLinear
from mi_zoo.layers.conditional_bias import ConditionalBias
from mi_zoo.layers.conditional_scaling import ConditionalScaling
from mi_zoo.layers.coordinate_channels import CoordinateChannels
from mi_zoo.layers.film import FiLM
from mi_zoo.layers.multiplicative_integration_lstm_cell import (
    MultiplicativeIntegrationLSTMCell,
)
from mi_zoo.layers.multiplicative_interaction import MultiplicativeInteraction
from mi_zoo.layers.packed_rnn import PackedGRU
from mi_zoo.layers.packed_rnn import PackedLSTM
from mi_zoo.layers.tied_embedding import TiedEmbedding
from mi_zoo.layers.tied_embedding import TiedOutputInteraction
from mi_zoo.layers.weight_norm import WeightNormDense

__all__ = [
    "ConcatLinear",
    "ConditionalBias",
    "ConditionalScaling",
    "CoordinateChannels",
    "FiLM",
    "MultiplicativeIntegrationLSTMCell",
    "MultiplicativeInteraction",
    "PackedGRU",
    "PackedLSTM",
    "TiedEmbedding",
    "TiedOutputInteraction",
    "WeightNormDense",
]
