"""Small `keras.ops` helpers shared by the two-input layers.

Public: the fusion layers and the language models use them too. Import it
as `from mi_zoo.layers import ops as layer_ops`, beside `keras.ops`.
"""

from keras import backend
from keras import ops


def matmul_last(t, w):
    """Contracts the last axis of `t` with the first of a 2-D `w`.

    [..., a] @ [a, b] -> [..., b], done as one 2-D GEMM over the flattened
    leading axes (a broadcast batched matmul is much slower on CPU).
    """
    if len(t.shape) == 2:
        return ops.matmul(t, w)
    lead = ops.shape(t)[:-1]
    y = ops.matmul(ops.reshape(t, (-1, t.shape[-1])), w)  # [N, b]
    return ops.reshape(y, tuple(lead) + (w.shape[-1],))


def broadcast_context(x, z):
    """Gives a [B, m] context singleton middle axes to broadcast against x.

    x: [B, ..., n]; z: [B, m] or [B, ..., m]. Returns z unchanged when it has
    x's rank, else z reshaped to [B, 1, ..., 1, m].
    """
    extra = len(x.shape) - len(z.shape)
    for _ in range(extra):
        z = ops.expand_dims(z, 1)
    return z


def outer_product_matmul(x, z, w):
    """(z ⊗ x) @ w: the full MI layer's "outer" contraction of one chunk.

    Dimension letters: N rows, n input features, m context features, k units.

    Args:
      x: [N, n] inputs.
      z: [N, m] contexts, one row per row of x.
      w: [m·n, k] weights, rows ordered (context feature, input feature).

    Returns:
      [N, k] with y[r] = Σ_ij z[r, i]·x[r, j]·w[i·n + j].

    Under TensorFlow the gradient is written out: the product's gradient is
    formed as w @ dyᵀ [m·n, N] rather than autodiff's dy @ wᵀ [N, m·n]:
    TensorFlow's CPU matmul with a transposed right-hand side ran at 47 %
    of the square matmul's rate against 81 % (docs/benchmarks.md §3k).
    Other backends differentiate the forward themselves.

    >>> import numpy as np
    >>> x, z = np.ones((2, 3), "float32"), np.ones((2, 4), "float32")
    >>> y = outer_product_matmul(x, z, np.ones((12, 5), "float32"))
    >>> [int(v) for v in ops.convert_to_numpy(y)[0]]
    [12, 12, 12, 12, 12]
    """
    n, m = x.shape[-1], z.shape[-1]
    if tuple(w.shape)[:1] != (m * n,):
        raise ValueError(
            f"`w` must have m·n = {m}·{n} = {m * n} rows (context features "
            f"times input features), got w.shape={tuple(w.shape)}."
        )

    def forward(x, z, w):
        o = ops.expand_dims(z, -1) * ops.expand_dims(x, -2)  # [N, m, n]
        o = ops.reshape(o, (-1, m * n))  # [N, m·n]
        return ops.matmul(o, w), o  # [N, k]

    if backend.backend() != "tensorflow":
        return forward(x, z, w)[0]

    @ops.custom_gradient
    def product(x, z, w):
        y, o = forward(x, z, w)

        def grad(upstream):  # upstream: [N, k]
            d_o = ops.matmul(w, ops.transpose(upstream))  # [m·n, N]
            d_o = ops.reshape(d_o, (m, n, -1))  # [m, n, N]
            x_t = ops.expand_dims(ops.transpose(x), 0)  # [1, n, N]
            z_t = ops.expand_dims(ops.transpose(z), 1)  # [m, 1, N]
            dx = ops.transpose(ops.sum(d_o * z_t, axis=0))  # [N, n]
            dz = ops.transpose(ops.sum(d_o * x_t, axis=1))  # [N, m]
            dw = ops.matmul(ops.transpose(o), upstream)  # [m·n, k]
            return dx, dz, dw

        return y, grad

    return product(x, z, w)
