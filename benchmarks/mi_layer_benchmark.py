r"""Speed and memory of the MI layer's four forms and the conditioning
baselines, against the naive hypernetwork and this machine's matmul rate.

For each shape (B, m, n, k) — a batch of B inputs x ∈ Rⁿ with contexts
z ∈ Rᵐ and k output units — it builds, in one process:

  full, low_rank, diagonal, scalar: `MultiplicativeInteraction(k, form=...)`
      (low_rank with rank --mi_rank; diagonal and scalar have k = n),
  concat_linear, conditional_bias: `ConcatLinear(k)`, `ConditionalBias(k)`,
  conditional_scaling, film: `ConditionalScaling()`, `FiLM()` (k = n),
  naive: the naive hypernetwork — a Dense layer on z emits W' = zᵀW + V as
      [B, n·k], reshape to [B, n, k], batched matmul with x, plus zᵀU + b
      from a second Dense (the same function as the full form),
  matmul: a plain 2048×2048 float32 matmul (the machine's GEMM rate),

and times each in `tf.function`s, interleaved round by round (median of
--repeats rounds of at least --min_seconds): the forward pass, and the
forward and backward pass (a `tf.GradientTape` of sum(f(x, z)) with respect
to x, z and every weight, in one `tf.function`). The layers whose k must be
n (diagonal, scalar, conditional_scaling, film) are left out where k ≠ n.

FLOPs, counted from each formula (2 per multiply-add of a contraction, 1 per
elementwise product; additions of terms, biases and activations are not
counted — they are O(B·k)):

  full, naive          2·B·k·(m·n + m + n)          zᵀWx, zᵀU, Vx
  low_rank (rank r)    2·B·(r·(m + n + k) + k·(m + n)) + B·r
  diagonal             4·B·m·n + B·n                zᵀW_d, zᵀU, gate ∘ x
  scalar               2·B·m + 2·B·m·n + B·n        zᵀw, zᵀU, gate·x
  concat_linear,
  conditional_bias     2·B·k·(n + m)
  conditional_scaling  2·B·m·n + B·n
  film                 4·B·m·n + B·n                γ(z), β(z), γ ∘ x
  matmul               2·2048³

The forward+backward count is 3× the forward count (each product's
backward is two products of its size). GFLOP/s = FLOPs / median time, and
"% matmul" is that rate over the 2048² matmul's rate measured in the same
run, in the same mode (a backward "step" of the matmul is not timed: the
forward rate is the machine's reference for both columns).

Memory. Two numbers, because TensorFlow's CPU allocator reports nothing
(`tf.config.experimental.get_memory_info` is GPU-only) and tracemalloc does
not see its buffers:

  largest intermediate (MB): the biggest tensor the formula holds, from the
      shapes: B·m·n for the full form's "outer" order (B·m·k for
      "input_first", B·n·k for "context_first" and for the naive
      hypernetwork), B·max(r, k) for low_rank, B·max(n, k) for the others;
      kept for the backward pass, so the least a forward+backward needs
      beyond inputs, outputs and weights.
  peak RSS increase (MB, --memory only, Linux): each (shape, layer) runs in
      a fresh Python process that imports TensorFlow, builds the layer,
      traces its forward+backward `tf.function` and runs it once on a batch
      of one; it then resets the kernel's peak-RSS counter (writing 5 to
      /proc/self/clear_refs) and the table gives the peak resident set size
      (VmHWM) during 3 steps at the full batch minus the resident set size
      (VmRSS) just before them. It includes the gradients, the activations
      kept for the backward pass and allocator slack; memory the allocator
      kept from the batch-of-one step is reused and not counted.

  python -m benchmarks.mi_layer_benchmark                  # the issue's shapes
  python -m benchmarks.mi_layer_benchmark --jit_compile    # the same under XLA
  python -m benchmarks.mi_layer_benchmark --sweep          # grow m, then k
  python -m benchmarks.mi_layer_benchmark --memory         # + peak RSS
  python -m benchmarks.mi_layer_benchmark --quick --output_json=/tmp/mi.json
  python -m benchmarks.mi_layer_benchmark --layers=full,naive --cpu_time
      # one thread, CPU seconds: the ratios that load barely moves
"""

import json
import subprocess
import sys
import time

from absl import app
from absl import flags
import keras
import numpy as np
import tensorflow as tf

from benchmarks import common_flags
from benchmarks import mi_layer_shapes
from benchmarks import timing
from mi_zoo import layers as mi_layers

LAYERS = (
    "full",
    "low_rank",
    "diagonal",
    "scalar",
    "concat_linear",
    "conditional_bias",
    "conditional_scaling",
    "film",
    "naive",
)
# The shapes and FLOP counts live in the TensorFlow-free mi_layer_shapes
# (keras_backend_benchmark shares them); re-exported here.
SHAPES = mi_layer_shapes.SHAPES
SWEEP = mi_layer_shapes.SWEEP
QUICK_SHAPES = mi_layer_shapes.QUICK_SHAPES
SQUARE = mi_layer_shapes.SQUARE
MATMUL_SIZE = mi_layer_shapes.MATMUL_SIZE
applicable = mi_layer_shapes.applicable
forward_flops = mi_layer_shapes.forward_flops

_SWEEP = flags.DEFINE_bool(
    "sweep", False, "Time a sweep of context size m and units k instead."
)
_LAYERS = flags.DEFINE_list(
    "layers", list(LAYERS), "The layers to time (default: all)."
)
_CPU_TIME = flags.DEFINE_bool(
    "cpu_time",
    False,
    "Run TensorFlow on one thread (intra- and inter-op) and time with the "
    "process's CPU seconds instead of wall seconds: what the work costs, "
    "barely moved by other processes' load.",
)
_MEMORY = flags.DEFINE_bool(
    "memory",
    False,
    "Also measure each layer's peak RSS increase in a "
    "fresh subprocess per (shape, layer) (slow: a TensorFlow start each).",
)
_RANK = mi_layer_shapes.RANK
_MIN_SECONDS = mi_layer_shapes.MIN_SECONDS
_MEMORY_CHILD = flags.DEFINE_string(
    "memory_child",
    None,
    "Internal: 'layer:B,m,n,k' — measure one layer's "
    "peak RSS increase and print it as JSON.",
)


def largest_intermediate(name, shape, rank=64, contraction="outer"):
    """Elements of the largest intermediate tensor (see the module doc)."""
    b, m, n, k = shape
    if name == "full":
        return {
            "outer": b * m * n,
            "input_first": b * m * k,
            "context_first": b * n * k,
        }[contraction]
    if name == "naive":
        return b * n * k
    if name == "low_rank":
        return b * max(rank, k)
    return b * max(n, k)


def naive_hypernetwork(m, n, k):
    """z -> (W' = zᵀW + V [B, n, k], b' = zᵀU + b); y = x W' + b'.

    Returns (call, weights) with weights the list of trainable variables
    (built on the first call)."""
    weights = keras.layers.Dense(n * k)  # kernel W [m, n·k], bias V
    bias = keras.layers.Dense(k)  # kernel U, bias b

    def call(x, z):
        w = tf.reshape(weights(z), (-1, n, k))  # [B, n, k]
        y = tf.squeeze(tf.matmul(x[:, None, :], w), 1)  # [B, k]
        return y + bias(z)

    return call, lambda: weights.trainable_weights + bias.trainable_weights


def make_layer(name, k, rank):
    """(call(x, z), trainable weights getter, layer or None)."""
    if name == "naive":
        raise ValueError("Use naive_hypernetwork for the naive form.")
    if name in ("full", "low_rank", "diagonal", "scalar"):
        kwargs = {"rank": rank} if name == "low_rank" else {}
        units = k if name in ("full", "low_rank") else None
        layer = mi_layers.MultiplicativeInteraction(units, form=name, **kwargs)
    elif name == "concat_linear":
        layer = mi_layers.ConcatLinear(k)
    elif name == "conditional_bias":
        layer = mi_layers.ConditionalBias(k)
    elif name == "conditional_scaling":
        layer = mi_layers.ConditionalScaling()
    elif name == "film":
        layer = mi_layers.FiLM()
    else:
        raise ValueError(f"Unknown layer {name!r}.")
    return layer, (lambda: layer.trainable_weights), layer


def build(name, shape, rank, x, z):
    """Builds layer `name` on (x, z); returns (call, weights getter,
    contraction or None)."""
    _, m, n, k = shape
    if name == "naive":
        call, weights = naive_hypernetwork(m, n, k)
        contraction = None
    else:
        call, weights, layer = make_layer(name, k, rank)
    call(x, z)  # builds
    if name != "naive":
        contraction = getattr(layer, "contraction", None)
    return call, weights, contraction


def train_step(call, weights, jit):
    """A tf.function: gradients of sum(call(x, z)) wrt x, z and weights."""

    @tf.function(jit_compile=jit)
    def step(x, z):
        with tf.GradientTape() as tape:
            tape.watch([x, z])
            loss = tf.reduce_sum(call(x, z))
        return tape.gradient(loss, [x, z] + weights())

    return step


def inputs(shape, seed=0):
    b, m, n, _ = shape
    rng = np.random.default_rng(seed)
    return (
        tf.constant(rng.normal(size=(b, n)), tf.float32),
        tf.constant(rng.normal(size=(b, m)), tf.float32),
    )


def measure_shape(
    shape, names, rank, jit, repeats, min_seconds, clock=time.perf_counter
):
    """Rows of one shape: every layer forward and forward+backward, and the
    2048² matmul, interleaved."""
    x, z = inputs(shape)
    a = tf.constant(
        np.random.default_rng(1).normal(size=(MATMUL_SIZE, MATMUL_SIZE)),
        tf.float32,
    )
    matmul = tf.function(tf.matmul, jit_compile=jit)
    fns, info = {"matmul": lambda: matmul(a, a)}, {}
    for name in names:
        if not applicable(name, shape):
            continue
        call, weights, contraction = build(name, shape, rank, x, z)
        forward = tf.function(call, jit_compile=jit)
        backward = train_step(call, weights, jit)
        fns[(name, "forward")] = lambda f=forward: f(x, z)
        fns[(name, "train")] = lambda f=backward: f(x, z)
        info[name] = contraction
    seconds = timing.interleaved_seconds(
        fns, repeats, min_seconds, clock=clock
    )
    peak = forward_flops("matmul", shape) / seconds["matmul"] / 1e9
    b, m, n, k = shape
    rows = []
    for name, contraction in info.items():
        flops = forward_flops(name, shape, rank)
        fwd, train = seconds[(name, "forward")], seconds[(name, "train")]
        elements = largest_intermediate(
            name, shape, rank, contraction or "outer"
        )
        rows.append(
            {
                "shape": {"B": b, "m": m, "n": n, "k": k},
                "layer": name,
                "contraction": contraction,
                "jit_compile": jit,
                "forward_ms": fwd * 1e3,
                "train_ms": train * 1e3,
                "forward_gflops": flops / fwd / 1e9,
                "train_gflops": 3 * flops / train / 1e9,
                "forward_percent_of_matmul": 100 * flops / fwd / 1e9 / peak,
                "train_percent_of_matmul": 100
                * 3
                * flops
                / train
                / 1e9
                / peak,
                "matmul_gflops": peak,
                "largest_intermediate_mb": 4 * elements / 2**20,
            }
        )
    naive = next((r for r in rows if r["layer"] == "naive"), None)
    for row in rows:
        if naive is not None:
            row["forward_speedup_over_naive"] = timing.ratio(
                naive["forward_ms"], row["forward_ms"]
            )
            row["train_speedup_over_naive"] = timing.ratio(
                naive["train_ms"], row["train_ms"]
            )
    return rows


def _status_kib(field):
    """A "VmRSS"/"VmHWM" line of /proc/self/status, in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"No {field} in /proc/self/status.")


def peak_rss_increase_mb(name, shape, rank):
    """Runs in the child process: see the module doc. Linux only."""
    x1, z1 = inputs((1,) + tuple(shape[1:]))
    x, z = inputs(shape)
    call, weights, _ = build(name, shape, rank, x1, z1)
    step = train_step(call, weights, False)
    for t in step(x1, z1):
        t.numpy()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak (VmHWM) to the current RSS
    base = _status_kib("VmRSS")
    for _ in range(3):
        for t in step(x, z):
            t.numpy()
    # Linux keeps RSS counters per thread and folds them in lazily (64
    # pages each), so a run that allocates nothing can read a little below
    # zero: report no increase then.
    return max(0.0, (_status_kib("VmHWM") - base) / 1024)


def measure_memory(shape, name, rank):
    """Peak RSS increase (MB) of one layer in a fresh subprocess."""
    spec = f"{name}:{','.join(map(str, shape))}"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.mi_layer_benchmark",
            f"--memory_child={spec}",
            f"--mi_rank={rank}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])["peak_rss_increase_mb"]


def table(rows, memory):
    headers = list(mi_layer_shapes.COLUMNS) + ["largest interm. MB"]
    if memory:
        headers.append("peak RSS +MB")
    lines = []
    for r in rows:
        layer = r["layer"] + (
            f" ({r['contraction']})" if r["contraction"] else ""
        )
        line = mi_layer_shapes.cells(r, layer)
        line.append(f"{r['largest_intermediate_mb']:.1f}")
        if memory:
            line.append(f"{r['peak_rss_increase_mb']:.0f}")
        lines.append(line)
    return timing.markdown_table(
        headers, lines, ["l", "l"] + ["r"] * (len(headers) - 2)
    )


def run(
    shapes,
    rank,
    jit,
    repeats,
    min_seconds,
    memory=False,
    layers=LAYERS,
    clock=time.perf_counter,
):
    """All rows and the printed table (returned as a string)."""
    rows = []
    for shape in shapes:
        shape_rows = measure_shape(
            shape, layers, rank, jit, repeats, min_seconds, clock
        )
        if memory:
            for row in shape_rows:
                row["peak_rss_increase_mb"] = measure_memory(
                    shape, row["layer"], rank
                )
        rows += shape_rows
        print(
            f"measured {shape}: matmul "
            f"{shape_rows[0]['matmul_gflops']:.0f} GFLOP/s",
            flush=True,
        )
    return rows, table(rows, memory)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if _MEMORY_CHILD.value:
        name, dims = _MEMORY_CHILD.value.split(":")
        shape = tuple(int(d) for d in dims.split(","))
        print(
            json.dumps(
                {
                    "peak_rss_increase_mb": peak_rss_increase_mb(
                        name, shape, _RANK.value
                    )
                }
            )
        )
        return
    quick, jit = common_flags.QUICK.value, common_flags.JIT_COMPILE.value
    common_flags.check_names("layers", _LAYERS.value, LAYERS)
    clock = time.perf_counter
    if _CPU_TIME.value:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        clock = time.process_time
    shapes = QUICK_SHAPES if quick else SWEEP if _SWEEP.value else SHAPES
    repeats = 2 if quick else common_flags.value_or(common_flags.REPEATS, 5)
    min_seconds = 0.02 if quick else _MIN_SECONDS.value
    print(
        f"TensorFlow {tf.__version__}, jit_compile={jit}, "
        f"intra-op threads="
        f"{tf.config.threading.get_intra_op_parallelism_threads()}, "
        f"low_rank rank={_RANK.value}, median of {repeats} interleaved "
        f"rounds of "
        f"{'CPU (process) seconds' if _CPU_TIME.value else 'wall seconds'}"
    )
    rows, text = run(
        shapes,
        _RANK.value,
        jit,
        repeats,
        min_seconds,
        _MEMORY.value,
        [name for name in LAYERS if name in _LAYERS.value],
        clock,
    )
    print(text)
    timing.write_json(common_flags.OUTPUT_JSON.value, rows)


if __name__ == "__main__":
    app.run(main)
