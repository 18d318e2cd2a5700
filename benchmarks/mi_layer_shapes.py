"""The MI layer benchmarks' shapes, FLOP counts and flags, without
TensorFlow.

Shared by `mi_layer_benchmark` (TensorFlow) and `keras_backend_benchmark`
(any Keras backend; it must run where TensorFlow is not installed, so this
module imports nothing but absl). A shape is
(B, m, n, k): a batch of B inputs x ∈ Rⁿ with contexts z ∈ Rᵐ and k output
units. The FLOP counts are those of `mi_layer_benchmark`'s module doc.

    forward_flops("full", (256, 32, 256, 256))  # 2·B·k·(m·n + m + n)

The two scripts' shared flags (--mi_rank, --min_seconds) are defined here,
once per process, so that both can be imported together (by their tests).
"""

from absl import flags

SHAPES = (
    (256, 32, 256, 256),
    (256, 256, 256, 256),
    (64, 512, 512, 512),
    (1024, 16, 128, 128),
)
SWEEP = tuple((256, m, 256, 256) for m in (8, 32, 128, 512)) + tuple(
    (256, 64, 256, k) for k in (32, 128, 512, 1024)
)
QUICK_SHAPES = ((64, 16, 32, 32),)
# Layers whose output size is x's size n.
SQUARE = ("diagonal", "scalar", "conditional_scaling", "film")
MATMUL_SIZE = 2048

RANK = flags.DEFINE_integer(
    "mi_rank", 64, "Rank r of the low_rank form.", lower_bound=1
)
MIN_SECONDS = flags.DEFINE_float(
    "min_seconds",
    0.15,
    "Least time per round (sets the iterations).",
    lower_bound=0.0,
    upper_bound=10.0,
)


def applicable(name, shape):
    """Whether layer `name` exists at `shape` (k = n for SQUARE layers)."""
    _, _, n, k = shape
    return name not in SQUARE or n == k


def forward_flops(name, shape, rank=64):
    """FLOPs of one forward pass of layer `name` at shape (B, m, n, k).

    2 per multiply-add of a contraction, 1 per elementwise product; the
    additions of terms and biases (O(B·k)) are not counted. "matmul" is the
    2048² reference matmul (`MATMUL_SIZE`).

    Raises:
      ValueError: for an unknown layer name.
    """
    b, m, n, k = shape
    if name in ("full", "naive"):
        return 2 * b * k * (m * n + m + n)
    if name == "low_rank":
        return 2 * b * (rank * (m + n + k) + k * (m + n)) + b * rank
    if name == "diagonal":
        return 4 * b * m * n + b * n
    if name == "scalar":
        return 2 * b * m + 2 * b * m * n + b * n
    if name in ("concat_linear", "conditional_bias"):
        return 2 * b * k * (n + m)
    if name == "conditional_scaling":
        return 2 * b * m * n + b * n
    if name == "film":
        return 4 * b * m * n + b * n
    if name == "matmul":
        return 2 * MATMUL_SIZE**3
    raise ValueError(f"Unknown layer {name!r}.")


#: The table columns that both MI-layer scripts print for a row (each adds
#: its own last columns).
COLUMNS = (
    "B, m, n, k",
    "layer",
    "fwd ms",
    "fwd GFLOP/s",
    "fwd % matmul",
    "fwd+bwd ms",
    "fwd+bwd GFLOP/s",
    "fwd+bwd % matmul",
    "vs naive fwd",
    "vs naive fwd+bwd",
)


def cells(row, layer):
    """The COLUMNS cells of one row (its JSON dict), the layer shown as
    `layer`."""
    s = row["shape"]
    return [
        f"{s['B']}, {s['m']}, {s['n']}, {s['k']}",
        layer,
        f"{row['forward_ms']:.2f}",
        f"{row['forward_gflops']:.1f}",
        f"{row['forward_percent_of_matmul']:.0f}%",
        f"{row['train_ms']:.2f}",
        f"{row['train_gflops']:.1f}",
        f"{row['train_percent_of_matmul']:.0f}%",
        f"{row.get('forward_speedup_over_naive', float('nan')):.2f}×",
        f"{row.get('train_speedup_over_naive', float('nan')):.2f}×",
    ]
