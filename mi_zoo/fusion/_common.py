"""Helpers shared by the fusion layers (private to `mi_zoo.fusion`).

- Arguments and configs: `check_bool`, `check_units` (a list of widths),
  `dense_stack` (the weights of dense layers of those widths),
  `dropout_layer` and
  `dropout_layers` (which check the rates and the seed of a fusion's
  dropouts), `apply_dropout`, `config_with` and `activation_config`; the
  checks that `mi_zoo.core.validation` has are used from there.
- Static shapes: `joint_shapes` and `broadcast_pair` (two inputs that meet
  feature-wise, one of which may broadcast over the other's middle axes),
  `check_set_shapes` and `check_mask` (two sets [B, ρ, N], [B, φ, M] and
  their padding masks), `compatible` and `merge` (two sizes).
- Attention: `masked_softmax` (a float32 softmax over one or more axes that
  gives masked positions exactly zero), `pair_mask`, `masked_sum`,
  `flatten_positions` and `attend` (the maps and attended features over the
  positions of a feature map).
- Linear maps and pooling: `linear`, `row`, `sum_pool`, the rank-R merge
  of MUTAN and BLOCK with the small side first (`broadcast_rows`,
  `factor_first_pays`, `broadcast_rank_sum`), and the power and
  L2 normalisations of the pooling fusions (`wide_dtype`, `signed_sqrt`,
  `l2_normalize`, `normalize`), computed in float32 or wider.
"""

import keras
from keras import ops

from mi_zoo.core import validation
from mi_zoo.layers import ops as layer_ops

# Logit given to masked positions before the max of the softmax; the softmax
# runs in float32 (or float64), where it is finite, and masked positions are
# multiplied by zero afterwards, so a fully masked row gives zeros, not NaN.
_MASKED_LOGIT = -1e9


# Argument checks and configs.


def check_bool(name, value):
    """Raises unless `value` is a Python bool."""
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be a bool, got {name}={value!r}.")


def dropout_layer(rate, dtype_policy, seed=None):
    """The `keras.layers.Dropout` of a fusion's `dropout=rate` and `seed`;
    None for rate 0. Raises unless `rate` is in [0, 1) (`validation.check_rate`) and
    `seed` None or an int seeding an active dropout (`dropout_layers`).
    """
    return dropout_layers({"dropout": rate}, dtype_policy, seed)[0]


def dropout_layers(rates, dtype_policy, seed=None):
    """The `keras.layers.Dropout`s of a fusion's several dropouts.

    Args:
      rates: {argument name: rate}, in order; each rate in [0, 1).
      dtype_policy: the layer's dtype policy.
      seed: None, or an int seeding the dropouts: the i-th of `rates` gets
        seed + i (so that their masks differ). Needs an active dropout.

    Returns:
      A list with one `keras.layers.Dropout` per rate, None for rate 0.

    Raises:
      ValueError: naming the first bad rate, or a seed that is not an int
        or seeds no active dropout (all rates listed), with its value.
    """
    for name, rate in rates.items():
        validation.check_rate(name, rate)
    if seed is not None:
        seed = validation.check_axis("seed", seed)
        if not any(rates.values()):
            given = " and ".join(f"{n}={r}" for n, r in rates.items())
            raise ValueError(
                "`seed` only seeds the dropout, which is off; got "
                f"seed={seed} with {given}."
            )
    return [
        keras.layers.Dropout(
            rate,
            seed=None if seed is None else seed + i,
            dtype=dtype_policy,
        )
        if rate
        else None
        for i, rate in enumerate(rates.values())
    ]


def apply_dropout(layer, t, training):
    """`layer(t, training=training)` in t's dtype; t itself when `layer` is
    None.

    Inside the fusion's `call` t is already in the dropout layer's compute
    dtype and the cast does nothing; `hadamard_terms`, called outside
    `call` (`mi_zoo.explain`), computes in the variables' float32, which a
    mixed-precision dropout layer would otherwise turn into bfloat16.
    """
    if layer is None:
        return t
    return ops.cast(layer(t, training=training), t.dtype)


def check_units(name, units, allow_empty):
    """`units` (a list or tuple of positive integral numbers, `is_integer`)
    as a tuple of Python ints; raises naming `name` and the value."""
    ok = (
        isinstance(units, (list, tuple))
        and (allow_empty or units)
        and all(validation.is_integer(u) and u > 0 for u in units)
    )
    if not ok:
        what = "a" if allow_empty else "a non-empty"
        raise ValueError(
            f"`{name}` must be {what} list of positive ints, got "
            f"{name}={units!r}."
        )
    return tuple(int(u) for u in units)


def dense_stack(layer, prefix, width, units, first_index):
    """Adds the kernels and biases of dense layers of `units` widths on a
    `width`-feature input to `layer` (a `base.WeightedLayer`), named
    prefix_kernel_i, prefix_bias_i from i = first_index; returns (kernels,
    biases), biases None without `use_bias`."""
    kernels, biases = [], []
    for index, out in enumerate(units, start=first_index):
        kernels.append(
            layer.add_kernel(f"{prefix}_kernel_{index}", (width, out))
        )
        biases.append(layer.add_bias(f"{prefix}_bias_{index}", (out,)))
        width = out
    return kernels, biases


def config_with(config, layer, names):
    """Adds `layer`'s attributes `names` to `config`, in order, integral
    values as plain Python ints (`validation.plain_ints`); returns it."""
    config.update(
        validation.plain_ints({name: getattr(layer, name) for name in names})
    )
    return config


def activation_config(config, layer, names):
    """Adds `layer`'s activation attributes `names` to `config`, serialised
    (`keras.activations.serialize`); returns it."""
    config.update(
        {
            name: keras.activations.serialize(getattr(layer, name))
            for name in names
        }
    )
    return config


# Static shapes of two inputs.


def compatible(a, b):
    """Whether two static sizes (None = unknown) can be equal."""
    return a is None or b is None or a == b


def merge(a, b):
    """The known one of two compatible static sizes (None if neither is)."""
    return b if a is None else a


def joint_shapes(layer_name, x_shape, y_shape, x_name="x", y_name="y"):
    """Validates two inputs that meet feature-wise; returns (n, m, leading).

    Both inputs have rank >= 2 and a known last axis. Either they have the
    same leading axes ([B, ..., n] and [B, ..., m]), or one of them is
    [B, features] and broadcasts over the middle axes of the other (a
    question vector against S region features).

    Args:
      layer_name: name used in error messages.
      x_shape, y_shape: the static shapes of the two inputs.
      x_name, y_name: the names of the inputs in error messages.

    Returns:
      (n, m, leading): the feature sizes of x and y, and the leading axes
      (batch included) of the result, the known size where one is unknown.

    Raises:
      ValueError: on a rank, batch or leading-axes mismatch, or an unknown
        feature size; the message prints both shapes.
    """
    x_shape, y_shape = tuple(x_shape), tuple(y_shape)
    where = (
        f"{layer_name}: {x_name} has shape {x_shape} and {y_name} has "
        f"shape {y_shape}"
    )
    for name, shape in ((x_name, x_shape), (y_name, y_shape)):
        if len(shape) < 2:
            raise ValueError(
                f"{where}; {name} must have rank >= 2 "
                "([batch, ..., features])."
            )
    if not compatible(x_shape[0], y_shape[0]):
        raise ValueError(
            f"{where}; the batch sizes of {x_name} and {y_name} differ."
        )
    if len(x_shape) == len(y_shape):
        pairs = list(zip(x_shape[:-1], y_shape[:-1]))
        if not all(compatible(a, b) for a, b in pairs):
            raise ValueError(
                f"{where}; the leading axes of {x_name} and {y_name} differ."
            )
        leading = tuple(merge(a, b) for a, b in pairs)
    elif min(len(x_shape), len(y_shape)) == 2:
        longer = x_shape if len(x_shape) > len(y_shape) else y_shape
        leading = (merge(x_shape[0], y_shape[0]),) + longer[1:-1]
    else:
        raise ValueError(
            f"{where}; inputs of different ranks need the lower-rank one to be "
            "[batch, features], broadcast over the other's middle axes."
        )
    if x_shape[-1] is None or y_shape[-1] is None:
        raise ValueError(
            f"{where}; the last axes of {x_name} and {y_name} must be known."
        )
    return int(x_shape[-1]), int(y_shape[-1]), leading


def broadcast_pair(a, b):
    """Gives the lower-rank of two [B, ..., f] tensors singleton middle axes.

    For `a` [B, f] and `b` [B, S, g] returns ([B, 1, f], b), so that
    elementwise ops broadcast `a` over S; tensors of equal rank come back
    unchanged.
    """
    if len(a.shape) < len(b.shape):
        return layer_ops.broadcast_context(b, a), b
    return a, layer_ops.broadcast_context(a, b)


def check_set_shapes(layer_name, x_name, x_shape, y_name, y_shape):
    """Validates two sets of feature vectors; returns their feature sizes.

    Args:
      layer_name: name used in error messages.
      x_name, y_name: the call argument names of the two sets.
      x_shape: [B, ρ, N], ρ may be unknown, N must be known.
      y_shape: [B, φ, M], φ may be unknown, M must be known.

    Returns:
      (N, M).

    Raises:
      ValueError: on a rank or batch mismatch or an unknown feature size; the
        message prints both shapes.
    """
    x_shape, y_shape = tuple(x_shape), tuple(y_shape)
    where = (
        f"{layer_name}: {x_name} has shape {x_shape} and {y_name} has "
        f"shape {y_shape}"
    )
    for name, shape in ((x_name, x_shape), (y_name, y_shape)):
        if len(shape) != 3:
            raise ValueError(
                f"{where}; {name} must have rank 3 ([batch, positions, "
                f"features])."
            )
    if not compatible(x_shape[0], y_shape[0]):
        raise ValueError(f"{where}; the batch sizes differ.")
    if x_shape[-1] is None or y_shape[-1] is None:
        raise ValueError(f"{where}; the feature (last) axes must be known.")
    return int(x_shape[-1]), int(y_shape[-1])


def check_mask(layer_name, mask_name, mask, x_name, x):
    """Checks that a padding mask is [B, S] for a set x of shape [B, S, C].

    Returns the mask as a bool tensor (None stays None).
    """
    if mask is None:
        return None
    mask_shape, x_shape = tuple(mask.shape), tuple(x.shape)
    ok = len(mask_shape) == 2 and all(
        compatible(a, b) for a, b in zip(mask_shape, x_shape[:2])
    )
    if not ok:
        raise ValueError(
            f"{layer_name}: {mask_name} has shape {mask_shape} and {x_name} "
            f"has shape {x_shape}; {mask_name} must be [batch, positions] = "
            f"{x_shape[:2]}."
        )
    return ops.cast(mask, "bool")


# Attention.


def masked_softmax(logits, mask=None, axis=-1):
    """Softmax over `axis` that gives masked positions exactly zero.

    The softmax is computed in float32 (float64 inputs stay float64) and cast
    back to the dtype of `logits`, so float16 and bfloat16 logits (mixed
    precision) neither overflow nor lose the normalisation. A slice whose
    positions are all masked gives all zeros (not NaN, not uniform), and the
    gradient of the masked positions is zero.

    Args:
      logits: tensor of logits.
      mask: None, or a boolean tensor (True = valid) broadcastable to
        `logits`; 0/1 numbers are accepted and cast to bool.
      axis: an int or a tuple of ints: the axes normalised jointly.

    Returns:
      The attention weights, `logits`' shape and dtype, summing to one over
      `axis` on every slice with a valid position.
    """
    dtype = keras.backend.standardize_dtype(logits.dtype)
    work = wide_dtype(dtype)
    logits = ops.cast(logits, work)
    if mask is not None:
        mask = ops.cast(mask, "bool")
        logits = ops.where(mask, logits, _MASKED_LOGIT)
    top = ops.stop_gradient(ops.max(logits, axis=axis, keepdims=True))
    weights = ops.exp(logits - top)
    if mask is not None:
        weights = weights * ops.cast(mask, work)
    total = ops.sum(weights, axis=axis, keepdims=True)
    weights = weights / ops.where(total > 0, total, ops.ones_like(total))
    return ops.cast(weights, dtype)


def pair_mask(x_mask, y_mask):
    """The mask of the pairs (i, j): x_mask_i ∧ y_mask_j, [B, 1, ρ, φ].

    With one mask missing, it broadcasts over that axis ([B, 1, ρ, 1] or
    [B, 1, 1, φ]); None when both are.
    """
    if x_mask is None and y_mask is None:
        return None
    rows = None if x_mask is None else ops.expand_dims(x_mask, (1, 3))
    cols = None if y_mask is None else ops.expand_dims(y_mask, (1, 2))
    if cols is None:
        return rows  # [B, 1, ρ, 1]
    if rows is None:
        return cols  # [B, 1, 1, φ]
    return ops.logical_and(rows, cols)  # [B, 1, ρ, φ]


def masked_sum(x, mask):
    """Σ_s mask_s x_s over axis 1 of x [B, S, C]; mask [B, S] or None."""
    if mask is None:
        return ops.sum(x, axis=1)
    return ops.sum(x * ops.cast(ops.expand_dims(mask, -1), x.dtype), axis=1)


def flatten_positions(t):
    """[B, ..., C] -> ([B, S, C], B, the middle axes (S = their product))."""
    shape = ops.shape(t)
    batch, spatial = shape[0], tuple(shape[1:-1])
    return ops.reshape(t, (batch, -1, t.shape[-1])), batch, spatial


def attend(logits, flat, mask=None):
    """Attention maps over S positions and the attended features.

    Args:
      logits: [B, G, S], one row of logits per glimpse.
      flat: [B, S, C], the features of the S positions.
      mask: None or a boolean [B, ...] with S entries per example (the
        positions' leading axes), True at valid positions.

    Returns:
      (α, v̂): α = masked_softmax(logits) over S in flat's dtype [B, G, S]
      (computed in float32 or wider) and v̂_g = Σ_s α_{g,s} F_s [B, G, C].
    """
    if mask is not None:
        batch = ops.shape(flat)[0]
        mask = ops.expand_dims(ops.reshape(mask, (batch, -1)), 1)  # [B,1,S]
    alpha = ops.cast(masked_softmax(logits, mask, axis=-1), flat.dtype)
    return alpha, ops.matmul(alpha, flat)  # [B, G, S], [B, G, C]


# Linear maps and pooling.


def linear(t, kernel, bias=None):
    """t W (+ b) over the last axis of t; `bias` None for none."""
    t = layer_ops.matmul_last(t, kernel)
    return t if bias is None else t + bias


def broadcast_rows(a_shape, b_shape):
    """Rows of the higher-rank input per row of the lower-rank [B, f] one.

    For a question [B, n] against regions [B, S, m] that is S (the product
    of the middle axes); None when both inputs have the same rank or a
    middle axis is unknown.
    """
    big = a_shape if len(a_shape) > len(b_shape) else b_shape
    if len(a_shape) == len(b_shape) or None in big[1:-1]:
        return None
    rows = 1
    for size in big[1:-1]:
        rows *= size
    return rows


def factor_first_pays(rows, rank):
    """Whether `broadcast_rank_sum` does fewer multiply-adds than forming
    both sides' rank-R factors: with P = `rows` rows of the big input per
    row of the small one, its J·O·(R + P) per small row against the
    factors' J·O·R·P (P·R > P + R: P ≥ 2 and R ≥ 2, not both 2). False when
    `rows` is None."""
    return rows is not None and rows * rank > rows + rank


def broadcast_rank_sum(small, big, kernel, bias, rank):
    """z = Σ_r small_r ∘ (big W_r + b_r), small's factor contracted first.

    The rank-R merge of MUTAN and BLOCK, z[o] = Σ_r a[r, o]·(yᵀW[:, r, o] +
    b[r, o]), when one side (`small`, the question) is broadcast over P rows
    of the other (`big`, the regions): instead of forming the big side's R
    factors for every one of its rows (N·J·R·O multiply-adds, N = B·P), it
    first folds the small side's factors into the big side's kernel, one
    [J, O] matrix per small row, W'_b[j, o] = Σ_r a_b[r, o]·W[j, r, o]
    (B·J·R·O), then multiplies each big row by its W'_b (N·J·O). The same
    function (summed in another order); `factor_first_pays` says when it is
    cheaper.

    Dimensions: G groups (chunks, or 1), B rows of `small`, P rows of `big`
    per row of `small`, J = big's features, R = `rank`, O = the output
    features.

    Args:
      small: [G, B, R·O], the small side's factors with their bias; column
        r·O + o is factor r's feature o.
      big: [G, B, P, J], the big side's projection.
      kernel: [G, J, R·O], the big side's factor kernel (same columns).
      bias: [G, R·O] or None, the big side's factor bias.
      rank: R.

    Returns:
      [G, B, P, O].
    """
    groups, width = small.shape[0], small.shape[-1]
    out, features = width // rank, kernel.shape[1]
    a = ops.reshape(small, (groups, -1, rank, out))  # [G, B, R, O]
    w = ops.matmul(
        ops.transpose(a, (0, 3, 1, 2)),  # [G, O, B, R]
        ops.transpose(
            ops.reshape(kernel, (groups, features, rank, out)), (0, 3, 2, 1)
        ),  # [G, O, R, J]
    )  # [G, O, B, J]: W'_b[j, o]
    z = ops.matmul(big, ops.transpose(w, (0, 2, 3, 1)))  # [G, B, P, O]
    if bias is None:
        return z
    shift = ops.sum(a * ops.reshape(bias, (groups, 1, rank, out)), axis=2)
    return z + ops.expand_dims(shift, 2)  # + Σ_r a_r ∘ b_r: [G, B, 1, O]


def row(weight, index):
    """`weight[index]`; None for a missing weight (a bias, use_bias=False)."""
    return None if weight is None else weight[index]


def sum_pool(t, pool_size):
    """k-sum pooling of the last axis: [..., K] -> [..., K/k].

    Output element c is the sum of elements c·k, ..., c·k + k − 1 (windows
    of k consecutive elements, stride k, as in MFB and the BAN code).
    """
    if pool_size == 1:
        return t
    k = t.shape[-1]
    lead = tuple(ops.shape(t)[:-1])
    t = ops.reshape(t, lead + (k // pool_size, pool_size))
    return ops.sum(t, axis=-1)


def wide_dtype(dtype):
    """float64 for float64, float32 for every other (narrower) float."""
    dtype = keras.backend.standardize_dtype(dtype)
    return "float64" if dtype == "float64" else "float32"


def signed_sqrt(z):
    """sign(z)·√|z|, with a zero (not NaN) gradient at z = 0.

    √|z| has an infinite derivative at 0; the inner `where` keeps the
    gradient finite there (the value at 0 is exactly 0).
    """
    a = ops.abs(z)
    nonzero = a > 0
    root = ops.sqrt(ops.where(nonzero, a, ops.ones_like(a)))
    return ops.where(nonzero, ops.sign(z) * root, ops.zeros_like(z))


def l2_normalize(z, axis=-1, epsilon=1e-12):
    """z / max(‖z‖₂, ε) along `axis` (a zero vector stays zero)."""
    squares = ops.sum(ops.square(z), axis=axis, keepdims=True)
    return z * ops.rsqrt(ops.maximum(squares, epsilon * epsilon))


def normalize(z, power, l2, axis=-1):
    """Optional signed square root, then optional L2 normalisation.

    Computed in float32 (float64 for float64 inputs) and cast back, so a
    float16 sum of squares cannot overflow and ε does not underflow.
    """
    if not (power or l2):
        return z
    dtype = keras.backend.standardize_dtype(z.dtype)
    z = ops.cast(z, wide_dtype(dtype))
    if power:
        z = signed_sqrt(z)
    if l2:
        z = l2_normalize(z, axis=axis)
    return ops.cast(z, dtype)


class ConsumesMasks:
    """Mixin for layers that take padding masks as call arguments.

    Overriding `compute_mask` makes Keras treat the layer as mask-aware (no
    "this layer does not support masking" warning when a mask is passed or
    attached to an input), and the outputs carry no mask: the layer has
    used it.
    """

    def compute_mask(self, *args, **kwargs):
        del args, kwargs
        return None
