"""Multimodal factorized bilinear (MFB) and high-order (MFH) pooling."""

import keras
from keras import ops

from mi_zoo.core import validation
from mi_zoo.fusion import _common
from mi_zoo.layers import base


@keras.saving.register_keras_serializable(package="mi_zoo")
class FactorizedBilinearPooling(base.WeightedLayer):
    """Multimodal factorized bilinear (MFB) or high-order (MFH) pooling.

    MFB (Yu et al., "Multi-modal Factorized Bilinear Pooling with
    Co-Attention Learning for Visual Question Answering", ICCV 2017) factors
    each of the o bilinear forms zⱼ = xᵀWⱼy into k rank-one terms, which is an
    expanded product followed by sum pooling over windows of k:

        e = Dropout((Ũᵀx + b_x) ∘ (Ṽᵀy + b_y))             ∈ R^{k·o}
        z = SumPool(e, k),  zⱼ = Σ_{t<k} e[j·k + t]          ∈ R^o
        z ← z / ‖z‖₂,  z ← sign(z)·√|z| first                (normalisation)

    MFH (Yu et al., "Beyond Bilinear: Generalized Multimodal Factorized
    High-order Pooling for Visual Question Answering", IEEE TNNLS 2018)
    cascades p = `order` MFB blocks: block i's expanded product is multiplied
    by block (i−1)'s (after its dropout) before sum pooling,

        e₁ = Dropout((Ũ₁ᵀx + b) ∘ (Ṽ₁ᵀy + b))
        eᵢ = Dropout((Ũᵢᵀx + b) ∘ (Ṽᵢᵀy + b) ∘ eᵢ₋₁),  i = 2..p
        zᵢ = L2(sign·√(SumPool(eᵢ, k))),   out = [z₁; ...; z_p]   ∈ R^{p·o}

    so order=1 is MFB and order=2 the paper's MFH. One class covers both, as
    MFB is MFH of order 1 (the authors' code shares the block too).

    The options of block.bootstrap.pytorch's `MFB` and `MFH` fusions
    (Ben-younes et al.'s fusion library; there `activ_input`,
    `dropout_input`, `output_dim`, `activ_output`, `dropout_output`), in
    its order:

        Ũᵢᵀx + b, Ṽᵢᵀy + b ← Dropout(input_activation(·))  each projection
        out ← output_activation([z₁; ...; z_p] W_o + b_o)   output_units
        out ← Dropout(out)                                  dropout_output

    `dropout` is block's `dropout_pre_norm` (MFB) / `dropout_pre_lin`
    (MFH), and `power_normalize` = `l2_normalize` its `normalize`. Without
    `output_units` there is no W_o, b_o: `output_activation` and
    `dropout_output` act on the pooled output. block's defaults are ReLU
    for both activations; the defaults here (all off) give the layer above.

    The weights of all blocks are stored side by side: `x_kernel` Ũ is
    [n, p·o·k] and `y_kernel` Ṽ is [m, p·o·k] (biases `x_bias`, `y_bias`
    [p·o·k]), column (i·o + j)·k + t holding factor t of output j of block i.
    With `output_units` = u, `output_kernel` W_o [p·o, u] and `output_bias`
    b_o [u]. `count_params()` = p·k·o·(n + m + 2) (p·k·o·(n + m) without
    biases), plus (p·o + 1)·u with `output_units` (p·o·u without). The
    biases follow the authors' code (fully-connected layers); the paper's
    formula has none (use_bias=False).

    Args:
      units: o, the output size of each block (1000 in the paper).
      factor: k, the number of factors per output (5 in the paper).
      order: p, the number of cascaded blocks; 1 for MFB, 2 for MFH.
      dropout: rate of the dropout on each expanded product (0.1 in the
        authors' code).
      power_normalize: whether to apply sign(z)·√|z| (gradient 0 at z = 0).
      l2_normalize: whether to L2-normalise each block's output.
      use_bias: whether Ũᵀx, Ṽᵀy (and the output projection) have biases.
      seed: seed of the dropouts (None for random ones): `dropout`,
        `dropout_input` and `dropout_output` use seed, seed + 1, seed + 2.
      input_activation: activation of the projections Ũᵀx + b and Ṽᵀy + b
        (name or callable; None for none).
      dropout_input: dropout rate on the projections, after
        `input_activation`, with independent masks for x and y.
      output_units: u, the size of a linear output projection of the
        concatenated blocks (block's `output_dim`); None for none.
      output_activation: activation of the output (name or callable; None
        for none), after the output projection.
      dropout_output: dropout rate on the output, after
        `output_activation`.
      kernel_initializer, bias_initializer, kernel_regularizer,
      bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: for Ũ, Ṽ (kernels) and their biases.
      **kwargs: base `keras.layers.Layer` arguments.

    Input shapes:
      x: [B, ..., n] and y: [B, ..., m] with the same leading axes, or one of
      them [B, f] (broadcast over the other's middle axes, e.g. a question
      [B, n] against image regions [B, S, m]).

    Output shape:
      [B, ..., order·units], or [B, ..., output_units].

    Example:

    >>> import numpy as np, keras
    >>> from mi_zoo.fusion import FactorizedBilinearPooling
    >>> question = keras.Input((32,)); regions = keras.Input((49, 64))
    >>> mfh = FactorizedBilinearPooling(100, factor=5, order=2)
    >>> keras.Model([question, regions], mfh(question, regions)).predict(
    ...     [np.ones((2, 32)), np.ones((2, 49, 64))], verbose=0).shape
    (2, 49, 200)

    block.bootstrap's MFH (ReLU in and out, output projection):

    >>> block_mfh = FactorizedBilinearPooling(
    ...     100, factor=5, order=2, input_activation="relu", dropout_input=0.1,
    ...     output_units=10, output_activation="relu")
    >>> tuple(block_mfh(np.ones((2, 32)), np.ones((2, 64))).shape)
    (2, 10)
    """

    has_activation = False

    def __init__(
        self,
        units=1000,
        factor=5,
        order=1,
        dropout=0.1,
        power_normalize=True,
        l2_normalize=True,
        use_bias=True,
        seed=None,
        input_activation=None,
        dropout_input=0.0,
        output_units=None,
        output_activation=None,
        dropout_output=0.0,
        **kwargs,
    ):
        super().__init__(
            use_bias=use_bias,
            **kwargs,
        )
        # Plain Python ints (NumPy integers accepted): `order` is also the
        # number of parts of an `ops.split`, which refuses a NumPy integer.
        units, factor, order = validation.check_positive_ints(
            units=units, factor=factor, order=order
        )
        validation.check_positive_int(
            "output_units", output_units, allow_none=True
        )
        _common.check_bool("power_normalize", power_normalize)
        _common.check_bool("l2_normalize", l2_normalize)
        self.units = units
        self.factor = factor
        self.order = order
        self.dropout = dropout
        self.power_normalize = power_normalize
        self.l2_normalize = l2_normalize
        self.seed = seed
        self.input_activation = keras.activations.get(input_activation)
        self.dropout_input = dropout_input
        self.output_units = output_units
        self.output_activation = keras.activations.get(output_activation)
        self.dropout_output = dropout_output
        (
            self.dropout_layer,
            self._dropout_input,
            self._dropout_output,
        ) = _common.dropout_layers(
            {
                "dropout": dropout,
                "dropout_input": dropout_input,
                "dropout_output": dropout_output,
            },
            self.dtype_policy,
            seed,
        )

    def _sizes(self, x_shape, y_shape):
        return _common.joint_shapes(
            "FactorizedBilinearPooling", x_shape, y_shape
        )

    def build(self, x_shape, y_shape):
        n, m, _ = self._sizes(x_shape, y_shape)
        width = self.order * self.units * self.factor
        self.x_kernel = self.add_kernel("x_kernel", (n, width))
        self.x_bias = self.add_bias("x_bias", (width,))
        self.y_kernel = self.add_kernel("y_kernel", (m, width))
        self.y_bias = self.add_bias("y_bias", (width,))
        self.output_kernel = self.output_bias = None
        if self.output_units:
            self.output_kernel = self.add_kernel(
                "output_kernel", (self.order * self.units, self.output_units)
            )
            self.output_bias = self.add_bias(
                "output_bias", (self.output_units,)
            )

    def _stages_pass(self, x, y, training):
        """(outputs of each stage, [(x part, y part) of each product])."""
        # x: [B, ..., n]; y: [B, ..., m] (one of them may be [B, f]).
        # px, py: [B(, ...), p·o·k]
        px = _common.linear(x, self.x_kernel, self.x_bias)
        py = _common.linear(y, self.y_kernel, self.y_bias)
        px, py = self.input_activation(px), self.input_activation(py)
        px = _common.apply_dropout(self._dropout_input, px, training)
        py = _common.apply_dropout(self._dropout_input, py, training)
        px, py = _common.broadcast_pair(px, py)
        big = py if len(y.shape) > len(x.shape) else px
        lead = ops.shape(big)[:-1]  # [B, ...]
        outputs, expanded, terms = [], None, []
        # Split, not sliced: the gradient of the parts is one concatenation
        # (each slice's would scatter into a zero tensor of the full width).
        pxs = ops.split(px, self.order, axis=-1) if self.order > 1 else [px]
        pys = ops.split(py, self.order, axis=-1) if self.order > 1 else [py]
        for a, b in zip(pxs, pys):  # [B, ..., o·k] each
            if expanded is not None:
                b = b * expanded  # high order: times block i−1's product
            terms.append((a, b))
            e = a * b  # [B, ..., o·k]
            e = _common.apply_dropout(self.dropout_layer, e, training)
            expanded = e
            e = ops.reshape(e, tuple(lead) + (self.units, self.factor))
            z = ops.sum(e, axis=-1)  # [B, ..., o]: sum pooling over k
            outputs.append(
                _common.normalize(z, self.power_normalize, self.l2_normalize)
            )
        return outputs, terms

    def hadamard_terms(self, x, y, training=None):
        """The operands of the layer's Hadamard product(s), F = a ∘ b.

        Takes the arguments of `call` and returns, for each stage i,
        (Uᵢᵀx + b, Vᵢᵀy + b), the second times stage i−1's product for
        i > 1 (MFH's cascade). `mi_zoo.explain` uses them for Kim & Zhang's
        gradient explanations.
        """
        return self._stages_pass(x, y, training)[1]

    def call(self, x, y, training=None):
        outputs, _ = self._stages_pass(x, y, training)
        out = outputs[0]
        if self.order > 1:
            out = ops.concatenate(outputs, axis=-1)  # [B, ..., p·o]
        if self.output_units:  # [B, ..., u]
            out = _common.linear(out, self.output_kernel, self.output_bias)
        out = self.output_activation(out)
        return _common.apply_dropout(self._dropout_output, out, training)

    def compute_output_shape(self, x_shape, y_shape):
        _, _, lead = self._sizes(x_shape, y_shape)
        return lead + (self.output_units or self.order * self.units,)

    def get_config(self):
        config = _common.config_with(
            super().get_config(),
            self,
            (
                "units",
                "factor",
                "order",
                "dropout",
                "power_normalize",
                "l2_normalize",
                "seed",
                "dropout_input",
                "output_units",
                "dropout_output",
            ),
        )
        return _common.activation_config(
            config, self, ("input_activation", "output_activation")
        )
