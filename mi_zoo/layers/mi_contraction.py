"""Choice of contraction order for the full bilinear form zᵀWx.

For x with N rows of n features, z with N / P rows of m features (each z row
shared by P rows of x) and W of shape [m, n, k], there are three orders, each
one large GEMM plus a cheap elementwise step, that differ in the intermediate
they hold:

  "outer":         (z ⊗ x) [N, m·n]  @ W [m·n, k]            holds N·m·n
  "context_first": (z @ W) [N/P, n, k], then x @ it per row    holds (N/P)·n·k
  "input_first":   (x @ W) [N, m, k], then weighted by z       holds N·m·k

The naive hypernetwork is "context_first" with P = 1. We pick the order with
the smallest intermediate, so the layer never holds more than
min(N·m·n, (N/P)·n·k) floats; ties go to "outer" (a single GEMM that also
takes the fewest passes over memory).

The "outer" order is run in chunks of the context features (`context_chunks`):
y = Σ_j (z_j ⊗ x) @ W_j over slices z_j [N, m_j] of z and W_j [m_j, n, k] of
W, each chunk's intermediate about `CHUNK_FLOATS` floats (2 MiB), so that it
is written and read again while it is still in cache instead of making the
round trip through memory at N·m·n floats. Same multiply-adds; the sum over
m is split into the chunks' partial sums. The price is in the backward pass:
W's gradient comes back in pieces and is joined, one more pass over m·n·k
floats; the intermediate saves about five passes over N·m·n (written,
read by the GEMM, read for W's gradient, its own gradient written and read).
So the layer chunks only when N >= k / 2 (the intermediate at least half the
kernel). Measured in docs/benchmarks.md §3j.
"""

import itertools
import math
from typing import Optional
from typing import Tuple

CONTRACTIONS = ("outer", "input_first", "context_first")


def choose_contraction(m: int, n: int, k: int, rows: Optional[int]) -> str:
    """Returns the contraction order with the smallest intermediate.

    Args:
      m: context size.
      n: input size.
      k: output units.
      rows: rows of x per row of z (P above); None when unknown, in which case
        "context_first" is chosen because its intermediate does not grow with
        the number of rows.
    """
    if rows is None:
        return "context_first"
    sizes = {
        "outer": rows * m * n,
        "input_first": rows * m * k,
        "context_first": n * k,
    }
    return min(CONTRACTIONS, key=lambda name: sizes[name])


#: Floats of one chunk of the "outer" order's intermediate (z_j ⊗ x): 2 MiB
#: in float32, a size that stays in a CPU's L2/L3 cache between the product
#: that writes it and the GEMM that reads it.
CHUNK_FLOATS = 2**19
#: Most chunks: each one adds a few ops and a partial sum of [N, k].
MAX_CHUNKS = 32
#: Rows of x assumed when their number is not static (a None batch axis).
ASSUMED_ROWS = 256


def context_chunks(
    m: int, n: int, k: int, rows: Optional[int]
) -> Tuple[int, ...]:
    """Sizes of the context-feature chunks of the "outer" order.

    Args:
      m: context size.
      n: input size.
      k: output units.
      rows: rows N of x in all (batch times middle axes); None when not
        static, in which case `ASSUMED_ROWS` is used.

    Returns:
      Chunk sizes m_j summing to m, as equal as possible, each with
      N·m_j·n <= `CHUNK_FLOATS` where the cap of `MAX_CHUNKS` chunks allows;
      `(m,)` (one chunk) when the whole intermediate N·m·n fits, or when
      N < k / 2 (joining W's gradient would cost more than the chunks save).

    >>> context_chunks(32, 256, 256, 256)  # N·m_j·n = 256·8·256: 2 MiB
    (8, 8, 8, 8)
    >>> context_chunks(512, 512, 512, 64)  # N < k / 2
    (512,)
    """
    rows = ASSUMED_ROWS if rows is None else max(int(rows), 1)
    if 2 * rows < k:
        return (m,)
    per_chunk = max(1, CHUNK_FLOATS // (rows * n))  # context features
    count = min(math.ceil(m / per_chunk), MAX_CHUNKS, m)
    size, extra = divmod(m, count)
    return tuple(size + (1 if j < extra else 0) for j in range(count))


def split_points(sizes) -> Tuple[int, ...]:
    """The indices at which to split an axis into `sizes` (the form of
    `keras.ops.split`'s and `numpy.split`'s list argument)."""
    return tuple(itertools.accumulate(sizes))[:-1]
