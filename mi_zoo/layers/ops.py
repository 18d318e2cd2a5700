"""Small `keras.ops` helpers shared by the two-input layers.

Public: the fusion layers and the language models use them too. Import it
as `from mi_zoo.layers import ops as layer_ops`, beside `keras.ops`.
"""

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
