"""The benchmark scripts' flags that need no TensorFlow: --quick, --repeats,
--output_json, `value_or`, and `check_names` for their list flags.

`common_flags` re-exports them beside the engine's flags (which import
TensorFlow); `keras_backend_benchmark`, which runs where TensorFlow is not
installed, imports this module only. One absl flag registry per process:
each flag is defined once, here, so the scripts can be imported together
(e.g. by their tests).
"""

import sys

from absl import flags

OUTPUT_JSON = flags.DEFINE_string(
    "output_json", None, "Also write the rows to this JSON file."
)
QUICK = flags.DEFINE_bool(
    "quick",
    False,
    "A smoke run: the smallest configuration, one short "
    "round (see each script's docstring).",
)
REPEATS = flags.DEFINE_integer(
    "repeats",
    None,
    "Interleaved rounds per measurement (the median is "
    "reported). Default: mi_layer_benchmark 5, keras_backend_benchmark 5, "
    "vqa_throughput 5, reference_comparison 3.",
    lower_bound=1,
    upper_bound=100,
)


def value_or(flag, default):
    """The flag's value, or the script's `default` when the flag was not
    given (left at its default, or None)."""
    if flag.value is None or (not flag.present and flag.value == flag.default):
        return default
    return flag.value


def check_names(flag, names, known):
    """Exits with one line on stderr (status 1) unless `names`, the value of
    the list flag --`flag`, is a non-empty list of `known` names.

    Example: `check_names("fusions", ["mlb", "nope"], FUSIONS)` exits with
    "--fusions: unknown ['nope']; choose from ['mlb', ...], got
    'mlb,nope'."
    """
    if not names:
        sys.exit(f"--{flag} is empty; choose from {list(known)}.")
    unknown = [name for name in names if name not in known]
    if unknown:
        sys.exit(
            f"--{flag}: unknown {unknown}; choose from {list(known)}, got "
            f"{','.join(names)!r}."
        )
    return names
