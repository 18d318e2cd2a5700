"""Tied embeddings: an embedding whose matrix is also the softmax projection,
and the MI output layer that shares it (Press and Wolf, "Using the Output
Embedding to Improve Language Models", EACL 2017).

`mi_zoo.models.language` builds its tied language models with them.
"""

import keras
from keras import ops

from mi_zoo.core import validation
from mi_zoo.layers import mi_forms
from mi_zoo.layers import ops as layer_ops
from mi_zoo.layers.multiplicative_interaction import MultiplicativeInteraction


@keras.saving.register_keras_serializable(package="mi_zoo")
class TiedEmbedding(keras.layers.Layer):
    """An embedding whose matrix is also the softmax projection.

    Called on int tokens [B, ...] it returns embeddings [B, ..., E]; called
    with `reverse=True` on x [B, ..., E] it returns the logits
    x Eᵀ + b [B, ..., V] (Press and Wolf, 2017). There is one [V, E]
    variable, `embeddings`, and an output bias `bias` [V] (`use_bias`).

    Args:
      input_dim: vocabulary size V.
      output_dim: embedding size E.
      use_bias: whether the reverse call adds the bias b.
      embeddings_initializer: initializer of the [V, E] matrix.
      **kwargs: base `keras.layers.Layer` arguments.
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        use_bias=True,
        embeddings_initializer="uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.input_dim = validation.check_positive_int("input_dim", input_dim)
        self.output_dim = validation.check_positive_int(
            "output_dim", output_dim
        )
        self.use_bias = use_bias
        self.embeddings_initializer = keras.initializers.get(
            embeddings_initializer
        )

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.input_dim,), initializer="zeros"
            )

    def call(self, inputs, reverse=False):
        if reverse:  # [B, ..., E] -> [B, ..., V]
            logits = layer_ops.matmul_last(
                inputs, ops.transpose(self.embeddings)
            )
            return logits if self.bias is None else logits + self.bias
        if inputs.dtype not in ("int32", "int64"):
            inputs = ops.cast(inputs, "int32")
        return ops.take(self.embeddings, inputs, axis=0)  # [B, ..., E]

    def compute_output_spec(self, inputs, reverse=False):
        size = self.input_dim if reverse else self.output_dim
        shape = tuple(inputs.shape[:-1] if reverse else inputs.shape)
        return keras.KerasTensor(shape + (size,), dtype=self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "use_bias": self.use_bias,
                "embeddings_initializer": keras.saving.serialize_keras_object(
                    self.embeddings_initializer
                ),
            }
        )
        return config


class TiedOutputInteraction(MultiplicativeInteraction):
    """The MI output layer with V tied to a `TiedEmbedding`'s matrix.

    Computes zᵀ W x + zᵀ U + x Eᵀ + b: the plain, z-independent part of the
    softmax projection is the transposed embedding matrix, as in a tied
    LSTM; only W (or its low-rank factors), U and b are its own weights,
    created by `MultiplicativeInteraction.build` (which skips the weights
    named in `shared_weights`).

    Args:
      embedding: the (model's) `TiedEmbedding`; x must have its size E.
      units, form, rank, **kwargs: as `MultiplicativeInteraction`.

    Not serialisable on its own (it refers to another layer).
    """

    shared_weights = ("input_kernel",)

    def __init__(self, embedding, units, **kwargs):
        super().__init__(units, **kwargs)
        self.embedding = embedding

    @property
    def input_kernel(self):  # V = Eᵀ, [E, V]
        return ops.transpose(self.embedding.embeddings)

    def build(self, x_shape, z_shape):
        n, _, k = mi_forms.sizes(self.form, self.units, x_shape, z_shape)
        if (n, k) != (self.embedding.output_dim, self.embedding.input_dim):
            raise ValueError(
                f"TiedOutputInteraction: x of shape {tuple(x_shape)} and "
                f"units={k} do not fit the tied embedding "
                f"[{self.embedding.input_dim}, {self.embedding.output_dim}]."
            )
        super().build(x_shape, z_shape)
