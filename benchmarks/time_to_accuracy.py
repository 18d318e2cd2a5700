r"""Time to accuracy on Sort-of-CLEVR: how long each VQA model of the zoo
takes, on a fixed number of threads, to reach 70 / 90 / 95 / 98 % on the
non-relational and on the relational questions.

Each model is one real training run of the vqa binary (`python -m
mi_zoo.experiments.vqa`, a subprocess with --tta_threads TensorFlow/OpenMP
threads) in <out>/runs/<model>, given a wall-clock budget with the engine's
--max_seconds: at the budget it checkpoints, evaluates and stops, leaving
the run unfinished (start-up and that evaluation come on top of the
budget: about 1-2 min per start on a loaded machine). The runs go one after
the other (never side by side: they would share the cores). The curve is
read back from the run's eval TensorBoard summaries: at every evaluation
(every --tta_eval_every steps, on the whole --eval_split: the binary's
default, validation, 200 images and 4,000 questions) the non-relational
and the relational accuracy, each the mean of its question subtypes'
accuracies (`eval/accuracy_by_type/non_relational/*`, `.../relational/*`).

Wall time is the time of the binary's processes, start-up included
(imports, the generated data, tracing the graph) and the evaluations too;
each start's start and end times are kept in <run>/time_to_accuracy.json,
so a run that is started again with a larger --tta_budget resumes from the
checkpoint of its stop and its curve goes on at the wall time already
spent. A process that was killed loses its steps (runs checkpoint only at
the stop, see MAX_STEPS) but its time counts. --tta_reuse only reads the
runs already there.

Writes, in --tta_out_dir:

- results.md: per model, the engine's training rate (examples/s, the
  median of its logging windows, evaluations left out), the steps, wall
  time and examples trained, the final and best accuracies, and per
  threshold the wall time and examples at the first evaluation that reached
  it, non-relational then relational ("—": never);
- results.json (and --output_json): the same and every curve;
- time_to_accuracy.png (and --tta_png): accuracy against wall time, one
  colour per model, non-relational solid and relational dashed; the same
  image as a TensorBoard summary in summary/ (the runs' own curves are in
  runs/: `tensorboard --logdir <out>/runs`).

  python -m benchmarks.time_to_accuracy --models=film,cnn_mlp \
      --tta_budget=720 --tta_out_dir=/tmp/tta \
      --tta_png=docs/images/time_to_accuracy.png
  python -m benchmarks.time_to_accuracy --models=film,cnn_mlp \
      --tta_out_dir=/tmp/tta --tta_reuse
  python -m benchmarks.time_to_accuracy --quick --tta_out_dir=/tmp/tta_quick

--quick: cnn_mlp for 3 s on 256 train and 100 eval questions, batches of
16, evaluated every 4 steps: a smoke test of the whole path.
"""

import glob
import json
import math
import os
import statistics
import subprocess
import sys
import time

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

from benchmarks import common_flags
from benchmarks import plots
from benchmarks import timing
from mi_zoo.experiments import vqa as vqa_binary
from mi_zoo.models import vqa as vqa_models

#: The question groups of Sort-of-CLEVR, as its eval tags name them.
GROUPS = ("non_relational", "relational")
#: Accuracies whose first crossing is reported.
THRESHOLDS = (0.70, 0.90, 0.95, 0.98)
#: --models default.
MODELS = ("film", "rn", "cnn_mlp", "mi", "concat")
#: Each run's record of its processes' wall times.
SEGMENTS_FILE = "time_to_accuracy.json"
#: The prefix of the per-question-type accuracies in the eval summaries.
TYPE_TAG = "eval/accuracy_by_type/"
#: train_steps of every run: the budget, not a step count, ends it; and
#: checkpoint_every: a run checkpoints only when its budget stops it (a
#: Sort-of-CLEVR checkpoint holds the data pipeline's position with its
#: image buffer, ~70 MB, 15-30 s to write on a loaded machine), so a
#: process that is killed loses its steps since it started.
MAX_STEPS = 10**8

# --models, --model_size, --eval_split, --batch_size (default 64), --quick
# and --output_json are the shared flags (benchmarks.common_flags).
_OUT_DIR = flags.DEFINE_string(
    "tta_out_dir",
    "/tmp/time_to_accuracy",
    "Folder of the runs (runs/<model>) and the results.",
)
_BUDGET = flags.DEFINE_float(
    "tta_budget",
    600.0,
    "Wall-clock seconds of training per model, all its starts together: "
    "each start gets what is left as the engine's --max_seconds, and its "
    "start-up and the evaluation at the stop come on top.",
    lower_bound=1.0,
)
_THREADS = flags.DEFINE_integer(
    "tta_threads",
    1,
    "TensorFlow intra- and inter-op threads (and OpenMP threads) of every "
    "run.",
    lower_bound=1,
)
_EVAL_EVERY = flags.DEFINE_integer(
    "tta_eval_every",
    250,
    "Training steps between evaluations: the curve's resolution.",
    lower_bound=1,
)
_REUSE = flags.DEFINE_bool(
    "tta_reuse",
    False,
    "Train nothing: read the runs already in --tta_out_dir/runs.",
)
_PNG = flags.DEFINE_string(
    "tta_png", None, "Also save the plot to this PNG file."
)

#: --quick: models, budget, limits, batch and evaluation period.
QUICK = {
    "models": ("cnn_mlp",),
    "budget": 3.0,
    "train_limit": 256,
    "eval_limit": 100,
    "batch_size": 16,
    "eval_every": 4,
}


# ------------------------------------------------------------ the curves
def crossing(seconds, examples, accuracy, threshold):
    """The first point of a curve at or above `threshold`.

    Args:
      seconds, examples, accuracy: the curve, one value per evaluation in
        the order of training (wall seconds, examples trained, accuracy).
      threshold: the accuracy to reach, in [0, 1].

    Returns:
      {"seconds", "examples"} of the first evaluation whose accuracy is
      >= threshold (NaN is never), or None if none is.

    >>> crossing([10, 20, 30], [64, 128, 192], [0.5, 0.71, 0.6], 0.7)
    {'seconds': 20.0, 'examples': 128}
    """
    for s, n, a in zip(seconds, examples, accuracy):
        if a >= threshold:  # False for NaN.
            return {"seconds": float(s), "examples": int(n)}
    return None


def group_accuracy(values, group):
    """The mean accuracy of the question subtypes of `group`.

    Args:
      values: {tag: value} of one evaluation, tags as the run logs them
        (`eval/accuracy_by_type/<group>/<subtype>`).
      group: "non_relational" or "relational".

    Returns:
      The unweighted mean over the group's subtypes (Sort-of-CLEVR asks
      them equally often), NaN when the evaluation has none of them.
    """
    prefix = f"{TYPE_TAG}{group}/"
    found = [v for tag, v in values.items() if tag.startswith(prefix)]
    return float(np.mean(found)) if found else math.nan


def active_seconds(wall_time, segments):
    """Seconds of the run's processes up to `wall_time`.

    Args:
      wall_time: a time.time() within one of the segments.
      segments: [start, end] wall times of the run's processes, in order.

    Returns:
      The lengths of the segments before the one holding `wall_time`, plus
      the time since that one's start (a time after every segment counts
      from the last one's start; one before the first is 0).

    >>> active_seconds(105.0, [[0.0, 30.0], [100.0, 150.0]])
    35.0
    """
    spent = 0.0
    for i, (start, end) in enumerate(segments):
        last = i == len(segments) - 1
        if wall_time < start:
            break
        if wall_time <= end or last:
            return spent + wall_time - start
        spent += end - start
    return spent


def read_events(folder):
    """[(wall_time, step, {tag: value})] of the scalar summaries in the
    event files of `folder`, in the order written."""
    events = []
    for path in sorted(
        glob.glob(os.path.join(folder, "events.out.tfevents.*"))
    ):
        for event in tf.compat.v1.train.summary_iterator(path):
            values = {}
            for value in event.summary.value:
                if value.HasField("tensor") and not value.tensor.string_val:
                    array = tf.make_ndarray(value.tensor)
                    if array.size == 1:
                        values[value.tag] = float(array.ravel()[0])
                elif value.HasField("simple_value"):
                    values[value.tag] = float(value.simple_value)
            if values:
                events.append((event.wall_time, int(event.step), values))
    return sorted(events, key=lambda e: e[0])


def read_segments(run_dir):
    """The [start, end] wall times of a run's processes (an end of None:
    a process that did not come back, e.g. the script was killed)."""
    path = os.path.join(run_dir, SEGMENTS_FILE)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)["segments"]


def write_segments(run_dir, segments):
    with open(os.path.join(run_dir, SEGMENTS_FILE), "w") as f:
        json.dump({"segments": segments}, f, indent=1)


def closed_segments(segments, run_dir):
    """`segments` with an unknown end set to the last summary written
    during that process (or its start)."""
    times = [
        e[0]
        for mode in ("train", "eval")
        for e in read_events(os.path.join(run_dir, mode))
    ]
    closed = []
    for i, (start, end) in enumerate(segments):
        if end is None:
            until = segments[i + 1][0] if i + 1 < len(segments) else math.inf
            end = max([t for t in times if start <= t < until] or [start])
        closed.append([start, end])
    return closed


def _is_type_tag(tag):
    return tag.startswith(TYPE_TAG)


def read_curve(run_dir):
    """The time-to-accuracy curve of one run.

    Returns:
      {"steps", "examples", "seconds", "accuracy", GROUPS...: one value per
      evaluation (the last one logged at each step), "examples_per_second":
      the median training rate of the run's logging windows, "wall_seconds":
      its processes' total, "batch_size"}.
    """
    with open(os.path.join(run_dir, "flags.json")) as f:
        batch = int(json.load(f)["batch_size"])
    segments = closed_segments(read_segments(run_dir), run_dir)
    by_step = {}  # An evaluation writes one event per tag.
    for wall_time, step, values in read_events(os.path.join(run_dir, "eval")):
        time_before, merged = by_step.get(step, (wall_time, {}))
        by_step[step] = (max(time_before, wall_time), {**merged, **values})
    steps = sorted(
        s for s, (_, v) in by_step.items() if any(map(_is_type_tag, v))
    )
    rates = [
        values["train/examples_per_second"]
        for _, _, values in read_events(os.path.join(run_dir, "train"))
        if "train/examples_per_second" in values
    ]
    curve = {
        "steps": steps,
        "examples": [s * batch for s in steps],
        "seconds": [active_seconds(by_step[s][0], segments) for s in steps],
        "accuracy": [
            by_step[s][1].get("eval/accuracy", math.nan) for s in steps
        ],
        "examples_per_second": statistics.median(rates) if rates else math.nan,
        "wall_seconds": sum(end - start for start, end in segments),
        "batch_size": batch,
    }
    for group in GROUPS:
        curve[group] = [group_accuracy(by_step[s][1], group) for s in steps]
    return curve


def summarise(curves, thresholds=THRESHOLDS):
    """{model: row}: rate, length, final and best accuracy per group and
    the first crossing of every threshold per group."""
    rows = {}
    for model, c in curves.items():
        rows[model] = {
            "examples_per_second": c["examples_per_second"],
            "steps": c["steps"][-1] if c["steps"] else 0,
            "examples": c["examples"][-1] if c["examples"] else 0,
            "wall_seconds": c["wall_seconds"],
            "final": {g: (c[g][-1] if c[g] else math.nan) for g in GROUPS},
            "best": {
                g: max((a for a in c[g] if math.isfinite(a)), default=math.nan)
                for g in GROUPS
            },
            "thresholds": {
                f"{t:g}": {
                    g: crossing(c["seconds"], c["examples"], c[g], t)
                    for g in GROUPS
                }
                for t in thresholds
            },
        }
    return rows


def _count(n):
    if n >= 1e6:
        return f"{n / 1e6:.2f}M"
    return f"{n / 1e3:.0f}k" if n >= 1e4 else str(n)


def _reached(point):
    if point is None:
        return "—"
    return f"{point['seconds'] / 60:.1f} min, {_count(point['examples'])}"


def markdown(rows, thresholds=THRESHOLDS):
    """The results table: one row per model; a threshold's cell is
    "non-relational; relational", each "<minutes> min, <examples>" or
    "—"."""
    headers = [
        "model",
        "examples/s",
        "wall (min)",
        "examples",
        "final non-rel / rel",
        "best non-rel / rel",
    ] + [f"{t:.0%} non-rel; rel" for t in thresholds]
    table = []
    for model, r in rows.items():
        cells = [
            f"`{model}`",
            f"{r['examples_per_second']:.0f}",
            f"{r['wall_seconds'] / 60:.1f}",
            _count(r["examples"]),
            " / ".join(f"{r['final'][g]:.3f}" for g in GROUPS),
            " / ".join(f"{r['best'][g]:.3f}" for g in GROUPS),
        ]
        for t in thresholds:
            points = r["thresholds"][f"{t:g}"]
            cells.append("; ".join(_reached(points[g]) for g in GROUPS))
        table.append(cells)
    return timing.markdown_table(headers, table)


# ------------------------------------------------------------ the plot
def plot(curves, title, thresholds=THRESHOLDS, width=760, height=480):
    """uint8 [H, W, 3]: accuracy against wall minutes, one colour per
    model, non-relational solid, relational dashed; the thresholds as
    light horizontal lines."""
    left, right, top, bottom = frame = 50, 170, 40, 50
    image, draw, font = plots.canvas(width, height, frame, title)
    longest = max([c["wall_seconds"] / 60 for c in curves.values()] + [1e-3])

    def xy(minutes, value):
        x = left + minutes / longest * (width - left - right)
        y = top + (1 - value) * (height - top - bottom)
        return x, y

    for value in np.arange(0, 1.01, 0.1):
        _, y = xy(0, value)
        draw.line([left, y, width - right, y], fill=(235, 235, 235))
        draw.text((12, y - 7), f"{value:.1f}", fill="black", font=font)
    for t in thresholds:
        _, y = xy(0, t)
        draw.line([left, y, width - right, y], fill=(200, 200, 200))
    step = 10 ** math.floor(math.log10(max(longest / 2, 1e-3)))
    if longest / step > 6:
        step *= 2
    for tick in np.arange(0, longest + 1e-9, step):
        x, _ = xy(tick, 0)
        draw.line([x, height - bottom, x, height - bottom + 4], fill="black")
        draw.text(
            (x - 8, height - bottom + 6), f"{tick:g}", fill="black", font=font
        )
    draw.text(
        ((width - right) // 2 - 40, height - 22),
        "wall time (minutes)",
        fill="black",
        font=font,
    )
    for i, (model, c) in enumerate(curves.items()):
        color = plots.COLORS[i % len(plots.COLORS)]
        minutes = [s / 60 for s in c["seconds"]]
        for group, dash in zip(GROUPS, (None, 6)):
            points = [
                xy(m, a) for m, a in zip(minutes, c[group]) if math.isfinite(a)
            ]
            if len(points) == 1:
                draw.ellipse(
                    [points[0][0] - 2, points[0][1] - 2]
                    + [points[0][0] + 2, points[0][1] + 2],
                    fill=color,
                )
            elif dash:
                plots.dashed_line(draw, points, color, 2, dash)
            elif points:
                draw.line(points, fill=color, width=2)
        plots.legend_entry(
            draw, font, width - right + 12, top + 10 + 22 * i, color, model
        )
    y = top + 10 + 22 * (len(curves) + 1)
    for group, dash in zip(GROUPS, (None, 6)):
        label = group.replace("_", "-")
        plots.legend_entry(
            draw, font, width - right + 12, y, (0, 0, 0), label, dash
        )
        y += 22
    return np.asarray(image, np.uint8)


# ------------------------------------------------------------ the runs
def binary_flags(model, settings):
    """The vqa binary's flags of one model's run (without --model_dir and
    --max_seconds)."""
    extra = [
        f"--{name}={settings[name]}"
        for name in ("train_limit", "eval_limit", "eval_split")
        if settings.get(name)
    ]
    return [
        f"--model={model}",
        f"--model_size={settings['model_size']}",
        "--dataset=sort_of_clevr",
        f"--batch_size={settings['batch_size']}",
        f"--train_steps={MAX_STEPS}",
        f"--eval_every={settings['eval_every']}",
        f"--checkpoint_every={MAX_STEPS}",
        f"--log_every={max(1, settings['eval_every'] // 4)}",
        "--image_every=0",
        "--histogram_every=0",
        "--num_images=1",
        "--noexport",
        *extra,
    ]


def run_model(model, run_dir, budget, threads, settings):
    """Trains `model` in `run_dir` until its processes have had `budget`
    wall seconds in all (nothing if they have); returns the seconds this
    call trained."""
    os.makedirs(run_dir, exist_ok=True)
    segments = closed_segments(read_segments(run_dir), run_dir)
    left = budget - sum(end - start for start, end in segments)
    if left <= 0 or os.path.exists(os.path.join(run_dir, "results.json")):
        return 0.0
    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(threads),
        TF_NUM_INTRAOP_THREADS=str(threads),
        TF_NUM_INTEROP_THREADS=str(threads),
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    env.pop("TF_CONFIG", None)
    command = [
        sys.executable,
        "-m",
        vqa_binary.__name__,
        f"--model_dir={run_dir}",
        f"--max_seconds={left:.1f}",
        *binary_flags(model, settings),
    ]
    start = time.time()
    write_segments(run_dir, segments + [[start, None]])
    with open(run_dir + ".log", "a") as log:
        done = subprocess.run(
            command, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    end = time.time()
    write_segments(run_dir, segments + [[start, end]])
    if done.returncode:
        raise RuntimeError(
            f"{model}: the vqa binary failed (exit status "
            f"{done.returncode}); see {run_dir}.log"
        )
    return end - start


def check_models(models):
    """`models`, refusing names that the VQA registry lacks."""
    unknown = [m for m in models if m not in vqa_models.VQA_MODELS]
    if unknown or not models:
        raise app.UsageError(
            f"--models: choose from {vqa_models.VQA_MODELS.names()}, "
            f"got {models!r}."
        )
    return list(models)


def check_runs(run_dirs):
    """Refuses models without a started run in their folder."""
    missing = {
        m: d
        for m, d in run_dirs.items()
        if not os.path.exists(os.path.join(d, "flags.json"))
    }
    if missing:
        raise app.UsageError(
            f"No run to read (run without --tta_reuse first, or choose "
            f"--tta_out_dir): got no flags.json in {sorted(missing.values())}."
        )


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    quick = common_flags.QUICK.value
    models = check_models(
        QUICK["models"]
        if quick
        else common_flags.value_or(common_flags.MODELS, MODELS)
    )
    settings = {
        "model_size": common_flags.MODEL_SIZE.value,
        "batch_size": QUICK["batch_size"]
        if quick
        else common_flags.value_or(common_flags.BATCH_SIZE, 64),
        "eval_every": QUICK["eval_every"] if quick else _EVAL_EVERY.value,
        "train_limit": QUICK["train_limit"] if quick else None,
        "eval_limit": QUICK["eval_limit"] if quick else None,
        "eval_split": common_flags.EVAL_SPLIT.value,
    }
    budget = QUICK["budget"] if quick else _BUDGET.value
    out = _OUT_DIR.value
    run_dirs = {m: os.path.join(out, "runs", m) for m in models}
    if not _REUSE.value:
        for model, run_dir in run_dirs.items():
            seconds = run_model(
                model, run_dir, budget, _THREADS.value, settings
            )
            print(f"{model}: trained {seconds:.0f} s", flush=True)
    check_runs(run_dirs)
    curves = {m: read_curve(d) for m, d in run_dirs.items()}
    rows = summarise(curves)
    command = "python -m benchmarks.time_to_accuracy " + " ".join(sys.argv[1:])
    table = markdown(rows)
    note = (
        f"Sort-of-CLEVR, {_THREADS.value} thread(s) per run, "
        + (
            "runs read back (--tta_reuse)"
            if _REUSE.value
            else f"{budget / 60:g} min budget per model"
        )
        + f"; accuracy of the {settings['eval_split'] or 'validation'} "
        f"split every {settings['eval_every']} steps. Command:\n\n"
        f"    {command}"
    )
    print(table + "\n\n" + note)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(table + "\n\n" + note + "\n")
    results = {
        "rows": rows,
        "curves": curves,
        "settings": {
            **settings,
            "models": models,
            "budget_seconds": budget,
            "threads": _THREADS.value,
            "thresholds": list(THRESHOLDS),
        },
        "command": command,
    }
    timing.write_json(os.path.join(out, "results.json"), results)
    timing.write_json(common_flags.OUTPUT_JSON.value, results)
    image = plot(
        curves,
        f"Sort-of-CLEVR, {_THREADS.value} thread(s): accuracy vs wall "
        f"time (non-relational solid, relational dashed)",
    )
    plots.save_plot(
        image,
        out,
        "time_to_accuracy",
        "time_to_accuracy/accuracy_vs_wall_time",
        png=_PNG.value,
    )


if __name__ == "__main__":
    app.run(main)
