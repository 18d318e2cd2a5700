"""Argument and shape checks shared by every package of mi_zoo.

The layers, the Sonnet twins and the fusions check their arguments and shapes
with these; the data pipelines, the engine and the tasks their arguments.

Every check raises a `ValueError` that names the offending argument and echoes
its value, or prints the offending shapes, so that a user can fix the call
without reading the source. Sizes may be any integral number (NumPy integers
from configs or arrays too, not bools or floats); the integer checks return
them as plain Python ints and `plain_ints` converts a layer's config.
"""

import numbers
from typing import Any
from typing import Dict
from typing import Mapping
from typing import Optional
from typing import Sequence
from typing import Tuple

Shape = Sequence[Optional[int]]


def is_integer(value) -> bool:
    """Whether `value` is an integral number: a Python int or any
    `numbers.Integral` (NumPy's np.int32, np.int64, ...), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_positive_int(name, value, *, allow_none=False) -> Optional[int]:
    """Raises unless `value` is a positive integral number (`is_integer`:
    NumPy integers too; bools and floats are refused); returns it as a
    plain Python int (None when allowed and given).

    >>> import numpy as np
    >>> check_positive_int("mm_dim", np.int64(32))
    32
    """
    if value is None and allow_none:
        return None
    if not is_integer(value) or value <= 0:
        raise ValueError(
            f"`{name}` must be a positive integer, got {name}={value!r}."
        )
    return int(value)


def check_positive_ints(**sizes) -> Tuple[int, ...]:
    """`check_positive_int` of each keyword argument, in the order given;
    returns the plain Python ints.

    >>> check_positive_ints(units=4, rank=2)
    (4, 2)
    """
    return tuple(
        check_positive_int(name, value) for name, value in sizes.items()
    )


def check_rate(name, value):
    """Raises unless `value` is a real number in [0, 1) (bools refused), as
    a dropout rate must be."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0 <= value < 1
    ):
        raise ValueError(
            f"`{name}` must be a number in [0, 1), got {name}={value!r}."
        )


def check_choice(name, value, choices):
    """Raises unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {tuple(choices)}, got {name}={value!r}."
        )


def check_axis(name, value) -> int:
    """Raises unless `value` is an integral number (`is_integer`; bools are
    refused); returns it as a plain Python int."""
    if not is_integer(value):
        raise ValueError(f"`{name}` must be an integer, got {name}={value!r}.")
    return int(value)


def plain_ints(config: Mapping[str, Any]) -> Dict[str, Any]:
    """`config` with its integral values (`is_integer`, also inside tuples
    and lists) as plain Python ints, so that a layer built from NumPy sizes
    serialises (`get_config`, `.keras` files) like one built from ints."""

    def plain(value):
        if is_integer(value):
            return int(value)
        if isinstance(value, (tuple, list)):
            return type(value)(plain(v) for v in value)
        return value

    return {key: plain(value) for key, value in config.items()}


def _compatible(a, b):
    return a is None or b is None or a == b


def check_input_context_shapes(
    layer_name: str,
    x_shape: Shape,
    z_shape: Shape,
    *,
    allow_matching_context: bool = True,
) -> Tuple[int, int]:
    """Validates a pair (input x, context z) and returns (n, m).

    x must have rank >= 2 ([B, n], [B, T, n], [B, H, W, n], ...) with a known
    last axis n. z must be [B, m] (it broadcasts over x's middle axes) or,
    when `allow_matching_context`, have exactly x's leading axes [B, ..., m].

    Args:
      layer_name: name used in error messages.
      x_shape: shape of the input x.
      z_shape: shape of the context z.
      allow_matching_context: whether z may match all leading axes of x.

    Returns:
      (n, m): the feature sizes of x and z.

    Raises:
      ValueError: on a rank, batch or leading-axes mismatch, or an unknown
        feature size; the message prints both shapes.
    """
    x_shape, z_shape = tuple(x_shape), tuple(z_shape)
    where = (
        f"{layer_name}: input x has shape {x_shape} and context z has shape "
        f"{z_shape}"
    )
    if len(x_shape) < 2:
        raise ValueError(f"{where}; x must have rank >= 2 ([batch, ..., n]).")
    if len(z_shape) == 2:
        if not _compatible(x_shape[0], z_shape[0]):
            raise ValueError(f"{where}; the batch sizes of x and z differ.")
    elif len(z_shape) == len(x_shape) and allow_matching_context:
        pairs = zip(x_shape[:-1], z_shape[:-1])
        if not all(_compatible(a, b) for a, b in pairs):
            raise ValueError(f"{where}; the leading axes of x and z differ.")
    else:
        expected = "[batch, m]"
        if allow_matching_context:
            expected += f" or rank {len(x_shape)} with x's leading axes"
        raise ValueError(f"{where}; z must be {expected}.")
    if x_shape[-1] is None or z_shape[-1] is None:
        raise ValueError(f"{where}; the last axes of x and z must be known.")
    return int(x_shape[-1]), int(z_shape[-1])


def rows_per_context(x_shape: Shape, z_shape: Shape) -> Optional[int]:
    """How many rows of x share one row of z (None when not static).

    1 when z has x's leading axes; the product of x's middle axes when z is
    [B, m] and x is [B, ..., n].
    """
    if len(z_shape) != 2:
        return 1
    return static_product(tuple(x_shape)[1:-1])


def static_product(dims) -> Optional[int]:
    """Product of static sizes (1 for none); None if any of them is None.

    >>> static_product((3, 5)), static_product((None, 5))
    (15, None)
    """
    product = 1
    for d in dims:
        if d is None:
            return None
        product *= int(d)
    return product


def check_film_axis(axis) -> int:
    """Checks the constructor's `axis`: an integer that is not the batch
    axis; returns it as a plain Python int."""
    axis = check_axis("axis", axis)
    if axis == 0:
        raise ValueError("`axis` must not be the batch axis, got axis=0.")
    return axis


def film_channel_axis(axis, x_shape, z_shape):
    """Validates the shapes of x and z; returns (channel axis >= 1, C, m).

    Args:
      axis: the `axis` argument of FiLM.
      x_shape: static shape of x, [B, ..., C, ...].
      z_shape: static shape of z, [B, m] (or [B, ..., m] when the channel axis
        is the last one).

    Raises:
      ValueError: on an out-of-range or batch axis, an unknown channel size
        or shapes that do not fit; as the Keras FiLM.
    """
    x_shape = tuple(x_shape)
    rank = len(x_shape)
    if not -rank < axis < rank or axis % max(rank, 1) == 0:
        raise ValueError(
            f"FiLM(axis={axis}) is out of range or the batch axis "
            f"for x of shape {x_shape}."
        )
    channel = axis % rank
    # Moving the channel axis last reduces FiLM's checks to the MI ones.
    moved = x_shape[:channel] + x_shape[channel + 1 :] + (x_shape[channel],)
    _, m = check_input_context_shapes(
        f"FiLM(axis={axis})",
        moved,
        z_shape,
        allow_matching_context=channel == rank - 1,
    )
    if x_shape[channel] is None:
        raise ValueError(
            f"FiLM(axis={axis}): the channel axis of x must be "
            f"known, got x of shape {x_shape}."
        )
    return channel, int(x_shape[channel]), m
