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
"""

from typing import Optional

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
