"""The benchmarks' precisions: float32, and bfloat16 mixed precision.

"mixed_bfloat16" is Keras's dtype policy that `--mixed_precision` gives the
binaries on a CPU (variables in float32, computations in bfloat16); a
PyTorch peer runs the same step under CPU autocast to bfloat16. Scripts
read the shared `--precisions` flag (`benchmarks.common_flags`).

    with precision.dtype_policy("mixed_bfloat16"):
        model = build()  # its layers compute in bfloat16
    with precision.torch_autocast(torch, "mixed_bfloat16"):
        out = module(x)
"""

import contextlib

#: The --precisions values: Keras dtype policies.
PRECISIONS = ("float32", "mixed_bfloat16")


def check(name):
    """`name` if it is one of PRECISIONS, else ValueError."""
    if name not in PRECISIONS:
        raise ValueError(
            f"precision must be one of {PRECISIONS}, got precision={name!r}"
        )
    return name


def compute_dtype(name):
    """The dtype the products compute in: "float32" or "bfloat16"."""
    return "bfloat16" if check(name) == "mixed_bfloat16" else "float32"


@contextlib.contextmanager
def dtype_policy(name):
    """Keras's global dtype policy set to `name` inside the block (layers
    built there take it), and the previous one restored after."""
    import keras  # noqa: PLC0415 (Keras only when asked)

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(check(name))
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def torch_autocast(torch, name):
    """A context for a PyTorch forward pass in `name`: CPU autocast to
    bfloat16 for "mixed_bfloat16", nothing for "float32"."""
    if compute_dtype(name) == "bfloat16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()
