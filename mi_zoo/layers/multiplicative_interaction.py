"""The multiplicative-interaction (MI) layer in its four forms."""

import keras
from keras import ops

from mi_zoo.core import validation
from mi_zoo.layers import base
from mi_zoo.layers import mi_contraction
from mi_zoo.layers import mi_forms
from mi_zoo.layers import ops as layer_ops


@keras.saving.register_keras_serializable(package="mi_zoo")
class MultiplicativeInteraction(base.WeightedLayer):
    """Multiplicative interaction of an input x with a context z.

    Computes, for x ∈ Rⁿ and z ∈ Rᵐ,

        f(x, z) = activation(zᵀ W x + zᵀ U + V x + b)

    which is a hypernetwork: z generates the weights W' = zᵀW + V and the bias
    b' = zᵀU + b of a linear layer applied to x (Jayakumar et al.,
    "Multiplicative Interactions and Where to Find Them", ICLR 2020). The
    `form` restricts W and V:

    - `"full"`: W is a general [m, n, k] tensor (bilinear form), V is [n, k].
    - `"low_rank"`: W is factorised with rank r,
      f = Pᵀ((Aᵀz) ∘ (Bᵀx)) + zᵀU + Vx + b with A [m, r], B [n, r], P [r, k]
      (the low-rank bilinear pooling of Kim et al., ICLR 2017).
    - `"diagonal"`: the hypernetwork emits a vector,
      f = (zᵀW_d + v) ∘ x + zᵀU + b with W_d [m, n], v [n]; k = n. On a
      feature map with a [B, m] context this is channel-wise FiLM.
    - `"scalar"`: the hypernetwork emits one scalar per example,
      f = (zᵀw + v)·x + zᵀU + b with w [m, 1], v [1]; k = n.

    In every form the weights are named after the formula: `kernel` (W, W_d
    or w), `context_kernel` (U), `input_kernel` (V, v) and `bias` (b); the
    low-rank factors are `context_factor` (A), `input_factor` (B) and
    `output_factor` (P). For the diagonal and scalar forms v starts at one, so
    the layer starts as x plus context terms.

    The full form never materialises the naive hypernetwork's [B, n, k]
    weights unless that is the smallest intermediate: it picks, from the
    static shapes, the cheapest of three contraction orders (see
    `mi_zoo.layers.mi_contraction`); the chosen order is in `self.contraction`
    after build. The "outer" order runs in chunks of the context features
    whose (z_j ⊗ x) intermediates stay in cache (`context_chunks`), each
    chunk a `mi_zoo.layers.ops.outer_product_matmul` (whose gradient under
    TensorFlow is written out for the CPU matmul's faster layout).

    Args:
      units: output size k. Required for `"full"` and `"low_rank"`; for
        `"diagonal"` and `"scalar"` it may be None (taken from x) and must
        otherwise equal x's last axis.
      form: one of `"full"`, `"low_rank"`, `"diagonal"`, `"scalar"`.
      rank: rank r of the factorisation; required for, and only for,
        `form="low_rank"`.
      use_bias: whether to add the bias b.
      activation: activation applied to the output (name or callable).
      contraction: `"auto"` (default) or, for the full form only, one of
        `"outer"`, `"input_first"`, `"context_first"` to force an order.
      kernel_initializer: initializer of W, U, V and the low-rank factors
        (not of v, which starts at one).
      bias_initializer: initializer of b.
      kernel_regularizer, bias_regularizer, activity_regularizer,
      kernel_constraint, bias_constraint: as in `keras.layers.Dense`.
      **kwargs: base `keras.layers.Layer` arguments (name, dtype, ...).

    Input shapes:
      x: [B, ..., n] with rank >= 2 ([B, n], [B, T, n], [B, H, W, n]).
      z: [B, m], broadcast over x's middle axes, or [B, ..., m] with exactly
        x's leading axes.

    Output shape:
      [B, ..., k], x's leading axes.

    Example:

    >>> import numpy as np, keras
    >>> from mi_zoo.layers import MultiplicativeInteraction
    >>> x = keras.Input((16,)); z = keras.Input((4,))
    >>> y = MultiplicativeInteraction(8, form="low_rank", rank=3)(x, z)
    >>> model = keras.Model([x, z], y)
    >>> model.predict([np.ones((2, 16)), np.ones((2, 4))], verbose=0).shape
    (2, 8)
    """

    def __init__(
        self,
        units=None,
        form="full",
        rank=None,
        use_bias=True,
        activation=None,
        contraction="auto",
        **kwargs,
    ):
        super().__init__(
            use_bias=use_bias,
            activation=activation,
            **kwargs,
        )
        self.units, self.rank = mi_forms.check_arguments(
            units, form, rank, contraction
        )
        self.form = form
        self._contraction_arg = contraction
        # The order in use; set in build() when "auto".
        self.contraction = None if contraction == "auto" else contraction

    #: Weights of the plan that a subclass takes from another layer (as a
    #: property); build() does not create them (`TiedOutputInteraction`).
    shared_weights = ()

    def build(self, x_shape, z_shape):
        n, m, k = mi_forms.sizes(self.form, self.units, x_shape, z_shape)
        if self.form == "full" and self.contraction is None:
            rows = validation.rows_per_context(x_shape, z_shape)
            self.contraction = mi_contraction.choose_contraction(m, n, k, rows)
        initializers = {"w": None, "ones": "ones", "b": None}
        for name, shape, init in mi_forms.variable_plan(
            self.form, n, m, k, self.rank, self.use_bias
        ):
            if name in self.shared_weights:
                continue
            add = self.add_bias if init == "b" else self.add_kernel
            setattr(self, name, add(name, shape, initializers[init]))
        if not self.use_bias:
            self.bias = None

    def _product_operands(self, x, zb):
        """The factors of the low-rank, diagonal and scalar forms' Hadamard
        product: (Bᵀx, Aᵀz) or (x, zᵀW_d + v)."""
        if self.form == "low_rank":
            xb = layer_ops.matmul_last(x, self.input_factor)  # [B, ..., r]
            za = layer_ops.matmul_last(zb, self.context_factor)  # [B, 1.., r]
            return xb, za
        # Feature-wise gate (diagonal) or one scalar (scalar) per example.
        return x, layer_ops.matmul_last(zb, self.kernel) + self.input_kernel

    def hadamard_terms(self, x, z):
        """The operands of the layer's Hadamard product, F = a ∘ b.

        Takes the arguments of `call` and returns [(a, b)] with a from x and
        b from z: (Bᵀx, Aᵀz) for the low-rank form, (x, zᵀW_d + v) for the
        diagonal and scalar forms (`mi_zoo.explain` uses them for Kim &
        Zhang's gradient explanations).

        Raises:
          ValueError: for the full form, whose zᵀWx is no Hadamard product.
        """
        if self.form == "full":
            raise ValueError(
                "The full form's zᵀWx is a bilinear form, not a Hadamard "
                "product: hadamard_terms needs form='low_rank', 'diagonal' "
                f"or 'scalar', got form={self.form!r} (layer {self.name!r})."
            )
        return [self._product_operands(x, layer_ops.broadcast_context(x, z))]

    def call(self, x, z):
        # x: [B, ..., n]; z: [B, m] or [B, ..., m].
        zb = layer_ops.broadcast_context(x, z)  # [B, 1.., m] or [B, ..., m]
        if self.form == "full":
            y = self._bilinear(x, z, zb)  # [B, ..., k]
            y = y + layer_ops.matmul_last(x, self.input_kernel)
        elif self.form == "low_rank":
            xb, za = self._product_operands(x, zb)  # [B, ..., r], [B, 1.., r]
            # [B, ..., k]
            y = layer_ops.matmul_last(za * xb, self.output_factor)
            y = y + layer_ops.matmul_last(x, self.input_kernel)
        else:
            x, gate = self._product_operands(x, zb)
            y = gate * x  # [B, ..., n]
        y = y + layer_ops.matmul_last(zb, self.context_kernel)  # + zᵀU
        if self.use_bias:
            y = y + self.bias
        return self.activation(y)

    def _bilinear(self, x, z, zb):
        """zᵀWx for the full form in the chosen contraction order."""
        m, n, k = self.kernel.shape
        lead = ops.shape(x)[:-1]
        if self.contraction == "outer":
            y = self._outer_chunks(x, zb)  # [N, k]
            return ops.reshape(y, tuple(lead) + (k,))
        if self.contraction == "input_first":
            w = ops.reshape(ops.transpose(self.kernel, (1, 0, 2)), (n, m * k))
            h = layer_ops.matmul_last(x, w)  # [B, ..., m·k]
            h = ops.reshape(h, tuple(lead) + (m, k))  # [B, ..., m, k]
            return ops.sum(ops.expand_dims(zb, -1) * h, axis=-2)  # [B,...,k]
        # context_first: the hypernetwork's per-example weights.
        h = layer_ops.matmul_last(z, ops.reshape(self.kernel, (m, n * k)))
        h = ops.reshape(
            h, tuple(ops.shape(z)[:-1]) + (n, k)
        )  # [B(,...), n, k]
        if len(z.shape) == len(x.shape):
            y = ops.matmul(ops.expand_dims(x, -2), h)  # [B, ..., 1, k]
            return ops.squeeze(y, -2)
        x3 = ops.reshape(x, (ops.shape(x)[0], -1, n))  # [B, P, n]
        y = ops.matmul(x3, h)  # [B, P, k]
        return ops.reshape(y, tuple(lead) + (k,))

    def _outer_chunks(self, x, zb):
        """Σ_j (z_j ⊗ x) @ W_j over the context chunks of
        `mi_contraction.context_chunks`; [N, k] for N rows of x."""
        m, n, k = self.kernel.shape
        sizes = mi_contraction.context_chunks(
            m, n, k, validation.static_product(x.shape[:-1])
        )
        points = mi_contraction.split_points(sizes)
        kernel = ops.convert_to_tensor(self.kernel)
        kernels = ops.split(kernel, points, axis=0) if points else [kernel]
        # One row of z per row of x: [N, m], then its chunks [N, m_j].
        z = ops.broadcast_to(zb, tuple(ops.shape(x)[:-1]) + (m,))
        z = ops.reshape(z, (-1, m))
        contexts = ops.split(z, points, axis=-1) if points else [z]
        x = ops.reshape(x, (-1, n))  # [N, n]
        y = None
        for size, z_j, w_j in zip(sizes, contexts, kernels):
            w_j = ops.reshape(w_j, (size * n, k))
            y_j = layer_ops.outer_product_matmul(x, z_j, w_j)  # [N, k]
            y = y_j if y is None else y + y_j
        return y

    def compute_output_shape(self, x_shape, z_shape):
        _, _, k = mi_forms.sizes(self.form, self.units, x_shape, z_shape)
        return tuple(x_shape)[:-1] + (k,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "form": self.form,
                "rank": self.rank,
                "contraction": self._contraction_arg,
            }
        )
        return config
