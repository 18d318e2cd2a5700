"""Helpers shared by the benchmark scripts: timers, tables and JSON.

Absolute times on a shared machine drift from one minute to the next, so the
scripts compare implementations measured in the same process, interleaved:
`interleaved_seconds` runs one round of every candidate in turn, `repeats`
times, and reports each candidate's median round. Ratios of those medians are
the numbers to read; the absolute times are given for scale only.

    seconds = interleaved_seconds({"a": fn_a, "b": fn_b}, repeats=5,
                                  min_seconds=0.2)
    print(markdown_table(["name", "ms"], [["a", f"{seconds['a'] * 1e3:.2f}"]]))
    write_json("/tmp/out.json", {"rows": rows})
"""

import json
import math
import statistics
import time


def _block(out):
    """Waits for a TensorFlow/NumPy/PyTorch result (or a nest of them)."""
    if isinstance(out, (tuple, list)):
        for item in out:
            _block(item)
    elif isinstance(out, dict):
        for item in out.values():
            _block(item)
    elif hasattr(out, "detach"):
        pass  # PyTorch on the CPU: the call has finished when it returns.
    elif hasattr(out, "numpy"):
        out.numpy()
    return out


def calibrate(fn, min_seconds, clock=time.perf_counter):
    """Calls `fn` once (warm-up), then returns the number of calls that take
    about `min_seconds` of `clock` (at least 1)."""
    _block(fn())
    start, calls = clock(), 0
    while clock() - start < min_seconds / 4 or calls < 2:
        _block(fn())
        calls += 1
    per_call = (clock() - start) / calls
    return max(1, int(min_seconds / max(per_call, 1e-9)))


def one_round(fn, iters, clock=time.perf_counter):
    """Mean seconds per call of `iters` calls of `fn` (waiting for the last
    result: TensorFlow eager ops run in order on the CPU)."""
    start = clock()
    out = None
    for _ in range(iters):
        out = fn()
    _block(out)
    return (clock() - start) / iters


def interleaved_seconds(
    fns, repeats=5, min_seconds=0.2, iters=None, clock=time.perf_counter
):
    """Median seconds per call of each of `fns` ({name: zero-argument
    callable}), measured round-robin: round r of every function runs before
    round r + 1 of any. `iters` ({name: calls per round}) defaults to
    calibrated counts of about `min_seconds` per round. `clock` may be
    `time.process_time` (the process's CPU seconds: with one thread, a
    measure of the work that other processes' load barely moves)."""
    if iters is None:
        iters = {
            name: calibrate(fn, min_seconds, clock) for name, fn in fns.items()
        }
    rounds = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            rounds[name].append(one_round(fn, iters[name], clock))
    return {name: statistics.median(values) for name, values in rounds.items()}


def seconds_per_call(fn, repeats=5, min_seconds=0.2):
    """Median over `repeats` rounds of the mean seconds of one call."""
    return interleaved_seconds({"fn": fn}, repeats, min_seconds)["fn"]


def ratio(a, b):
    """a / b, NaN where b is not a positive finite number."""
    if not (b and math.isfinite(b)) or b <= 0:
        return float("nan")
    return a / b


def markdown_table(headers, rows, align=None):
    """A Markdown table; `align` gives "l" or "r" per column (numbers right
    by default: every column but the first)."""
    align = align or ["l"] + ["r"] * (len(headers) - 1)
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" if a == "l" else "---:" for a in align) + "|",
    ]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_json(path, value):
    """Writes `value` as indented JSON to `path` when `path` is set."""
    if path:
        with open(path, "w") as f:
            json.dump(value, f, indent=2)
