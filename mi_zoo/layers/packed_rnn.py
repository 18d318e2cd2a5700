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
