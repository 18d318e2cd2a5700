"""ConcatMLP: a multilayer perceptron on the concatenation [x; y]."""

import keras

from mi_zoo.core import validation
from mi_zoo.fusion import _common
from mi_zoo.layers import base


@keras.saving.register_keras_serializable(package="mi_zoo")
class ConcatMLP(base.WeightedLayer):
    """Concatenation fusion: an MLP on [x; y].

    The non-linear baseline of the fusion comparison of Ben-younes et al.,
    "BLOCK: Bilinear Superdiagonal Fusion for Visual Question Answering and
    Visual Relationship Detection", AAAI 2019: with widths h_1 .. h_L
    (`hidden_units`) and g = `hidden_activation`,

        a_1 = Dropout(g(W_1ᵀ[x; y] + b_1))                ∈ R^{h_1}
        a_l = Dropout(g(W_lᵀa_{l−1} + b_l)),  l = 2..L    ∈ R^{h_l}
        out = activation(W_{L+1}ᵀa_L + b_{L+1})           ∈ R^units

    (no hidden layer: out = activation(W_1ᵀ[x; y] + b_1), linear in x and
    y). The first layer is computed as W_1[:n]ᵀx + W_1[n:]ᵀy, so a [B, n]
    input broadcast over the other's positions is never copied S times.

    block.bootstrap.pytorch's `ConcatMLP` given the same weights: its
    `dimensions`, `activation`, `dropout` are `hidden_units`,
    `hidden_activation`, `dropout` (after every hidden layer's activation)
    and its `mlp.linears[l]` is `mlp_kernel_{l+1}`, `mlp_bias_{l+1}`
    (transposed); its last layer has no activation (`activation=None`
    here). It broadcasts a [B, n] input against [B, S, m] regions with
    `reshape_as`, which fails unless m = S·n; here any S works.
    Defaults as there: two hidden layers of 500; block's VQA 2.0
    configuration (options/vqa2/cat_mlp.yaml) uses [1600, 1600] and
    dropout 0.2.

    Weights: `mlp_kernel_l` W_l and `mlp_bias_l` b_l for l = 1..L + 1,
    W_1 [n + m, h_1] (x's rows first), W_{L+1} [h_L, units].
    `count_params()` = Σ_l (w_{l−1} + 1)·w_l with w_0 = n + m, w_l = h_l,
    w_{L+1} = units (no +1 without biases).

    Args:
      units: output size (block's `output_dim`).
      hidden_units: h_1 .. h_L, a list of positive ints (may be empty).
      hidden_activation: g, the activation of every hidden layer.
      dropout: dropout rate after every hidden layer's activation.
      seed: seed of the dropout (None for a random one).
      use_bias: whether every layer has a bias.
      activation: activation of the output.
      kernel_initializer, bias_initializer, kernel_regularizer,
      bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: for all kernels and biases.
      **kwargs: base `keras.layers.Layer` arguments.

    Input shapes:
      x: [B, ..., n] and y: [B, ..., m] with the same leading axes, or one of
      them [B, f] (broadcast over the other's middle axes, e.g. a question
      [B, n] against image regions [B, S, m]).

    Output shape:
      [B, ..., units].

    Example:

    >>> import numpy as np, keras
    >>> from mi_zoo.fusion import ConcatMLP
    >>> question = keras.Input((32,)); regions = keras.Input((36, 64))
    >>> fusion = ConcatMLP(10, hidden_units=[48, 48])
    >>> keras.Model([question, regions], fusion(question, regions)).predict(
    ...     [np.ones((2, 32)), np.ones((2, 36, 64))], verbose=0).shape
    (2, 36, 10)
    """

    def __init__(
        self,
        units,
        hidden_units=(500, 500),
        hidden_activation="relu",
        dropout=0.0,
        seed=None,
        use_bias=True,
        activation=None,
        **kwargs,
    ):
        super().__init__(
            use_bias=use_bias,
            activation=activation,
            **kwargs,
        )
        self.units = validation.check_positive_int("units", units)
        self.hidden_units = _common.check_units(
            "hidden_units", hidden_units, allow_empty=True
        )
        self.hidden_activation = keras.activations.get(hidden_activation)
        self.dropout = dropout
        self.seed = seed
        self.dropout_layer = _common.dropout_layer(
            dropout, self.dtype_policy, seed=seed
        )

    def _sizes(self, x_shape, y_shape):
        return _common.joint_shapes("ConcatMLP", x_shape, y_shape)

    def build(self, x_shape, y_shape):
        n, m, _ = self._sizes(x_shape, y_shape)
        self.kernels, self.biases = _common.dense_stack(
            self, "mlp", n + m, self.hidden_units + (self.units,), 1
        )

    def call(self, x, y, training=None):
        # x: [B, ..., n]; y: [B, ..., m] (one of them may be [B, f]).
        n = x.shape[-1]
        first = self.kernels[0]
        px = _common.linear(x, first[:n], self.biases[0])  # [B(, ...), w_1]
        py = _common.linear(y, first[n:])
        px, py = _common.broadcast_pair(px, py)
        h = px + py  # W_1ᵀ[x; y] + b_1
        for kernel, bias in zip(self.kernels[1:], self.biases[1:]):
            h = self.hidden_activation(h)
            if self.dropout_layer is not None:
                h = self.dropout_layer(h, training=training)
            h = _common.linear(h, kernel, bias)
        return self.activation(h)  # [B, ..., units]

    def compute_output_shape(self, x_shape, y_shape):
        _, _, lead = self._sizes(x_shape, y_shape)
        return lead + (self.units,)

    def get_config(self):
        config = _common.config_with(
            super().get_config(), self, ("units", "dropout", "seed")
        )
        config["hidden_units"] = list(self.hidden_units)
        return _common.activation_config(config, self, ("hidden_activation",))
