"""Sonnet 2 twin of `mi_zoo.layers.MultiplicativeInteraction`.

The argument and shape checks, the variable plan (names, shapes and starting
values) and the choice of contraction order are pure Python shared with the
Keras layer through `mi_zoo.core.validation` and
`mi_zoo.layers.mi_contraction`; only the arithmetic is written here, with `tf.*`
ops, so the module runs eagerly, under `tf.function` (XLA included) and under
`tf.distribute` strategies.
"""

import sonnet as snt
import tensorflow as tf

from mi_zoo.core import validation
from mi_zoo.layers import mi_contraction
from mi_zoo.layers import mi_forms


def default_w_init():
    """The default initializer of the kernels: Glorot (Xavier) uniform.

    U(-l, l) with l = sqrt(6 / (fan_in + fan_out)), the fans computed as in
    Keras (for the [m, n, k] full kernel, fan_in = m·n and fan_out = m·k), so
    that the module starts from the same distribution as its Keras twin. This
    differs from `snt.Linear`'s default (truncated normal with stddev
    1 / sqrt(fan_in)); pass `w_init` to use that one instead.
    """
    return snt.initializers.VarianceScaling(
        scale=1.0, mode="fan_avg", distribution="uniform"
    )


def check_bias_arguments(with_bias, b_init):
    """Checks `with_bias` and `b_init`; returns the bias initializer or None.

    Args:
      with_bias: whether the module has biases; must be a bool.
      b_init: initializer of the biases, None for zeros. Must be None when
        `with_bias` is False (as in `snt.Linear`).

    Returns:
      The bias initializer, or None without biases.

    Raises:
      ValueError: on a non-bool `with_bias`, or a `b_init` without biases.
    """
    if not isinstance(with_bias, bool):
        raise ValueError(
            f"`with_bias` must be a bool, got with_bias={with_bias!r}."
        )
    if not with_bias:
        if b_init is not None:
            raise ValueError("When not using a bias the b_init must be None.")
        return None
    return b_init if b_init is not None else snt.initializers.Zeros()


def matmul_last(t, w):
    """Contracts the last axis of `t` with the first of a 2-D `w`.

    [..., a] @ [a, b] -> [..., b], as one 2-D GEMM over the flattened leading
    axes; works with unknown leading dimensions.
    """
    if t.shape.rank == 2:
        return tf.matmul(t, w)
    y = tf.matmul(tf.reshape(t, [-1, t.shape[-1]]), w)  # [N, b]
    return tf.reshape(y, tf.concat([tf.shape(t)[:-1], [w.shape[-1]]], 0))


def check_built_sizes(module, x, z, x_axis, got, built):
    """Raises unless a call's sizes `got` = (x's, z's) are those `built`
    from the first call; the message names the module, x's size by
    `x_axis` ("n", "C") and both shapes."""
    if tuple(got) != tuple(built):
        raise ValueError(
            f"{module.name} was built for x with {x_axis}={built[0]} and z "
            f"with m={built[1]}, got x of shape {tuple(x.shape)} and z of "
            f"shape {tuple(z.shape)}."
        )


def broadcast_context(x, z):
    """Reshapes a [B, m] context to [B, 1, ..., 1, m] to broadcast against x.

    z with x's rank ([B, ..., m]) is returned unchanged.
    """
    for _ in range(x.shape.rank - z.shape.rank):
        z = tf.expand_dims(z, 1)
    return z


def bilinear(x, z, zb, kernel, contraction):
    """zᵀWx of the full form, contracted in the given order.

    Args:
      x: [B, ..., n].
      z: the context as given, [B, m] or [B, ..., m].
      zb: `broadcast_context(x, z)`.
      kernel: W, [m, n, k].
      contraction: one of `mi_contraction.CONTRACTIONS`.

    Returns:
      [B, ..., k].
    """
    m, n, k = kernel.shape
    out_shape = tf.concat([tf.shape(x)[:-1], [k]], 0)
    if contraction == "outer":
        # Σ_j (z_j ⊗ x) [N, m_j·n] @ W_j [m_j·n, k] over context chunks.
        sizes = mi_contraction.context_chunks(
            m, n, k, validation.static_product(x.shape[:-1])
        )
        contexts = tf.split(zb, sizes, axis=-1)
        y = None
        for size, z_j, w_j in zip(sizes, contexts, tf.split(kernel, sizes)):
            outer = z_j[..., :, None] * x[..., None, :]  # [B, ..., m_j, n]
            y_j = tf.matmul(
                tf.reshape(outer, [-1, size * n]),
                tf.reshape(w_j, [size * n, k]),
            )  # [N, k]
            y = y_j if y is None else y + y_j
        return tf.reshape(y, out_shape)
    if contraction == "input_first":
        # (x @ W) [B, ..., m, k], then summed over m weighted by z.
        w = tf.reshape(tf.transpose(kernel, [1, 0, 2]), [n, m * k])
        h = tf.reshape(
            matmul_last(x, w), tf.concat([tf.shape(x)[:-1], [m, k]], 0)
        )
        return tf.reduce_sum(zb[..., None] * h, axis=-2)
    # context_first: (z @ W) is the hypernetwork's per-example [n, k] weight.
    h = matmul_last(z, tf.reshape(kernel, [m, n * k]))  # [B(, ...), n·k]
    if z.shape.rank == x.shape.rank:
        h = tf.reshape(h, tf.concat([tf.shape(z)[:-1], [n, k]], 0))
        return tf.squeeze(tf.matmul(x[..., None, :], h), -2)
    rows = tf.reshape(x, [tf.shape(x)[0], -1, n])  # [B, P, n]
    y = tf.matmul(rows, tf.reshape(h, [-1, n, k]))  # [B, P, k]
    return tf.reshape(y, out_shape)


class MultiplicativeInteraction(snt.Module):
    """Multiplicative interaction of an input x with a context z (Sonnet 2).

    Computes, for x ∈ Rⁿ and z ∈ Rᵐ,

        f(x, z) = zᵀ W x + zᵀ U + V x + b

    which is a hypernetwork: z generates the weights W' = zᵀW + V and the bias
    b' = zᵀU + b of a linear layer applied to x (Jayakumar et al.,
    "Multiplicative Interactions and Where to Find Them", ICLR 2020). The
    `form` restricts W and V:

    - `"full"`: W is a general [m, n, k] tensor (bilinear form), V is [n, k].
    - `"low_rank"`: W is factorised with rank r,
      f = Pᵀ((Aᵀz) ∘ (Bᵀx)) + zᵀU + Vx + b with A [m, r], B [n, r], P [r, k].
    - `"diagonal"`: f = (zᵀW_d + v) ∘ x + zᵀU + b with W_d [m, n], v [n];
      k = n (channel-wise FiLM on a feature map with a [B, m] context).
    - `"scalar"`: f = (zᵀw + v)·x + zᵀU + b with w [m, 1], v [1]; k = n.

    This is the twin of `mi_zoo.layers.MultiplicativeInteraction`: same math,
    same checks and error messages, and the same variables, named after the
    formula: `kernel` (W, W_d or w), `context_kernel` (U), `input_kernel`
    (V, v), `bias` (b), and for the low-rank form `context_factor` (A),
    `input_factor` (B), `output_factor` (P). For the diagonal and scalar forms
    v starts at one, so the module starts as x plus context terms. The full
    form contracts zᵀWx in the order with the smallest intermediate (see
    `mi_zoo.layers.mi_contraction`), stored in `self.contraction` once the
    module is built.

    The variables are created on the first call, with the dtype of x (call it
    on float64 inputs to get float64 variables).

    Args:
      output_size: output size k. Required for `"full"` and `"low_rank"`; for
        `"diagonal"` and `"scalar"` it may be None (then set to n by the first
        call) and must otherwise equal x's last axis.
      form: one of `"full"`, `"low_rank"`, `"diagonal"`, `"scalar"`.
      rank: rank r of the factorisation; required for, and only for,
        `form="low_rank"`.
      with_bias: whether to add the bias b.
      w_init: initializer of W, U, V and the low-rank factors (not of v,
        which starts at one). Defaults to Glorot uniform, as the Keras layer
        (not `snt.Linear`'s truncated normal); see `default_w_init`.
      b_init: initializer of b; zeros by default. Must be None when
        `with_bias` is False.
      contraction: `"auto"` (default) or, for the full form only, one of
        `"outer"`, `"input_first"`, `"context_first"` to force an order.
      name: name of the module.

    Input shapes:
      x: [B, ..., n] with rank >= 2 ([B, n], [B, T, n], [B, H, W, n]).
      z: [B, m], broadcast over x's middle axes, or [B, ..., m] with exactly
        x's leading axes.

    Output shape:
      [B, ..., k], x's leading axes.

    Example:

    >>> import tensorflow as tf
    >>> from mi_zoo.sonnet import MultiplicativeInteraction
    >>> mi = MultiplicativeInteraction(8, form="low_rank", rank=3)
    >>> mi(tf.ones([2, 5, 16]), tf.ones([2, 4])).shape
    TensorShape([2, 5, 8])
    >>> mi.input_factor.shape, mi.input_factor.dtype.name
    (TensorShape([16, 3]), 'float32')
    """

    def __init__(
        self,
        output_size=None,
        form="full",
        rank=None,
        with_bias=True,
        w_init=None,
        b_init=None,
        contraction="auto",
        name=None,
    ):
        super().__init__(name=name)
        self.output_size, self.rank = mi_forms.check_arguments(
            output_size, form, rank, contraction, size_name="output_size"
        )
        self.b_init = check_bias_arguments(with_bias, b_init)
        self.form = form
        self.with_bias = with_bias
        self.w_init = w_init if w_init is not None else default_w_init()
        # The order in use; set by the first call when "auto".
        self.contraction = None if contraction == "auto" else contraction

    @snt.once
    def _initialize(self, x, z):
        """Creates the variables from the first inputs."""
        n, m, k = mi_forms.sizes(
            self.form,
            self.output_size,
            x.shape,
            z.shape,
            size_name="output_size",
        )
        self.input_size, self.context_size, self.output_size = n, m, k
        if self.form == "full" and self.contraction is None:
            rows = validation.rows_per_context(x.shape, z.shape)
            self.contraction = mi_contraction.choose_contraction(m, n, k, rows)
        inits = {
            "w": self.w_init,
            "ones": snt.initializers.Ones(),
            "b": self.b_init,
        }
        plan = mi_forms.variable_plan(
            self.form, n, m, k, self.rank, self.with_bias
        )
        for name, shape, init in plan:
            variable = tf.Variable(inits[init](shape, x.dtype), name=name)
            setattr(self, name, variable)

    def __call__(self, x, z):
        """Applies the interaction.

        Args:
          x: the input, [B, ..., n].
          z: the context, [B, m] or [B, ..., m].

        Returns:
          [B, ..., k].

        Raises:
          ValueError: on shapes that do not fit the form, or that differ in n
            or m from those of the first call.
        """
        x = tf.convert_to_tensor(x)
        z = tf.convert_to_tensor(z)
        n, m, _ = mi_forms.sizes(
            self.form,
            self.output_size,
            x.shape,
            z.shape,
            size_name="output_size",
        )
        self._initialize(x, z)
        check_built_sizes(
            self, x, z, "n", (n, m), (self.input_size, self.context_size)
        )
        zb = broadcast_context(x, z)  # [B, 1.., m] or [B, ..., m]
        if self.form == "full":
            y = bilinear(x, z, zb, self.kernel, self.contraction)
            y += matmul_last(x, self.input_kernel)
        elif self.form == "low_rank":
            # Pᵀ((Aᵀz) ∘ (Bᵀx)): z's projection broadcasts over x's rows.
            gated = matmul_last(zb, self.context_factor) * matmul_last(
                x, self.input_factor
            )  # [B, ..., r]
            y = matmul_last(gated, self.output_factor)
            y += matmul_last(x, self.input_kernel)
        else:
            # The hypernetwork emits a gate per feature (diagonal) or one
            # scalar (scalar) per row of z.
            y = (matmul_last(zb, self.kernel) + self.input_kernel) * x
        y += matmul_last(zb, self.context_kernel)  # + zᵀU
        if self.with_bias:
            y += self.bias
        return y
