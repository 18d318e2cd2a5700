"""LSTM cell with multiplicative integration (MI-LSTM)."""

import keras
from keras import ops

from mi_zoo.core import validation


@keras.saving.register_keras_serializable(package="mi_zoo")
class MultiplicativeIntegrationLSTMCell(keras.layers.Layer):
    """LSTM cell whose gates integrate input and state multiplicatively.

    Wu et al., "On Multiplicative Integration with Recurrent Neural
    Networks", NeurIPS 2016. Each of the four gate pre-activations replaces
    the LSTM's sum Wx + Uh + b by

        α ∘ (Wx) ∘ (Uh) + β₁ ∘ (Uh) + β₂ ∘ (Wx) + b

    (α, β₁, β₂, b ∈ R⁴ᵘ, one value per gate unit), followed by the usual LSTM
    update in Keras's gate order (input i, forget f, candidate g, output o):

        c' = σ(f) ∘ c + σ(i) ∘ tanh(g),   h' = σ(o) ∘ tanh(c')

    (σ = `recurrent_activation`, tanh = `activation`). With α = 0 and
    β₁ = β₂ = 1 it is the plain LSTM cell. Defaults: α = β₁ = β₂ = 1, b = 0
    with the forget-gate bias at 1 (`unit_forget_bias`).

    Use it inside `keras.layers.RNN`.

    Args:
      units: size u of the hidden and cell states.
      activation: activation of the candidate and the cell output.
      recurrent_activation: activation of the gates.
      use_bias: whether to add b.
      kernel_initializer: initializer of W [n, 4u].
      recurrent_initializer: initializer of U [u, 4u].
      bias_initializer: initializer of b.
      alpha_initializer, beta_initializer: initializers of α and of β₁, β₂.
      unit_forget_bias: start the forget-gate bias at 1 (on top of
        `bias_initializer`).
      **kwargs: base `keras.layers.Layer` arguments.

    Input shapes:
      inputs: [B, n]; states: ([B, u], [B, u]) as (h, c).

    Output shape:
      [B, u], and the new states (h', c').

    Example:

    >>> import numpy as np, keras
    >>> from mi_zoo.layers import MultiplicativeIntegrationLSTMCell
    >>> rnn = keras.layers.RNN(MultiplicativeIntegrationLSTMCell(8))
    >>> tuple(rnn(np.ones((2, 5, 3), "float32")).shape)
    (2, 8)
    """

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        alpha_initializer="ones",
        beta_initializer="ones",
        unit_forget_bias=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = validation.check_positive_int("units", units)
        self.activation = keras.activations.get(activation)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(
            recurrent_initializer
        )
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.alpha_initializer = keras.initializers.get(alpha_initializer)
        self.beta_initializer = keras.initializers.get(beta_initializer)
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                "MultiplicativeIntegrationLSTMCell expects inputs of shape "
                f"[batch, features] with known features, got {tuple(input_shape)}."
            )
        n, u4 = input_shape[-1], 4 * self.units
        self.kernel = self.add_weight(
            name="kernel", shape=(n, u4), initializer=self.kernel_initializer
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.units, u4),
            initializer=self.recurrent_initializer,
        )
        self.alpha = self.add_weight(
            name="alpha", shape=(u4,), initializer=self.alpha_initializer
        )
        self.beta_recurrent = self.add_weight(
            name="beta_recurrent",
            shape=(u4,),
            initializer=self.beta_initializer,
        )
        self.beta_input = self.add_weight(
            name="beta_input", shape=(u4,), initializer=self.beta_initializer
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(u4,), initializer=self._bias_init
            )
        else:
            self.bias = None

    def _bias_init(self, shape, dtype=None):
        bias = self.bias_initializer(shape, dtype=dtype)
        if not self.unit_forget_bias:
            return bias
        u = self.units
        forget = ops.concatenate(
            [ops.zeros((u,)), ops.ones((u,)), ops.zeros((2 * u,))]
        )
        return bias + ops.cast(forget, bias.dtype)

    def call(self, inputs, states, training=False):
        h, c = states[0], states[1]  # [B, u] each
        wx = ops.matmul(inputs, self.kernel)  # [B, 4u]
        uh = ops.matmul(h, self.recurrent_kernel)  # [B, 4u]
        z = self.alpha * wx * uh + self.beta_recurrent * uh
        z = z + self.beta_input * wx
        if self.use_bias:
            z = z + self.bias
        zi, zf, zg, zo = ops.split(z, 4, axis=-1)  # [B, u] each
        c = self.recurrent_activation(zf) * c + self.recurrent_activation(
            zi
        ) * self.activation(zg)
        h = self.recurrent_activation(zo) * self.activation(c)
        return h, [h, c]

    def get_initial_state(self, batch_size=None):
        return [
            ops.zeros((batch_size, self.units), dtype=self.compute_dtype)
            for _ in range(2)
        ]

    def get_config(self):
        config = super().get_config()
        ser = keras.saving.serialize_keras_object
        config.update(
            {
                "units": self.units,
                "activation": keras.activations.serialize(self.activation),
                "recurrent_activation": keras.activations.serialize(
                    self.recurrent_activation
                ),
                "use_bias": self.use_bias,
                "kernel_initializer": ser(self.kernel_initializer),
                "recurrent_initializer": ser(self.recurrent_initializer),
                "bias_initializer": ser(self.bias_initializer),
                "alpha_initializer": ser(self.alpha_initializer),
                "beta_initializer": ser(self.beta_initializer),
                "unit_forget_bias": self.unit_forget_bias,
            }
        )
        return config
