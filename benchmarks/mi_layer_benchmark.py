r"""Speed of the full MultiplicativeInteraction layer against the naive
hypernetwork and against this machine's plain matmul rate.

For each shape (B, m, n, k) it times, in the same process and interleaved:
  peak:   a plain 2048×2048 float32 matmul (the machine's GEMM rate),
  gemm:   one [B, m·n] @ [m·n, k] matmul (the same FLOPs in a single GEMM),
  naive:  the naive hypernetwork — Dense layers on z emit W' = zᵀW + V as
          [B, n·k] and b' = zᵀU + b, reshape to [B, n, k], batched matmul,
  mi_zoo: `MultiplicativeInteraction(k, form="full")` (its chosen contraction
          order is printed),
and reports ms per forward pass, GFLOP/s counting the formula's
2·B·k·(m·n + m + n) FLOPs, and mi_zoo's rate as a percentage of the peak and
of the same-shaped GEMM. Each time is the median of --repeats rounds.

  python -m benchmarks.mi_layer_benchmark                 # the issue's shapes
  python -m benchmarks.mi_layer_benchmark --jit_compile   # under XLA
  python -m benchmarks.mi_layer_benchmark --sweep         # grow m and k
  python -m benchmarks.mi_layer_benchmark --output_json=/tmp/mi.json
"""

import json
import statistics
import time

from absl import app
from absl import flags
import keras
import numpy as np
import tensorflow as tf

from mi_zoo.layers import MultiplicativeInteraction

SHAPES = ((256, 32, 256, 256), (256, 256, 256, 256), (64, 512, 512, 512),
          (1024, 16, 128, 128))
SWEEP = tuple((256, m, 256, 256) for m in (8, 32, 128, 512)) + tuple(
    (256, 64, 256, k) for k in (32, 128, 512, 1024))

_JIT = flags.DEFINE_bool("jit_compile", False, "Compile with XLA.")
_SWEEP = flags.DEFINE_bool(
    "sweep", False, "Time a sweep of context size m and units k instead.")
_REPEATS = flags.DEFINE_integer("repeats", 7, "Rounds per measurement.",
                                lower_bound=1)
_MIN_SECONDS = flags.DEFINE_float(
    "min_seconds", 0.2, "Least time per round (sets the iterations).",
    lower_bound=0.0)
_OUTPUT_JSON = flags.DEFINE_string("output_json", None,
                                   "Also write the rows to this JSON file.")


def seconds_per_call(fn, *args):
    """Median over rounds of the mean time of one call (after warm-up)."""
    fn(*args).numpy()
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < _MIN_SECONDS.value / 4 or calls < 2:
        fn(*args).numpy()
        calls += 1
    iters = max(1, int(calls * _MIN_SECONDS.value
                       / (time.perf_counter() - start)))
    rounds = []
    for _ in range(_REPEATS.value):
        start = time.perf_counter()
        for _ in range(iters):
            out = fn(*args)
        out.numpy()
        rounds.append((time.perf_counter() - start) / iters)
    return statistics.median(rounds)


def naive_hypernetwork(m, n, k):
    """z -> (W' = zᵀW + V [B, n, k], b' = zᵀU + b); y = x W' + b'."""
    weights = keras.layers.Dense(n * k)  # kernel W [m, n·k], bias V
    bias = keras.layers.Dense(k)  # kernel U, bias b

    def call(x, z):
        w = tf.reshape(weights(z), (-1, n, k))  # [B, n, k]
        y = tf.squeeze(tf.matmul(x[:, None, :], w), 1)  # [B, k]
        return y + bias(z)

    return call


def measure(shape, peak):
    batch, m, n, k = shape
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(batch, n)), tf.float32)
    z = tf.constant(rng.normal(size=(batch, m)), tf.float32)
    outer = tf.constant(rng.normal(size=(batch, m * n)), tf.float32)
    w2 = tf.constant(rng.normal(size=(m * n, k)), tf.float32)
    layer = MultiplicativeInteraction(k)
    layer(x, z)
    naive = naive_hypernetwork(m, n, k)
    naive(x, z)
    compile_ = lambda f: tf.function(f, jit_compile=_JIT.value)
    gemm_s = seconds_per_call(compile_(tf.matmul), outer, w2)
    naive_s = seconds_per_call(compile_(naive), x, z)
    mi_s = seconds_per_call(compile_(layer), x, z)
    flops = 2.0 * batch * k * (m * n + m + n)
    gflops = flops / mi_s / 1e9
    return {
        "shape": {"B": batch, "m": m, "n": n, "k": k},
        "contraction": layer.contraction,
        "jit_compile": _JIT.value,
        "naive_ms": naive_s * 1e3,
        "mi_zoo_ms": mi_s * 1e3,
        "gemm_ms": gemm_s * 1e3,
        "mi_zoo_gflops": gflops,
        "naive_gflops": flops / naive_s / 1e9,
        "peak_gflops": peak,
        "percent_of_peak": 100.0 * gflops / peak,
        "percent_of_same_gemm": 100.0 * gemm_s / mi_s * (
            flops / (2.0 * batch * m * n * k)),
        "speedup_over_naive": naive_s / mi_s,
    }


def peak_gflops():
    a = tf.constant(np.random.default_rng(1).normal(size=(2048, 2048)),
                    tf.float32)
    mm = tf.function(tf.matmul, jit_compile=_JIT.value)
    return 2.0 * 2048**3 / seconds_per_call(mm, a, a) / 1e9


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    rows = []
    header = (f"{'B,m,n,k':<20}{'order':<14}{'naive ms':>10}{'mi_zoo ms':>11}"
              f"{'GFLOP/s':>9}{'% peak':>8}{'% GEMM':>8}{'speedup':>9}"
              f"{'peak GFLOP/s':>14}")
    print(f"TensorFlow {tf.__version__}, jit_compile={_JIT.value}, "
          f"intra-op threads={tf.config.threading.get_intra_op_parallelism_threads()}")
    print(header)
    for shape in SWEEP if _SWEEP.value else SHAPES:
        peak = peak_gflops()  # re-measured beside every shape
        row = measure(shape, peak)
        rows.append(row)
        print(f"{','.join(map(str, shape)):<20}{row['contraction']:<14}"
              f"{row['naive_ms']:>10.2f}{row['mi_zoo_ms']:>11.2f}"
              f"{row['mi_zoo_gflops']:>9.0f}{row['percent_of_peak']:>7.0f}%"
              f"{row['percent_of_same_gemm']:>7.0f}%"
              f"{row['speedup_over_naive']:>8.2f}x{peak:>14.0f}")
    if _OUTPUT_JSON.value:
        with open(_OUTPUT_JSON.value, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    app.run(main)
