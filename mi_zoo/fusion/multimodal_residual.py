"""Multimodal residual networks (MRN): stacked Hadamard joint residuals."""

import keras

from mi_zoo.core import validation
from mi_zoo.fusion import _common
from mi_zoo.layers import base


@keras.saving.register_keras_serializable(package="mi_zoo")
class MultimodalResidual(base.WeightedLayer):
    """L multimodal residual blocks of a question q and a visual feature v.

    With H_0 = q, for l = 1, ..., L (each block with its own weights),

        H_l = S_l(H_{l-1}) + F_l(H_{l-1}, v)
        F_l(H, v) = σ(W_qᵀH + b_q) ∘ σ(W_2ᵀ σ(W_1ᵀv + b_1) + b_2)

    with σ = tanh, the joint residual function of Kim et al., "Multimodal
    Residual Learning for Visual QA", NeurIPS 2016 (Section 3, Figure 3(b):
    one layer on the question path, two on the visual path, element-wise
    multiplication). The shortcut S_l:

    - `shortcut="linear"` (the paper): a linear map,
      S_l(H) = W_{q'}^{(l)ᵀ}H + b', in every block, so that unrolled
      H_L = W_{q'} q + Σ_l W_{F_l} F_l(H_{l-1}, v) with W_{q'} and W_{F_l}
      products of the shortcut maps (as the paper writes it, biases aside).
    - `shortcut="identity"`: S_l(H) = H where sizes match
      (H_l = H_{l-1} + F_l(H_{l-1}, v)), and a linear projection only in the
      first block when q's size n differs from `units`.

    The paper omits biases "for simplicity"; the authors' code has them (all
    maps are `nn.Linear`), as here with use_bias=True. Its W_1 maps v to a
    hidden layer of v's own size, the default of `hidden_units`.

    Weights of block l (1-based): `question_kernel_l` (W_q), `question_bias_l`
    (b_q), `visual_hidden_kernel_l` (W_1), `visual_hidden_bias_l` (b_1),
    `visual_kernel_l` (W_2), `visual_bias_l` (b_2), and, for a linear
    shortcut, `shortcut_kernel_l` (W_{q'}) and `shortcut_bias_l` (b').

    Dropout drops units of both branches σ(W_qᵀH + b_q) and
    σ(W_2ᵀσ(W_1ᵀv + b_1) + b_2) before their product, in training only (the
    authors' code drops the inputs of each linear map instead).

    Args:
      units: d, the size of H_1, ..., H_L and of the output.
      num_layers: L, the number of residual blocks.
      hidden_units: size of the visual path's hidden layer W_1; None uses
        v's size, as in the authors' code.
      activation: σ (name or callable), tanh as in the paper.
      shortcut: `"linear"` (the paper) or `"identity"`.
      dropout: dropout rate on both branches of F, in [0, 1).
      use_bias: whether the linear maps have biases.
      kernel_initializer, bias_initializer, kernel_regularizer,
      bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: as in `keras.layers.Dense`.
      **kwargs: base `keras.layers.Layer` arguments.

    Input shapes:
      q: [B, ..., n]; v: [B, ..., m] with the same leading axes, or either of
      them [B, features], broadcast over the other's middle axes.

    Output shape:
      H_L: [B, ..., d], the leading axes of the higher-rank input.

    Example:

    >>> import numpy as np, keras
    >>> from mi_zoo.fusion import MultimodalResidual
    >>> q = keras.Input((24,)); v = keras.Input((32,))
    >>> h = MultimodalResidual(16, num_layers=3)(q, v)
    >>> keras.Model([q, v], h).predict(
    ...     [np.ones((2, 24)), np.ones((2, 32))], verbose=0).shape
    (2, 16)
    """

    def __init__(
        self,
        units,
        num_layers=1,
        hidden_units=None,
        activation="tanh",
        shortcut="linear",
        dropout=0.0,
        use_bias=True,
        **kwargs,
    ):
        super().__init__(
            use_bias=use_bias,
            activation=activation,
            **kwargs,
        )
        validation.check_positive_int("units", units)
        validation.check_positive_int("num_layers", num_layers)
        validation.check_positive_int(
            "hidden_units", hidden_units, allow_none=True
        )
        validation.check_choice("shortcut", shortcut, ("linear", "identity"))
        self.units = units
        self.num_layers = num_layers
        self.hidden_units = hidden_units
        self.shortcut = shortcut
        self.dropout = dropout
        self._dropout = _common.dropout_layer(dropout, self.dtype_policy)

    def _sizes(self, q_shape, v_shape):
        return _common.joint_shapes(
            "MultimodalResidual", q_shape, v_shape, "q", "v"
        )

    def build(self, q_shape, v_shape):
        n, m, _ = self._sizes(q_shape, v_shape)
        d, h = self.units, self.hidden_units or m
        self._blocks = []
        for l in range(1, self.num_layers + 1):
            a = n if l == 1 else d
            block = {
                "question_kernel": self.add_kernel(
                    f"question_kernel_{l}", (a, d)
                ),
                "question_bias": self.add_bias(f"question_bias_{l}", (d,)),
                "visual_hidden_kernel": self.add_kernel(
                    f"visual_hidden_kernel_{l}", (m, h)
                ),
                "visual_hidden_bias": self.add_bias(
                    f"visual_hidden_bias_{l}", (h,)
                ),
                "visual_kernel": self.add_kernel(f"visual_kernel_{l}", (h, d)),
                "visual_bias": self.add_bias(f"visual_bias_{l}", (d,)),
                "shortcut_kernel": None,
                "shortcut_bias": None,
            }
            if self.shortcut == "linear" or a != d:
                block["shortcut_kernel"] = self.add_kernel(
                    f"shortcut_kernel_{l}", (a, d)
                )
                block["shortcut_bias"] = self.add_bias(
                    f"shortcut_bias_{l}", (d,)
                )
            self._blocks.append(block)

    def _blocks_pass(self, q, v, training):
        """(H_L, [(question branch, visual branch) of each block])."""
        # q: [B, ..., n]; v: [B, ..., m] (either may be [B, features]).
        h, terms = q, []  # H_0
        for block in self._blocks:
            gq = self.activation(
                _common.linear(
                    h, block["question_kernel"], block["question_bias"]
                )
            )  # [.., d]
            gv = self.activation(
                _common.linear(
                    v,
                    block["visual_hidden_kernel"],
                    block["visual_hidden_bias"],
                )
            )  # [B(, ...), h]
            gv = self.activation(
                _common.linear(
                    gv, block["visual_kernel"], block["visual_bias"]
                )
            )  # [.., d]
            if self._dropout is not None:
                gq = self._dropout(gq, training=training)
                gv = self._dropout(gv, training=training)
            gq, gv = _common.broadcast_pair(gq, gv)
            terms.append((gq, gv))
            residual = gq * gv  # F_l(H_{l-1}, v): [B, ..., d]
            if block["shortcut_kernel"] is not None:
                h = _common.linear(
                    h, block["shortcut_kernel"], block["shortcut_bias"]
                )
            h, residual = _common.broadcast_pair(h, residual)
            h = h + residual  # H_l: [B, ..., d]
        return h, terms

    def hadamard_terms(self, q, v, training=None):
        """The operands of the layer's Hadamard product(s), F = a ∘ b.

        Takes the arguments of `call` and returns, for each block l, (the
        question branch σ(W_qᵀH_{l−1} + b_q), the visual branch
        σ(W_2ᵀσ(W_1ᵀv + b_1) + b_2)). `mi_zoo.explain` uses them for Kim &
        Zhang's gradient explanations.
        """
        return self._blocks_pass(q, v, training)[1]

    def call(self, q, v, training=None):
        return self._blocks_pass(q, v, training)[0]

    def compute_output_shape(self, q_shape, v_shape):
        _, _, leading = self._sizes(q_shape, v_shape)
        return leading + (self.units,)

    def get_config(self):
        return _common.config_with(
            super().get_config(),
            self,
            ("units", "num_layers", "hidden_units", "shortcut", "dropout"),
        )
