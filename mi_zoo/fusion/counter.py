"""The counting module of Zhang, Hare & Prügel-Bennett (ICLR 2018)."""

import keras
from keras import ops

from mi_zoo.core import validation
from mi_zoo.fusion import _common

#: The eight piecewise-linear functions f_1 .. f_8 of the paper, by role.
FUNCTIONS = 8
_SCORE_A, _SCORE_D, _SIMILARITY, _DEDUP_A, _DEDUP_D = 0, 1, 2, 3, 4
_CONF_A, _CONF_D, _CONF = 5, 6, 7


def piecewise_linear(weights, x):
    """f(x) = Σ_p w_p · clip(P·x − p, 0, 1), w = |v| / Σ|v|.

    The monotone piecewise-linear function of the counting module on [0, 1]
    with P equal pieces: f(0) = 0, f(1) = 1, and the slope on piece p is
    P·w_p (the paper's f_i; ones for v give the identity).

    Args:
      weights: v [P], or [..., P] for several functions at once.
      x: a tensor of values in [0, 1] (clipped to it).

    Returns:
      f(x), x's shape.
    """
    pieces = weights.shape[-1]
    w = ops.abs(weights)
    w = w / ops.sum(w, axis=-1, keepdims=True)
    steps = ops.arange(pieces, dtype=x.dtype)
    ramps = ops.clip(pieces * ops.expand_dims(x, -1) - steps, 0.0, 1.0)
    return ops.sum(ramps * ops.cast(w, x.dtype), axis=-1)


def box_iou(boxes):
    """IoU of every pair of boxes [B, n, 4] (x1, y1, x2, y2) -> [B, n, n].

    Areas and overlaps are clipped at zero; the union gets 1e-12 added, so
    a zero-area box has IoU 0 with every box, itself included.
    """
    lo = ops.maximum(
        ops.expand_dims(boxes[..., :2], 2), ops.expand_dims(boxes[..., :2], 1)
    )  # [B, n, n, 2]
    hi = ops.minimum(
        ops.expand_dims(boxes[..., 2:], 2), ops.expand_dims(boxes[..., 2:], 1)
    )
    side = ops.maximum(hi - lo, 0.0)
    inter = side[..., 0] * side[..., 1]  # [B, n, n]
    size = ops.maximum(boxes[..., 2:] - boxes[..., :2], 0.0)
    area = size[..., 0] * size[..., 1]  # [B, n]
    union = ops.expand_dims(area, 2) + ops.expand_dims(area, 1) - inter
    return inter / (union + 1e-12)


@keras.saving.register_keras_serializable(package="mi_zoo")
class Counter(keras.layers.Layer):
    """Counts objects from attention weights and their boxes (Zhang et al.).

    Zhang, Hare & Prügel-Bennett, "Learning to Count Objects in Natural
    Images for Visual Question Answering", ICLR 2018, as BAN uses it for its
    VQA 2.0 results. The `objects` boxes with the highest attention are kept
    (ties to the lower index, on every backend), with weights
    a = sigmoid(logits) ∈ [0, 1]^n (n = min(objects, boxes)).
    With A = a aᵀ, D = 1 − IoU and eight learned monotone piecewise-linear
    functions f_1 .. f_8 on [0, 1] (f(0) = 0, f(1) = 1; the identity at
    initialisation):

        C = f_1(A) ∘ f_2(D)                    (intra-object dedup)
        X = f_4(A) ∘ f_5(D)
        s_ij = f_3(1 − |a_i − a_j|) Π_k f_3(1 − |X_ik − X_jk|)
        r_i = Σ_j s_ij                          (inter-object dedup)
        c = √(Σ_ij C_ij / (r_i r_j) + Σ_i f_1(a_i²) / r_i)
        conf = f_8(mean_i |f_6(a_i) − ½| + mean_ij |f_7(D_ij) − ½|)
        output = conf · onehot(c)

    where onehot(c) ∈ R^{objects+1} puts 1 − frac(c) at ⌊c⌋ and frac(c) at
    ⌊c⌋ + 1 (c clipped to [0, objects]). With 0/1 attention on
    non-overlapping boxes the count is exactly the number of attended boxes,
    and copies of a box count once, whatever the weights of f_1 .. f_8.
    The terms follow the authors' code (Cyanogenoid/vqa-counting, used by
    jnhwkim/ban-vqa): the self-loops f_1(a_i²) are divided by r_i once. Each
    f_i has `pieces` weights (the code's 16, plus a first weight fixed at 0
    that is left out here); the code allocates 16 functions and uses the
    first eight, which are the eight here.

    Args:
      objects: n, how many boxes with the highest attention are counted;
        the output has objects + 1 entries (the code's 10 for BAN).
      pieces: P, the number of linear pieces of each f_i.
      from_logits: whether `attention` holds logits (sigmoid applied here,
        as in BAN) or weights already in [0, 1].
      **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
      boxes: [B, φ, 4], (x1, y1, x2, y2) of each box.
      attention: [B, φ], one logit (or weight) per box.
      box_mask: optional boolean [B, φ], True for valid boxes; an invalid box
        gets weight 0 (it may still be among the n kept, when fewer than n
        are valid, as a zero-feature box is in the authors' code).

    Output shape:
      [B, objects + 1], the weighted one-hot count (computed in float32 at
      least: under mixed precision too, the 1e-12 and 1e-20 of the IoU and
      the square root do not vanish).

    Example:

    >>> import keras, numpy as np
    >>> from mi_zoo.fusion import Counter
    >>> boxes = np.array([[[0, 0, .2, .2], [.5, .5, .7, .7], [.3, 0, .4, .1]]])
    >>> counts = Counter(objects=3, from_logits=False)(
    ...     boxes, np.array([[1.0, 1.0, 0.0]]))
    >>> np.round(keras.ops.convert_to_numpy(counts), 6).tolist()
    [[0.0, 0.0, 1.0, 0.0]]
    """

    def __init__(self, objects=10, pieces=16, from_logits=True, **kwargs):
        super().__init__(**kwargs)
        self.objects = validation.check_positive_int("objects", objects)
        self.pieces = validation.check_positive_int("pieces", pieces)
        _common.check_bool("from_logits", from_logits)
        self.from_logits = from_logits

    def _check(self, boxes_shape, attention_shape):
        ok = (
            len(boxes_shape) == 3
            and _common.compatible(boxes_shape[-1], 4)
            and len(attention_shape) == 2
            and all(
                _common.compatible(a, b)
                for a, b in zip(boxes_shape[:2], attention_shape)
            )
        )
        if not ok:
            raise ValueError(
                "Counter: boxes must be [batch, boxes, 4] and attention "
                "[batch, boxes], got boxes of shape "
                f"{tuple(boxes_shape)} and attention of shape "
                f"{tuple(attention_shape)}."
            )

    def build(self, boxes_shape, attention_shape):
        self._check(boxes_shape, attention_shape)
        self.functions = self.add_weight(  # f_1 .. f_8, one row each
            name="functions",
            shape=(FUNCTIONS, self.pieces),
            initializer="ones",
        )

    def _f(self, index, x):
        return piecewise_linear(self.functions[index], x)

    def _most_attended(self, a, boxes):
        """The n = min(objects, φ) boxes of highest weight, highest first,
        ties to the lower index (the same on every backend, unlike top_k):
        box i's rank is #{j: a_j > a_i} + #{j < i: a_j = a_i}."""
        phi = a.shape[-1]
        n = self.objects if phi is None else min(self.objects, phi)
        ai, aj = ops.expand_dims(a, 2), ops.expand_dims(a, 1)  # [B, i, j]
        index = ops.arange(ops.shape(a)[1])
        before = ops.expand_dims(index, 0) < ops.expand_dims(index, 1)
        ahead = ops.logical_or(
            aj > ai, ops.logical_and(ops.equal(aj, ai), before)
        )
        rank = ops.sum(ops.cast(ahead, "int32"), axis=2)  # [B, φ]
        slots = ops.reshape(ops.arange(n, dtype="int32"), (1, n, 1))
        pick = ops.cast(
            ops.equal(ops.expand_dims(rank, 1), slots), a.dtype
        )  # [B, n, φ], one 1 per row
        a = ops.sum(pick * ops.expand_dims(a, 1), axis=2)
        boxes = ops.sum(
            ops.expand_dims(pick, -1) * ops.expand_dims(boxes, 1), axis=2
        )
        return a, boxes

    def call(self, boxes, attention, box_mask=None):
        # boxes: [B, φ, 4]; attention: [B, φ]; box_mask: [B, φ].
        self._check(boxes.shape, attention.shape)
        dtype = _common.wide_dtype(self.compute_dtype)  # float32 at least
        boxes = ops.cast(boxes, dtype)
        a = ops.cast(attention, dtype)
        if self.from_logits:
            a = ops.sigmoid(a)
        if box_mask is not None:
            valid = ops.cast(box_mask, "bool")
            a = ops.where(valid, a, ops.zeros_like(a))
        a, boxes = self._most_attended(a, boxes)  # [B, n], [B, n, 4]
        relevance = ops.expand_dims(a, 2) * ops.expand_dims(a, 1)  # A
        distance = 1.0 - box_iou(boxes)  # D [B, n, n]
        score = self._f(_SCORE_A, relevance) * self._f(_SCORE_D, distance)
        dedup = self._f(_DEDUP_A, relevance) * self._f(_DEDUP_D, distance)
        rows = ops.abs(
            ops.expand_dims(dedup, 2) - ops.expand_dims(dedup, 1)
        )  # |X_ik − X_jk| [B, n, n, n]
        same = ops.prod(self._f(_SIMILARITY, 1.0 - rows), axis=-1)
        close = ops.abs(ops.expand_dims(a, 2) - ops.expand_dims(a, 1))
        similarity = same * self._f(_SIMILARITY, 1.0 - close)  # s [B, n, n]
        r = ops.sum(similarity, axis=-1)  # [B, n]
        pairs = score / (ops.expand_dims(r, 2) * ops.expand_dims(r, 1))
        loops = self._f(_SCORE_A, a * a) / r
        total = ops.sum(pairs, axis=(1, 2)) + ops.sum(loops, axis=1)
        count = ops.clip(ops.sqrt(total + 1e-20), 0.0, self.objects)  # [B]
        slots = ops.arange(self.objects + 1, dtype=dtype)
        one_hot = ops.relu(1.0 - ops.abs(ops.expand_dims(count, -1) - slots))
        a_conf = ops.mean(ops.abs(self._f(_CONF_A, a) - 0.5), axis=1)
        d_conf = ops.mean(
            ops.abs(self._f(_CONF_D, distance) - 0.5), axis=(1, 2)
        )
        confidence = self._f(_CONF, a_conf + d_conf)  # [B]
        counts = one_hot * ops.expand_dims(confidence, -1)
        return ops.cast(counts, self.compute_dtype)

    def compute_output_shape(self, boxes_shape, attention_shape):
        self._check(boxes_shape, attention_shape)
        return (boxes_shape[0], self.objects + 1)

    def get_config(self):
        return _common.config_with(
            super().get_config(), self, ("objects", "pieces", "from_logits")
        )
