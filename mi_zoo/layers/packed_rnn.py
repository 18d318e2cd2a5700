"""GRU and LSTM layers that compute only the unmasked steps of each sequence.

Keras's masked RNN runs every row of the batch through every time step and
then, at a masked step, keeps the previous state with a `where`. A batch of
padded questions (VQA v2: 14 slots, about 6 real words) therefore pays for
the padding in the forward and in the backward pass. PyTorch's reference
implementations avoid that with `pack_padded_sequence`.

`PackedGRU` and `PackedLSTM` are `keras.layers.GRU` / `keras.layers.LSTM`
with the same weights, arguments and outputs; only the loop differs: at step
t the cell runs on the rows whose mask is true at t (gathered), and their
new states are scattered back into the batch. Rows masked at t keep their
state and their previous output (or a zero output with
`zero_output_for_mask`), exactly as in Keras's loop, for any mask: right- or
left-padded, or with holes. The work is proportional to the real tokens.

The packed loop needs tensors of a data-dependent size, so it runs where
those exist: the TensorFlow backend outside XLA and the PyTorch backend. It
is also skipped for a call without a mask, without a static number of time
steps, for a stateful layer, and in training with input or recurrent
dropout (Keras draws those masks for the whole batch), and where a GPU is
visible (Keras's cuDNN kernels are kept there). In every such case the layer
runs Keras's own loop, so it is always a drop-in replacement.

On TensorFlow, a GRU cell with Keras's defaults (reset gate after the
recurrent product, biases, sigmoid and tanh) runs `fused_gru_loop`, the
same packed loop with its backward pass written out so that each weight
gradient is one matrix product over the rows of all steps instead of one
per step.
"""

import keras
from keras import ops
from keras import tree

# Backends whose tensors may have a data-dependent number of rows inside the
# traced training step.
PACKING_BACKENDS = ("tensorflow", "torch")


def in_xla_context():
    """True inside a TensorFlow function compiled with XLA
    (`tf.function(jit_compile=True)`), where shapes must be static."""
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    enclosing = getattr(tf.__internal__, "get_enclosing_xla_context", None)
    if enclosing is None:  # cannot tell: assume XLA, keep Keras's loop
        return True
    return enclosing() is not None


def gpu_visible():
    """True when the backend sees a GPU: Keras's GRU and LSTM then use cuDNN
    kernels, which are kept."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf  # pylint: disable=import-outside-toplevel

        return bool(tf.config.list_logical_devices("GPU"))
    if backend == "torch":
        import torch  # pylint: disable=import-outside-toplevel

        return torch.cuda.is_available()
    return False


def packed_loop(
    cell,
    sequences,
    initial_state,
    mask,
    go_backwards=False,
    zero_output_for_mask=False,
    return_sequences=True,
):
    """Runs `cell` over the unmasked steps of each row only.

    Dimension letters: B batch, T time steps, E input features, D cell
    output size, K rows unmasked at a step.

    Args:
      cell: a Keras RNN cell, called as `cell(inputs [K, E], states)`.
      sequences: [B, T, E] with a static T.
      initial_state: list of the cell's states, each [B, ...].
      mask: bool [B, T]; at a false step a row keeps its states.
      go_backwards: run the steps from T - 1 down to 0 (the outputs are in
        that order, as Keras returns them).
      zero_output_for_mask: a masked step outputs zeros instead of the
        row's previous output.
      return_sequences: also stack the outputs of every step.

    Returns:
      (last_output [B, D], outputs [B, T, D] or [B, 1, D], states), the
      triple of Keras's `backend.rnn`.
    """
    if fused_gru_applies(cell):
        return fused_gru_loop(
            cell,
            sequences,
            initial_state[0],
            mask,
            go_backwards,
            zero_output_for_mask,
            return_sequences,
        )
    steps = sequences.shape[1]
    states = list(initial_state)
    # [B, D], the previous output: zeros before the first step.
    output = ops.zeros(
        (ops.shape(sequences)[0], cell.output_size), dtype=states[0].dtype
    )
    outputs = []
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    for t in order:
        rows = ops.where(mask[:, t])[0]  # [K]
        if zero_output_for_mask:
            output = ops.zeros_like(output)
        if rows.shape[0] == 0:
            # Known empty (eager): nothing to run. Keras's TensorFlow `add`
            # would also misread a [0, D] operand as a bias.
            outputs.append(output)
            continue
        index = ops.expand_dims(rows, -1)  # [K, 1]
        step_output, new_states = cell(
            ops.take(sequences[:, t], rows, axis=0),  # [K, E]
            [ops.take(s, rows, axis=0) for s in states],
        )
        if not tree.is_nested(new_states):
            new_states = [new_states]
        states = [
            ops.scatter_update(s, index, n) for s, n in zip(states, new_states)
        ]
        output = ops.scatter_update(output, index, step_output)  # [B, D]
        outputs.append(output)
    if return_sequences:
        stacked = ops.stack(outputs, axis=1)  # [B, T, D]
    else:
        stacked = ops.expand_dims(output, 1)  # [B, 1, D]
    return output, stacked, states


def fused_gru_applies(cell):
    """Whether `fused_gru_loop` computes `cell`: a Keras GRU cell with the
    reset gate after the recurrent product, biases, sigmoid gates and tanh,
    on the TensorFlow backend."""
    return (
        keras.backend.backend() == "tensorflow"
        and isinstance(cell, keras.layers.GRUCell)
        and cell.reset_after
        and cell.use_bias
        and cell.activation is keras.activations.tanh
        and cell.recurrent_activation is keras.activations.sigmoid
    )


def few_rows_per_step(batch_rows, units):
    """Whether the fused GRU's backward computes each step's
    ∂h = ∂gates·Uᵀ as (U·∂gatesᵀ)ᵀ: when a step's rows (at most the
    batch's `batch_rows`; None, unknown, is taken as few) are fewer than the
    `units` D. TensorFlow's CPU matmul with transpose_b on the big [D, 3D]
    kernel and a few rows took 1.5–4× as long (D = 1024, 8 rows: 9.8
    against 2.5 ms); at D rows the two took about as long, and with more
    rows transpose_b was the faster (docs/benchmarks.md §3m). Uᵀ cannot
    be formed once instead: Grappler folds a Transpose feeding a MatMul
    back into transpose_b."""
    return batch_rows is None or batch_rows < units


def fused_gru_loop(
    cell,
    sequences,
    initial_state,
    mask,
    go_backwards,
    zero_output_for_mask,
    return_sequences,
):
    """`packed_loop` for a GRU cell (`fused_gru_applies`), with its backward
    pass written out so that each weight gradient is one matrix product.

    Differentiating the unrolled loop gives, at every step, products such
    as hᵀ·∂gates whose inner dimension is only the K rows active at that
    step, each writing a whole [D, 3D] matrix, then a sum of the T copies.
    Here the input projection x·W is one product over all B·T rows before
    the loop, and the backward pass runs the steps in reverse for the
    state and gate gradients only, keeping each step's rows, then forms
    ∂W = xᵀ·∂(xW), ∂U = Hᵀ·∂(hU) and the biases' gradients once, over the
    rows of all steps (as cuDNN's RNN backward does).

    Equations (Keras's GRUCell, reset_after=True; gates in the order z,
    r, h): xz, xr, xh = x·W + b_x; hz, hr, hh = h·U + b_h;
    z = σ(xz + hz), r = σ(xr + hr), n = tanh(xh + r ⊙ hh),
    h' = z ⊙ h + (1 − z) ⊙ n.

    Dimension letters: B batch, T steps, E input features, D units, K rows
    active at a step, N rows active over all steps.

    Returns:
      As `packed_loop`: (last_output [B, D], outputs [B, T, D] or
      [B, 1, D], [state [B, D]]).
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    dtype = sequences.dtype
    kernel = ops.cast(cell.kernel, dtype)  # [E, 3D]
    recurrent_kernel = ops.cast(cell.recurrent_kernel, dtype)  # [D, 3D]
    bias = ops.cast(cell.bias, dtype)  # [2, 3D]
    steps = sequences.shape[1]
    order = list(range(steps - 1, -1, -1) if go_backwards else range(steps))
    units = cell.units
    rows_of = [tf.where(mask[:, t])[:, 0] for t in order]  # each [K]
    few_rows = few_rows_per_step(sequences.shape[0], units)

    @tf.custom_gradient
    def loop(x, h0, kernel, recurrent_kernel, bias):
        batch = tf.shape(x)[0]
        x_proj = tf.reshape(
            tf.matmul(tf.reshape(x, [-1, x.shape[-1]]), kernel) + bias[0],
            [batch, steps, 3 * units],
        )  # [B, T, 3D]
        h, output = h0, tf.zeros_like(h0)  # [B, D]
        outputs, saved = [], []
        for t, rows in zip(order, rows_of):
            index = rows[:, None]  # [K, 1]
            xz, xr, xh = tf.split(tf.gather(x_proj[:, t], rows), 3, axis=-1)
            h_rows = tf.gather(h, rows)  # [K, D]
            hz, hr, hh = tf.split(
                tf.matmul(h_rows, recurrent_kernel) + bias[1], 3, axis=-1
            )
            z = tf.sigmoid(xz + hz)
            r = tf.sigmoid(xr + hr)
            n = tf.tanh(xh + r * hh)
            new = z * h_rows + (1 - z) * n  # [K, D]
            h = tf.tensor_scatter_nd_update(h, index, new)
            if zero_output_for_mask:
                output = tf.zeros_like(output)
            output = tf.tensor_scatter_nd_update(output, index, new)
            outputs.append(output)
            saved.append((h_rows, z, r, n, hh))

        def step_input_grad(d_rec_rows):
            """∂h = ∂gates·Uᵀ for a step's K rows: [K, 3D] -> [K, D]."""
            if few_rows:  # (U·∂gatesᵀ)ᵀ: no transposed [D, 3D] operand.
                return tf.transpose(
                    tf.matmul(recurrent_kernel, d_rec_rows, transpose_b=True)
                )
            return tf.matmul(d_rec_rows, recurrent_kernel, transpose_b=True)

        def grad(d_last, d_state, d_outputs=None):
            zeros = tf.zeros_like(h0)
            d_h = zeros if d_state is None else d_state  # [B, D]
            d_out = zeros if d_last is None else d_last  # [B, D]
            d_x_proj, d_rec, h_all = [None] * steps, [], []
            for i in range(len(order) - 1, -1, -1):
                t, rows = order[i], rows_of[i]
                h_rows, z, r, n, hh = saved[i]
                index = rows[:, None]
                if d_outputs is not None:
                    d_out = d_out + d_outputs[:, i]
                d_new = tf.gather(d_out, rows) + tf.gather(d_h, rows)
                # Through h' = z ⊙ h + (1 − z) ⊙ n.
                d_z = d_new * (h_rows - n) * z * (1 - z)
                d_n = d_new * (1 - z) * (1 - n * n)
                d_r = d_n * hh * r * (1 - r)
                d_rec_rows = tf.concat([d_z, d_r, d_n * r], -1)  # [K, 3D]
                d_h_rows = d_new * z + step_input_grad(d_rec_rows)
                d_h = tf.tensor_scatter_nd_update(d_h, index, d_h_rows)
                if zero_output_for_mask:
                    d_out = zeros
                else:
                    d_out = tf.tensor_scatter_nd_update(
                        d_out, index, tf.zeros_like(d_h_rows)
                    )
                d_x_proj[t] = tf.scatter_nd(
                    index,
                    tf.concat([d_z, d_r, d_n], -1),
                    [batch, 3 * units],
                )  # [B, 3D]
                d_rec.append(d_rec_rows)
                h_all.append(h_rows)
            d_x_proj = tf.reshape(
                tf.stack(d_x_proj, axis=1), [-1, 3 * units]
            )  # [B·T, 3D]
            d_rec = tf.concat(d_rec, 0)  # [N, 3D]
            h_all = tf.concat(h_all, 0)  # [N, D]
            flat_x = tf.reshape(x, [-1, x.shape[-1]])  # [B·T, E]
            d_x = tf.reshape(
                tf.matmul(d_x_proj, kernel, transpose_b=True), tf.shape(x)
            )
            d_kernel = tf.matmul(flat_x, d_x_proj, transpose_a=True)
            d_recurrent = tf.matmul(h_all, d_rec, transpose_a=True)
            d_bias = tf.stack(
                [tf.reduce_sum(d_x_proj, 0), tf.reduce_sum(d_rec, 0)]
            )
            return d_x, d_h, d_kernel, d_recurrent, d_bias

        if return_sequences:
            return (output, h, tf.stack(outputs, axis=1)), grad
        return (output, h), grad

    results = loop(sequences, initial_state, kernel, recurrent_kernel, bias)
    last, state = results[0], results[1]
    if return_sequences:
        stacked = results[2]  # [B, T, D]
    else:
        stacked = ops.expand_dims(last, 1)  # [B, 1, D]
    return last, stacked, [state]


class _PackedLoop:
    """Replaces `inner_loop` of a Keras RNN layer by `packed_loop` where
    the backend allows it (see the module docstring)."""

    def packs(self, sequences, mask, training):
        """Whether this call runs the packed loop."""
        dropout = self.cell.dropout or self.cell.recurrent_dropout
        return (
            mask is not None
            and sequences.shape[1] is not None
            and not self.stateful
            and not (training and dropout)
            and keras.backend.backend() in PACKING_BACKENDS
            and not in_xla_context()
            and not gpu_visible()
        )

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if tree.is_nested(mask):
            mask = mask[0]
        if not self.packs(sequences, mask, training):
            return super().inner_loop(
                sequences, initial_state, mask, training=training
            )
        if not tree.is_nested(initial_state):
            initial_state = [initial_state]
        return packed_loop(
            self.cell,
            sequences,
            initial_state,
            ops.cast(mask, "bool"),
            go_backwards=self.go_backwards,
            zero_output_for_mask=self.zero_output_for_mask,
            return_sequences=self.return_sequences,
        )


@keras.saving.register_keras_serializable(package="mi_zoo")
class PackedGRU(_PackedLoop, keras.layers.GRU):
    """`keras.layers.GRU` that computes only the unmasked steps of each row.

    Same arguments, weights and outputs as `keras.layers.GRU`; with a mask,
    on the TensorFlow backend outside XLA or on PyTorch, each step runs the
    cell on the rows whose mask is set (see the module docstring), like
    PyTorch's packed sequences. A `tf.train.Checkpoint` (the trainer's) of
    a `keras.layers.GRU` restores into it, and a `.keras` file keeps the
    class it was saved with; a `.weights.h5` file does not carry over,
    since Keras addresses the layers there by class name.

    Example:

        import keras
        from keras import ops
        from mi_zoo.layers import PackedGRU

        tokens = keras.Input((14,), dtype="int32")
        embedded = keras.layers.Embedding(1000, 300)(tokens)
        state = PackedGRU(512)(embedded, mask=ops.not_equal(tokens, 0))
    """


@keras.saving.register_keras_serializable(package="mi_zoo")
class PackedLSTM(_PackedLoop, keras.layers.LSTM):
    """`keras.layers.LSTM` that computes only the unmasked steps of each
    row; otherwise as `PackedGRU`."""
