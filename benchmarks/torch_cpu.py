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
"""

import importlib
import sys


def import_torch():
    """Imports and returns `torch` with triton kept out of the process.

    Raises:
      ImportError: PyTorch is not installed.
    """
    if "triton" not in sys.modules:
        sys.modules["triton"] = None  # `import triton` raises ImportError.
    return importlib.import_module("torch")
