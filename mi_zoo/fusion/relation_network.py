"""The Relation Network: a question-conditioned function of object pairs."""

import keras
from keras import ops

from mi_zoo.core import validation
from mi_zoo.fusion import _common
from mi_zoo.layers import base
from mi_zoo.layers import film
from mi_zoo.layers import multiplicative_interaction

#: How the question enters g's first layer.
QUESTION_FUSIONS = ("concat", "film", "mi")


@keras.saving.register_keras_serializable(package="mi_zoo")
class RelationNetwork(_common.ConsumesMasks, base.WeightedLayer):
    """Relation Network over a set of objects, conditioned on a question.

        RN(O, q) = f( Σ_{i,j} g(o_i, o_j, q) )

    over all N² ordered pairs of objects (i = j included), with g and f
    MLPs (Santoro et al., "A simple neural network module for relational
    reasoning", NeurIPS 2017, Eq. 1–2). Padding objects (mask False) take
    part in no pair.

    g's first layer is never formed on the N² concatenations [o_i; o_j; q]:
    with W = [W_i; W_j; W_q] it is split as

        g₁(o_i, o_j, q) = σ(W_iᵀo_i + W_jᵀo_j + W_qᵀq + b)

    and the three terms are computed once per object (or question) and
    broadcast over the pairs: O(N·d·h) instead of O(N²·d·h). How the
    question enters g₁ (`question_fusion`):

    - `"concat"` (the paper): as above; W is the weight `pair_kernel`
      [2d + m, h] (rows o_i, o_j, q), b is `pair_bias`.
    - `"film"`: g₁ = σ(FiLM(W_iᵀo_i + W_jᵀo_j + b, q)), γ(q) ∘ · + β(q)
      (Perez et al. 2018); `pair_kernel` is [2d, h] and the FiLM weights
      live in the sublayer `film`.
    - `"mi"`: g₁ = σ(MI([o_i; o_j], q)), the multiplicative interaction
      qᵀW[o_i; o_j] + qᵀU + V[o_i; o_j] + b of Jayakumar et al. (ICLR
      2020), `form="full"` (or `"low_rank"` with `mi_rank`). MI is linear
      in its input, so it is the sum of the sublayers `mi_first` on o_i and
      `mi_second` (no bias) on o_j.

    g's other layers are `g_kernel_l`, `g_bias_l` (l = 2, ..., L), f's are
    `f_kernel_l`, `f_bias_l` (l = 1, ..., K); every layer of g and f has
    the activation σ. f's output layer (the answers) is left to the model.

    Args:
      g_units: the widths of g's layers, a non-empty list.
      f_units: the widths of f's layers; empty: the layer returns Σ g.
      question_fusion: one of `"concat"`, `"film"`, `"mi"` (see above).
      mi_rank: for `question_fusion="mi"` only: None for the full form, or
        the rank of the low-rank form.
      activation: σ, ReLU as in the paper.
      use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
      bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: as in `keras.layers.Dense`, for every layer of g
        and f (and the FiLM or MI sublayer).
      **kwargs: base `keras.layers.Layer` arguments.

    Input shapes:
      objects: [B, N, d].
      question: [B, m].
      mask: optional bool [B, N], True for real objects.

    Output shape:
      [B, f_units[-1]], or [B, g_units[-1]] without f.

    Example:

    >>> import numpy as np, keras
    >>> from mi_zoo.fusion import RelationNetwork
    >>> objects = keras.Input((25, 26)); question = keras.Input((11,))
    >>> y = RelationNetwork([32, 32], f_units=[16])(objects, question)
    >>> keras.Model([objects, question], y).predict(
    ...     [np.ones((2, 25, 26)), np.ones((2, 11))], verbose=0).shape
    (2, 16)
    """

    def __init__(
        self,
        g_units,
        f_units=(),
        question_fusion="concat",
        mi_rank=None,
        activation="relu",
        use_bias=True,
        **kwargs,
    ):
        super().__init__(use_bias=use_bias, activation=activation, **kwargs)
        self.g_units = _common.check_units(
            "g_units", g_units, allow_empty=False
        )
        self.f_units = _common.check_units(
            "f_units", f_units, allow_empty=True
        )
        validation.check_choice(
            "question_fusion", question_fusion, QUESTION_FUSIONS
        )
        validation.check_positive_int("mi_rank", mi_rank, allow_none=True)
        if mi_rank is not None and question_fusion != "mi":
            raise ValueError(
                "`mi_rank` is only used by question_fusion='mi', got "
                f"mi_rank={mi_rank} with question_fusion={question_fusion!r}."
            )
        self.question_fusion = question_fusion
        self.mi_rank = mi_rank
        weights = {
            name: getattr(self, name)
            for name in (
                "kernel_initializer",
                "bias_initializer",
                "kernel_regularizer",
                "bias_regularizer",
                "kernel_constraint",
                "bias_constraint",
            )
        }
        weights["dtype"] = self.dtype_policy
        h = self.g_units[0]
        if question_fusion == "film":
            self.film = film.FiLM(use_bias=use_bias, name="film", **weights)
        elif question_fusion == "mi":
            form = (
                {"form": "full"}
                if mi_rank is None
                else {"form": "low_rank", "rank": mi_rank}
            )
            mi = multiplicative_interaction.MultiplicativeInteraction
            self.mi_first = mi(
                h, use_bias=use_bias, name="mi_first", **form, **weights
            )
            self.mi_second = mi(
                h, use_bias=False, name="mi_second", **form, **weights
            )

    def _sizes(self, objects_shape, question_shape):
        objects_shape, question_shape = (
            tuple(objects_shape),
            tuple(question_shape),
        )
        if (
            len(objects_shape) != 3
            or len(question_shape) != 2
            or objects_shape[-1] is None
            or question_shape[-1] is None
        ):
            raise ValueError(
                "RelationNetwork takes objects [batch, N, d] and a question "
                "[batch, m] with known d and m, got objects shape "
                f"{objects_shape} and question shape {question_shape}."
            )
        return int(objects_shape[-1]), int(question_shape[-1])

    def build(self, objects_shape, question_shape, mask_shape=None):
        d, m = self._sizes(objects_shape, question_shape)
        h = self.g_units[0]
        if self.question_fusion == "mi":
            self.mi_first.build(tuple(objects_shape), tuple(question_shape))
            self.mi_second.build(tuple(objects_shape), tuple(question_shape))
        else:
            rows = 2 * d + (m if self.question_fusion == "concat" else 0)
            self.pair_kernel = self.add_kernel("pair_kernel", (rows, h))
            self.pair_bias = self.add_bias("pair_bias", (h,))
        if self.question_fusion == "film":
            self.film.build((None, None, None, h), tuple(question_shape))
        self.g_kernels, self.g_biases = _common.dense_stack(
            self, "g", h, self.g_units[1:], first_index=2
        )
        self.f_kernels, self.f_biases = _common.dense_stack(
            self, "f", self.g_units[-1], self.f_units, first_index=1
        )

    def first_layer_terms(self, objects, question):
        """g₁'s pre-activation split by pair member: (a [B, N, h] from o_i,
        c [B, N, h] from o_j, e [B, h] from q and the bias), so that g₁'s
        pre-activation of pair (i, j) is a_i + c_j + e (before FiLM for
        `question_fusion="film"`, where e is the bias only)."""
        if self.question_fusion == "mi":
            a = self.mi_first(objects, question)  # [B, N, h]
            c = self.mi_second(objects, question)
            return a, c, ops.zeros_like(a[:, 0])
        d = objects.shape[-1]
        a = _common.linear(objects, self.pair_kernel[:d])  # [B, N, h]
        c = _common.linear(objects, self.pair_kernel[d : 2 * d])
        if self.question_fusion == "concat":
            e = _common.linear(
                question, self.pair_kernel[2 * d :], self.pair_bias
            )  # [B, h]
        else:
            e = ops.zeros_like(a[:, 0])
            if self.pair_bias is not None:
                e = e + self.pair_bias
        return a, c, e

    def call(self, objects, question, mask=None):
        # objects: [B, N, d]; question: [B, m]; mask: [B, N] or None.
        mask = _common.check_mask(
            "RelationNetwork", "mask", mask, "objects", objects
        )
        a, c, e = self.first_layer_terms(objects, question)
        pairs = (
            ops.expand_dims(a, 2) + ops.expand_dims(c, 1) + e[:, None, None, :]
        )  # [B, N(i), N(j), h]
        if self.question_fusion == "film":
            pairs = self.film(pairs, question)
        g = self.activation(pairs)
        for kernel, bias in zip(self.g_kernels, self.g_biases):
            g = self.activation(_common.linear(g, kernel, bias))
        if mask is not None:  # pair (i, j) counts iff both are objects
            both = ops.logical_and(
                ops.expand_dims(mask, 2), ops.expand_dims(mask, 1)
            )  # [B, N, N]
            g = g * ops.cast(ops.expand_dims(both, -1), g.dtype)
        x = ops.sum(g, axis=(1, 2))  # [B, g_units[-1]]
        for kernel, bias in zip(self.f_kernels, self.f_biases):
            x = self.activation(_common.linear(x, kernel, bias))
        return x

    def compute_output_shape(
        self, objects_shape, question_shape, mask_shape=None
    ):
        self._sizes(objects_shape, question_shape)
        return (objects_shape[0], (self.f_units or self.g_units)[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            g_units=list(self.g_units),
            f_units=list(self.f_units),
            question_fusion=self.question_fusion,
            mi_rank=self.mi_rank,
        )
        return config
