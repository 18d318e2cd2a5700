r"""The MI paper's multitask-RL comparison on MiniGrid: success vs context.

Trains the multitask PPO agent of mi_zoo/experiments/multitask_rl.py with
every --rl_contexts variant (none, concat, mi, mi_learned; matched
parameter counts) and every seed, each run a subprocess of the binary with
one TensorFlow/OpenMP thread, --rl_parallel at a time, and writes

- <out>/results.md: per context, mean ± std over seeds of the final mean
  success and return (each task's last --rl_stats_episodes episodes), the
  area under the success curve (mean success over the run's log points),
  the success at 1/4 and 1/2 of the frames, per-task final success, the
  parameter count and the frames/s;
- <out>/results.json: every run's results.json and the summary;
- <out>/multitask_rl.png (and --rl_png): mean success vs frames, one line
  per context (± std over seeds dotted);
- <out>/summary/: the plot as a TensorBoard image; every run's curves are
  in <out>/runs/<context>_seed<s> (tensorboard --logdir <out>/runs).

  python -m benchmarks.multitask_rl_results --rl_out_dir=/tmp/rl_grid \
      --rl_total_frames=100000 --rl_parallel=2 \
      --rl_png=docs/images/multitask_rl.png

Finished runs (model_dirs with results.json) are reused, and killed ones
resume from their checkpoints, when the script is started again.
"""

import concurrent.futures
import json
import os
import subprocess
import sys
import time

from absl import app
from absl import flags
import numpy as np

from benchmarks import plots
from mi_zoo.rl import agent
from mi_zoo.rl import suite

_OUT_DIR = flags.DEFINE_string(
    "rl_out_dir", "/tmp/multitask_rl", "Folder of the runs and the results."
)
_CONTEXTS = flags.DEFINE_list(
    "rl_contexts", list(agent.CONTEXTS.names()), "Context variants compared."
)
_SEEDS = flags.DEFINE_list("rl_seeds", ["0", "1", "2"], "Seeds per variant.")
_TASKS = flags.DEFINE_list(
    "rl_tasks", list(suite.DEFAULT_TASKS), "MiniGrid tasks of every run."
)
_FRAMES = flags.DEFINE_integer(
    "rl_total_frames", 100_000, "Environment frames per run.", lower_bound=1
)
_STATS_EPISODES = flags.DEFINE_integer(
    "rl_stats_episodes",
    100,
    "Final success over each task's last this many episodes.",
    lower_bound=1,
)
_PARALLEL = flags.DEFINE_integer(
    "rl_parallel", 2, "Runs (processes) at a time.", lower_bound=1
)
_PNG = flags.DEFINE_string(
    "rl_png", None, "Also save the plot to this PNG file."
)

#: Fractions of the frame budget at which the success is reported.
MARKS = (0.25, 0.5)


def run_one(context, seed, out_dir, frames, tasks, stats_episodes):
    """Trains one run in a subprocess; returns its results.json (reused if
    present)."""
    model_dir = os.path.join(out_dir, "runs", f"{context}_seed{seed}")
    path = os.path.join(model_dir, "results.json")
    if not os.path.exists(path):
        os.makedirs(model_dir, exist_ok=True)
        env = dict(
            os.environ,
            OMP_NUM_THREADS="1",
            TF_NUM_INTRAOP_THREADS="1",
            TF_NUM_INTEROP_THREADS="1",
            TF_CPP_MIN_LOG_LEVEL="2",
        )
        command = [
            sys.executable,
            "-m",
            "mi_zoo.experiments.multitask_rl",
            f"--model_dir={model_dir}",
            f"--context={context}",
            f"--seed={seed}",
            f"--total_frames={frames}",
            f"--tasks={','.join(tasks)}",
            f"--stats_episodes={stats_episodes}",
            "--log_every=2",
            "--noexport",
        ]
        with open(model_dir + ".log", "a") as log:
            subprocess.run(
                command,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
            )
    with open(path) as f:
        return json.load(f)


def curve(results):
    """(frames [P], mean success [P]) of a run's logged history."""
    points = [
        (h["frames"], h["success"].get("mean", np.nan))
        for h in results["history"]
    ]
    frames, success = zip(*points)
    return np.array(frames, float), np.array(success, float)


def success_at(results, frames):
    """The logged mean success at the last log point <= `frames`."""
    xs, ys = curve(results)
    return float(ys[max(0, np.searchsorted(xs, frames, "right") - 1)])


def summarise(runs, tasks, total_frames):
    """{context: row} of mean ± std over seeds."""
    summary = {}
    for context, results in runs.items():

        def stat(values):
            values = np.array(values, float)
            return {
                "mean": float(np.nanmean(values)),
                "std": float(np.nanstd(values)),
            }

        summary[context] = {
            "parameters": int(results[0]["parameters"]),
            "hidden": int(results[0]["hidden"]),
            "success": stat([r["final_success_mean"] for r in results]),
            "return": stat([r["final_return_mean"] for r in results]),
            "auc": stat([np.nanmean(curve(r)[1]) for r in results]),
            "marks": {
                str(m): stat(
                    [success_at(r, m * total_frames) for r in results]
                )
                for m in MARKS
            },
            "tasks": {
                t: stat(
                    [r["final"]["success"].get(t, np.nan) for r in results]
                )
                for t in tasks
            },
            "frames_per_second": stat(
                [r["frames_per_second"] for r in results]
            ),
            "seconds": stat([r["seconds"] for r in results]),
            "seeds": len(results),
        }
    return summary


def _cell(s, digits=2):
    return f"{s['mean']:.{digits}f} ± {s['std']:.{digits}f}"


def markdown(summary, tasks, total_frames, stats_episodes, command):
    marks = [f"success @{int(m * total_frames / 1000)}k" for m in MARKS]
    lines = [
        "| context | parameters (width) | mean success | mean return "
        "| AUC | " + " | ".join(marks) + " | frames/s |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(marks) + "---:|",
    ]
    for context, row in summary.items():
        cells = [
            f"`{context}`",
            f"{row['parameters']:,} ({row['hidden']})",
            _cell(row["success"]),
            _cell(row["return"]),
            _cell(row["auc"]),
        ]
        cells += [_cell(row["marks"][str(m)]) for m in MARKS]
        cells.append(f"{row['frames_per_second']['mean']:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "| context | " + " | ".join(tasks) + " |",
        "|---|" + "---:|" * len(tasks),
    ]
    for context, row in summary.items():
        lines.append(
            f"| `{context}` | "
            + " | ".join(_cell(row["tasks"][t]) for t in tasks)
            + " |"
        )
    seeds = next(iter(summary.values()))["seeds"]
    lines += [
        "",
        f"Mean ± std over {seeds} seeds, {total_frames:,} frames "
        f"per run; success and return over each task's last "
        f"{stats_episodes} episodes (mean over tasks in the first "
        f"table); AUC: the mean success averaged over the run's log "
        f"points. Command:",
        "",
        f"    {command}",
    ]
    return "\n".join(lines)


def plot(runs, title, width=720, height=480):
    """uint8 [H, W, 3]: mean success (over tasks and seeds) vs frames, one
    line per context, mean ± std over seeds as thin lines."""
    left, right, top, bottom = frame = 60, 150, 40, 50
    image, draw, font = plots.canvas(width, height, frame, title)
    max_frames = max(curve(r)[0].max() for rs in runs.values() for r in rs)

    def xy(frames, value):
        x = left + frames / max_frames * (width - left - right)
        y = top + (1 - value) * (height - top - bottom)
        return x, y

    for value in np.arange(0, 1.01, 0.2):
        _, y = xy(0, value)
        draw.line([left, y, width - right, y], fill=(225, 225, 225))
        draw.text((20, y - 7), f"{value:.1f}", fill="black", font=font)
    step = 10 ** np.floor(np.log10(max_frames / 2))
    for tick in np.arange(
        0, max_frames + 1, step * (2 if max_frames / step > 6 else 1)
    ):
        x, _ = xy(tick, 0)
        draw.text(
            (x - 10, height - bottom + 5),
            f"{tick / 1000:g}k",
            fill="black",
            font=font,
        )
    draw.text(
        ((width - right) // 2 - 20, height - 22),
        "frames",
        fill="black",
        font=font,
    )
    for i, (context, results) in enumerate(runs.items()):
        color = plots.COLORS[i % len(plots.COLORS)]
        xs = curve(results[0])[0]
        ys = np.array([np.interp(xs, *curve(r)) for r in results])
        mean, std = np.nanmean(ys, 0), np.nanstd(ys, 0)
        for band in (mean - std, mean + std):
            draw.line(
                [xy(x, np.clip(v, 0, 1)) for x, v in zip(xs, band)],
                fill=tuple(int(c + (255 - c) * 0.55) for c in color),
                width=1,
            )
        draw.line([xy(x, v) for x, v in zip(xs, mean)], fill=color, width=3)
        plots.legend_entry(
            draw, font, width - right + 12, top + 10 + 22 * i, color, context
        )
    return np.asarray(image, np.uint8)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    for name in _CONTEXTS.value:
        if name not in agent.CONTEXTS:
            raise app.UsageError(
                f"--rl_contexts: unknown {name!r}; choose "
                f"from {agent.CONTEXTS.names()}."
            )
    try:
        tasks = suite.check_tasks(_TASKS.value)
        seeds = [int(s) for s in _SEEDS.value]
    except ValueError as e:
        raise app.UsageError(f"--rl_tasks / --rl_seeds: {e}")
    out, frames = _OUT_DIR.value, _FRAMES.value
    start = time.time()
    jobs = [(c, s) for c in _CONTEXTS.value for s in seeds]
    with concurrent.futures.ThreadPoolExecutor(_PARALLEL.value) as pool:
        futures = {
            job: pool.submit(
                run_one, *job, out, frames, tasks, _STATS_EPISODES.value
            )
            for job in jobs
        }
        for (context, seed), future in futures.items():
            result = future.result()
            print(
                f"{context} seed {seed}: success "
                f"{result['final_success_mean']:.3f}, "
                f"{result['frames_per_second']:.0f} frames/s "
                f"({time.time() - start:.0f} s)",
                flush=True,
            )
    runs = {
        c: [futures[c, s].result() for s in seeds] for c in _CONTEXTS.value
    }
    summary = summarise(runs, tasks, frames)
    command = "python -m benchmarks.multitask_rl_results " + " ".join(
        sys.argv[1:]
    )
    table = markdown(summary, tasks, frames, _STATS_EPISODES.value, command)
    print(table)
    print(f"{len(jobs)} runs in {time.time() - start:.0f} s")
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(
            {
                "summary": summary,
                "runs": {
                    f"{c}_seed{s}": r
                    for c, rs in runs.items()
                    for s, r in zip(seeds, rs)
                },
                "settings": {
                    "total_frames": frames,
                    "tasks": list(tasks),
                    "seeds": seeds,
                    "stats_episodes": _STATS_EPISODES.value,
                    "parallel": _PARALLEL.value,
                },
                "seconds": time.time() - start,
            },
            f,
            indent=2,
        )
    image = plot(
        runs,
        f"Multitask PPO on MiniGrid ({len(tasks)} tasks): "
        f"mean success vs frames, {len(seeds)} seeds",
    )
    plots.save_plot(
        image,
        out,
        "multitask_rl",
        "multitask_rl/success_vs_frames",
        png=_PNG.value,
    )


if __name__ == "__main__":
    app.run(main)
