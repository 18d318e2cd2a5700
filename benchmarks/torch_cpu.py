"""PyTorch for the CPU benchmarks, imported so that it runs beside TensorFlow.

TensorFlow's `libtensorflow_framework.so.2` and triton's `libtriton.so` (a
dependency of the PyPI `torch` wheel) each carry their own build of LLVM and
both export its symbols (`llvm::DebugCounter::instance()` among them).
TensorFlow loads its library with global symbols, so when triton is loaded
after it, libtriton's static initialisers bind to TensorFlow's LLVM objects,
of another LLVM version, and the process dies of a segmentation fault inside
`dlopen`. torch loads triton lazily: the first `torch.optim.Adam` imports
`torch._dynamo`, which asks whether triton is installed by importing it, so
the benchmark crashed when it created the reference's optimizer.

triton only compiles GPU kernels (`torch.compile`'s inductor); eager PyTorch
on the CPU never needs it. `import_torch` marks it as not importable
(`sys.modules["triton"] = None`: `import triton` then raises ImportError,
which torch reads as "triton is not installed") unless it is already loaded,
and imports torch. Every benchmark module that uses torch imports it through
here, before or after TensorFlow alike:

    from benchmarks import torch_cpu
    torch = torch_cpu.import_torch()  # ImportError without PyTorch
    torch = torch_cpu.require("benchmarks.x")  # exits with how to install
    torch_cpu.set_threads(2)  # both frameworks, before any TensorFlow op
    floor = torch_cpu.gemm_floor()  # both frameworks' float32 GEMM, timed

`gemm_floor` times the one kernel both frameworks hand most of a fusion's
work to: a square float32 matmul, interleaved in the same process. Which BLAS
each uses decides much of any ratio between them: the PyPI torch wheel calls
MKL and TensorFlow calls oneDNN, and on some CPUs one runs at half the
other's rate. The comparison scripts print it beside their ratios and
divide by it ("÷ GEMM"): a step ratio equal to the GEMM ratio means the layer
is as fast as its matmuls allow in both, whatever the BLAS.
"""

import importlib
import sys

import numpy as np

from benchmarks import precision
from benchmarks import timing


def import_torch():
    """Imports and returns `torch` with triton kept out of the process.

    Raises:
      ImportError: PyTorch is not installed.
    """
    if "triton" not in sys.modules:
        sys.modules["triton"] = None  # `import triton` raises ImportError.
    return importlib.import_module("torch")


def require(script):
    """`import_torch()`, or exits saying that `script` needs PyTorch and how
    to install it."""
    try:
        return import_torch()
    except ImportError:
        sys.exit(
            f"{script} needs PyTorch, an optional benchmark dependency: "
            'pip install -e ".[bench]"'
        )


def set_threads(n):
    """The same thread count for PyTorch and TensorFlow (intra-op and
    inter-op pools; call it before any TensorFlow op). Returns (torch
    version, TensorFlow version)."""
    torch = import_torch()
    import tensorflow as tf  # noqa: PLC0415 (TensorFlow only when asked)

    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    except RuntimeError:  # TensorFlow already ran an op in this process.
        print(
            f"TensorFlow was initialised before set_threads({n}): its "
            "thread pools keep their sizes (intra-op "
            f"{tf.config.threading.get_intra_op_parallelism_threads()}, "
            "0 = all cores)."
        )
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(n)
    except RuntimeError:  # already set in this process
        pass
    return torch.__version__, tf.__version__


def gemm_floor(size=2048, repeats=5, seed=0, dtype="float32"):
    """Times a [size, size] matmul in TensorFlow (a `tf.function`) and
    PyTorch, interleaved (`benchmarks.timing`), after `set_threads`.

    Args:
      dtype: "float32", or "bfloat16" (both operands in bfloat16: the
        products of a mixed-precision step).

    Returns:
      {"size", "dtype", "tensorflow_ms", "torch_ms", "ratio"}: ratio is
      TensorFlow's time over PyTorch's (below 1: TensorFlow's GEMM is
      faster here).
    """
    import tensorflow as tf  # noqa: PLC0415

    torch = import_torch()
    if dtype not in ("float32", "bfloat16"):
        raise ValueError(
            f"dtype must be 'float32' or 'bfloat16', got dtype={dtype!r}"
        )
    a = np.random.default_rng(seed).standard_normal((size, size))
    a = a.astype(np.float32)
    tf_a = tf.cast(tf.constant(a), dtype)
    torch_a = torch.from_numpy(a).to(getattr(torch, dtype))
    tf_matmul = tf.function(tf.matmul)
    seconds = timing.interleaved_seconds(
        {
            "tensorflow": lambda: tf_matmul(tf_a, tf_a),
            "torch": lambda: torch.matmul(torch_a, torch_a),
        },
        repeats,
        min_seconds=0.1,
    )
    return {
        "size": size,
        "dtype": dtype,
        "tensorflow_ms": seconds["tensorflow"] * 1e3,
        "torch_ms": seconds["torch"] * 1e3,
        "ratio": timing.ratio(seconds["tensorflow"], seconds["torch"]),
    }


def gemm_floors(precisions, size=2048, repeats=5):
    """{precision: `gemm_floor`} in each of `precisions`' compute dtypes
    (`benchmarks.precision`), printing each one's `gemm_floor_line`."""
    floors = {
        p: gemm_floor(size, repeats, dtype=precision.compute_dtype(p))
        for p in precisions
    }
    for floor in floors.values():
        print(gemm_floor_line(floor), flush=True)
    return floors


def over_gemm(row, floor, ratio_key):
    """Adds `floor` (`gemm_floor`'s result) to `row` and "ratio_over_gemm",
    row[ratio_key] over the matmul ratio; returns `row`."""
    row["gemm"] = floor
    row["ratio_over_gemm"] = timing.ratio(row[ratio_key], floor["ratio"])
    return row


def gemm_floor_line(floor):
    """One line saying what `gemm_floor` measured."""
    return (
        f"{floor['size']}² {floor['dtype']} matmul, same run: TensorFlow "
        f"{floor['tensorflow_ms']:.1f} ms, PyTorch {floor['torch_ms']:.1f} ms "
        f"({floor['ratio']:.2f}×, the GEMM ratio; '÷ GEMM' = a ratio over it)"
    )
