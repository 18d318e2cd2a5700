"""LinearSum: the sum of two projections, the additive fusion baseline."""

import keras

from mi_zoo.core import validation
from mi_zoo.fusion import _common
from mi_zoo.layers import base


@keras.saving.register_keras_serializable(package="mi_zoo")
class LinearSum(base.WeightedLayer):
    """Linear-sum fusion: f(W_xᵀx) + f(W_yᵀy), then a linear output.

    The additive baseline of the fusion comparison of Ben-younes et al.,
    "BLOCK: Bilinear Superdiagonal Fusion for Visual Question Answering and
    Visual Relationship Detection", AAAI 2019 (its linear baseline):

        x̃ = f(W_xᵀx + b_x),   ỹ = f(W_yᵀy + b_y)     ∈ R^d
        z = n(x̃ + ỹ)                                 ∈ R^d
        out = activation(zᵀW_o + b_o)                ∈ R^units

    with f = `input_activation` (ReLU by default) and n(z) =
    L2(sign(z)·√|z|) when `normalize`, else z. Without f and n the output
    is linear in (x, y); with them there is still no interaction term:
    out(x, y) − out(x, y′) does not depend on x (unless `normalize`).

    block.bootstrap.pytorch's `LinearSum` given the same weights: its
    `linear0`, `linear1`, `linear_out` are W_x, W_y, W_o (transposed); its
    `activ_input`, `normalize`, `dropout_input` are `input_activation`,
    `normalize`, `dropout` (on x̃ and ỹ, after f). Its `activ_output`
    defaults to ReLU; here `activation` defaults to None, as for the other
    fusions of mi_zoo (pass activation="relu" for block's). Its
    `dropout_pre_lin` and `dropout_output` have no equivalent here.
    Default d = 1200 as there (also block's VQA 2.0 configuration,
    options/vqa2/linear_sum.yaml).

    Weights: `x_kernel` W_x [n, d], `y_kernel` W_y [m, d], `output_kernel`
    W_o [d, units] and the biases `x_bias`, `y_bias` [d], `output_bias`
    [units]. `count_params()` = (n + m + 2)·d + (d + 1)·units (no bias
    terms with `use_bias=False`).

    Args:
      units: output size (block's `output_dim`).
      mm_dim: d, the size of the projections and of z.
      input_activation: f applied to the projections ("relu"; None for
        none).
      normalize: whether to apply signed square root and L2 normalisation
        to z.
      dropout: dropout rate on x̃ and ỹ.
      seed: seed of the dropout (None for a random one).
      use_bias: whether every projection has a bias.
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
    >>> from mi_zoo.fusion import LinearSum
    >>> question = keras.Input((32,)); regions = keras.Input((36, 64))
    >>> fusion = LinearSum(10, mm_dim=48)
    >>> keras.Model([question, regions], fusion(question, regions)).predict(
    ...     [np.ones((2, 32)), np.ones((2, 36, 64))], verbose=0).shape
    (2, 36, 10)
    """

    def __init__(
        self,
        units,
        mm_dim=1200,
        input_activation="relu",
        normalize=False,
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
        self.mm_dim = validation.check_positive_int("mm_dim", mm_dim)
        _common.check_bool("normalize", normalize)
        self.input_activation = keras.activations.get(input_activation)
        self.normalize = normalize
        self.dropout = dropout
        self.seed = seed
        self.dropout_layer = _common.dropout_layer(
            dropout, self.dtype_policy, seed=seed
        )

    def _sizes(self, x_shape, y_shape):
        return _common.joint_shapes("LinearSum", x_shape, y_shape)

    def build(self, x_shape, y_shape):
        n, m, _ = self._sizes(x_shape, y_shape)
        d = self.mm_dim
        self.x_kernel = self.add_kernel("x_kernel", (n, d))
        self.x_bias = self.add_bias("x_bias", (d,))
        self.y_kernel = self.add_kernel("y_kernel", (m, d))
        self.y_bias = self.add_bias("y_bias", (d,))
        self.output_kernel = self.add_kernel("output_kernel", (d, self.units))
        self.output_bias = self.add_bias("output_bias", (self.units,))

    def call(self, x, y, training=None):
        # x: [B, ..., n]; y: [B, ..., m] (one of them may be [B, f]).
        px = self.input_activation(
            _common.linear(x, self.x_kernel, self.x_bias)
        )  # [B(, ...), d]
        py = self.input_activation(
            _common.linear(y, self.y_kernel, self.y_bias)
        )
        if self.dropout_layer is not None:
            px = self.dropout_layer(px, training=training)
            py = self.dropout_layer(py, training=training)
        px, py = _common.broadcast_pair(px, py)
        z = _common.normalize(px + py, self.normalize, self.normalize)
        out = _common.linear(z, self.output_kernel, self.output_bias)
        return self.activation(out)  # [B, ..., units]

    def compute_output_shape(self, x_shape, y_shape):
        _, _, lead = self._sizes(x_shape, y_shape)
        return lead + (self.units,)

    def get_config(self):
        config = _common.config_with(
            super().get_config(),
            self,
            ("units", "mm_dim", "normalize", "dropout", "seed"),
        )
        return _common.activation_config(config, self, ("input_activation",))
