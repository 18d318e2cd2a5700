r"""The MI paper's multitask-regression comparison: held-out MSE vs T.

Trains every conditioning variant of mi_zoo/tasks/multitask_regression.py
(matched parameter counts) for each number of tasks T and seed, in this one
process (`trainer.train` with a fresh model_dir per run), and writes

- <out>/results.md: final held-out MSE, mean ± std over seeds, per
  conditioning and T (and the parameter counts);
- <out>/results.json: every run's numbers and the summary;
- <out>/multitask_regression.png (and --trunk_png): MSE vs T, one line per
  conditioning, log scale;
- <out>/summary/: the plot as a TensorBoard image (tensorboard --logdir
  <out>/summary).

  python -m benchmarks.multitask_regression_results \
      --trunk_out_dir=/tmp/mtr_grid --trunk_train_steps=3000 \
      --trunk_png=docs/images/multitask_regression.png

Finished runs (model_dirs with results.json) are reused when the script is
started again.
"""

import json
import os
import sys
import time

from absl import app
from absl import flags
import numpy as np

from benchmarks import plots
from mi_zoo.models import multitask_regression as multitask_models
from mi_zoo.tasks import multitask_regression
from mi_zoo.training import trainer

_OUT_DIR = flags.DEFINE_string(
    "trunk_out_dir",
    "/tmp/multitask_regression",
    "Folder of the runs and the results.",
)
_CONDITIONINGS = flags.DEFINE_list(
    "conditionings",
    list(multitask_models.CONDITIONINGS.names()),
    "Conditioning variants compared.",
)
_NUM_TASKS_GRID = flags.DEFINE_list(
    "num_tasks_grid", ["1", "10", "20", "40"], "Numbers of tasks T."
)
_SEEDS = flags.DEFINE_list(
    "trunk_seeds",
    ["0", "1", "2"],
    "Seeds (weights, data order and tasks) per cell.",
)
_FAMILY = flags.DEFINE_enum(
    "function_family_grid",
    "sine",
    list(multitask_regression.FUNCTION_FAMILIES.names()),
    "Function family of the tasks.",
)
_BUDGET = flags.DEFINE_integer(
    "parameter_budget_grid", 20000, "Parameters of every model.", lower_bound=1
)
_STEPS = flags.DEFINE_integer(
    "trunk_train_steps", 3000, "Optimizer steps per run.", lower_bound=1
)
_LEARNING_RATE = flags.DEFINE_float(
    "trunk_learning_rate", 3e-3, "Peak learning rate (cosine decay)."
)
_BATCH = flags.DEFINE_integer(
    "trunk_batch_size", 64, "Batch size.", lower_bound=1
)
_PNG = flags.DEFINE_string(
    "trunk_png", None, "Also save the plot to this PNG file."
)


def run_one(
    conditioning,
    num_tasks,
    seed,
    out_dir,
    steps,
    learning_rate,
    batch_size,
    family,
    budget,
):
    """Trains one cell; returns its results.json (reused if present)."""
    model_dir = os.path.join(
        out_dir, "runs", f"{conditioning}_T{num_tasks}_seed{seed}"
    )
    path = os.path.join(model_dir, "results.json")
    if not os.path.exists(path):
        task = multitask_regression.MultitaskRegressionTask(
            num_tasks=num_tasks,
            conditioning=conditioning,
            function_family=family,
            parameter_budget=budget,
            data_seed=seed,
        )
        config = trainer.TrainConfig(
            model_dir=model_dir,
            train_steps=steps,
            batch_size=batch_size,
            learning_rate=learning_rate,
            decay="cosine",
            seed=seed,
            log_every=steps,
            eval_every=0,
            checkpoint_every=steps,
            export=False,
            overwrite=True,
        )
        trainer.train(task, config, settings=task.hparams(), interactive=False)
    with open(path) as f:
        return json.load(f)


def summarise(runs):
    """{conditioning: {T: row}} of mean ± std over seeds."""
    summary = {}
    for (conditioning, num_tasks), results in runs.items():
        mse = np.array([r["eval"]["mse"] for r in results])
        worst = np.array([r["eval"]["task_mse/max"] for r in results])
        summary.setdefault(conditioning, {})[num_tasks] = {
            "mse_mean": float(mse.mean()),
            "mse_std": float(mse.std()),
            "worst_task_mse_mean": float(worst.mean()),
            "parameters": int(results[0]["parameters"]),
            "seeds": len(results),
        }
    return summary


def markdown(summary, grid, command):
    lines = [
        "| conditioning | "
        + " | ".join(f"T={t}" for t in grid)
        + " | parameters (same order of T) |",
        "|---|" + "---:|" * len(grid) + "---|",
    ]
    for conditioning, rows in summary.items():
        cells = [
            f"{rows[t]['mse_mean']:.2e} ± {rows[t]['mse_std']:.1e}"
            for t in grid
        ]
        counts = ", ".join(f"{rows[t]['parameters']:,}" for t in grid)
        lines.append(
            f"| `{conditioning}` | " + " | ".join(cells) + f" | {counts} |"
        )
    seeds = next(iter(next(iter(summary.values())).values()))["seeds"]
    lines += [
        "",
        f"Held-out MSE, mean ± std over {seeds} seeds. Command:",
        "",
        f"    {command}",
    ]
    return "\n".join(lines)


def plot(summary, grid, title, width=720, height=480):
    """uint8 [H, W, 3]: mean MSE vs T (log y), one line per conditioning,
    with ± std bars."""
    left, right, top, bottom = frame = 70, 190, 40, 50
    image, draw, font = plots.canvas(width, height, frame, title)
    values = [
        r["mse_mean"] for rows in summary.values() for r in rows.values()
    ]
    low = np.log10(max(min(values), 1e-8)) - 0.2
    high = np.log10(max(values)) + 0.2
    tasks = [int(t) for t in grid]

    def xy(t, v):
        x = left + (t - min(tasks)) / max(1, max(tasks) - min(tasks)) * (
            width - left - right
        )
        y = top + (high - np.log10(max(v, 1e-8))) / (high - low) * (
            height - top - bottom
        )
        return x, y

    for decade in range(int(np.floor(low)), int(np.ceil(high)) + 1):
        for mult in (1, 2, 5):
            v = mult * 10.0**decade
            if low <= np.log10(v) <= high:
                _, y = xy(tasks[0], v)
                draw.line([left, y, width - right, y], fill=(225, 225, 225))
                draw.text((5, y - 7), f"{v:g}", fill="black", font=font)
    for t in tasks:
        x, _ = xy(t, 10**low)
        draw.line([x, top, x, height - bottom], fill=(235, 235, 235))
        draw.text(
            (x - 8, height - bottom + 5), f"{t}", fill="black", font=font
        )
    draw.text(
        ((width - right) // 2, height - 22),
        "T (number of tasks)",
        fill="black",
        font=font,
    )
    for i, (conditioning, rows) in enumerate(summary.items()):
        color = plots.COLORS[i % len(plots.COLORS)]
        points = [xy(t, rows[t]["mse_mean"]) for t in tasks]
        draw.line(points, fill=color, width=3)
        for t, (x, y) in zip(tasks, points):
            mean, std = rows[t]["mse_mean"], rows[t]["mse_std"]
            _, y_hi = xy(t, mean + std)
            _, y_lo = xy(t, max(mean - std, 10**low))
            draw.line([x, y_hi, x, y_lo], fill=color, width=1)
            draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=color)
        plots.legend_entry(
            draw,
            font,
            width - right + 12,
            top + 10 + 22 * i,
            color,
            conditioning,
        )
    return np.asarray(image, np.uint8)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    for name in _CONDITIONINGS.value:
        if name not in multitask_models.CONDITIONINGS:
            raise app.UsageError(
                f"--conditionings: unknown {name!r}; choose from "
                f"{multitask_models.CONDITIONINGS.names()}."
            )
    try:
        grid = [int(t) for t in _NUM_TASKS_GRID.value]
        seeds = [int(s) for s in _SEEDS.value]
    except ValueError as e:
        raise app.UsageError(f"--num_tasks_grid / --trunk_seeds: {e}")
    out = _OUT_DIR.value
    start = time.time()
    runs = {}
    for conditioning in _CONDITIONINGS.value:
        for num_tasks in grid:
            runs[conditioning, num_tasks] = [
                run_one(
                    conditioning,
                    num_tasks,
                    seed,
                    out,
                    _STEPS.value,
                    _LEARNING_RATE.value,
                    _BATCH.value,
                    _FAMILY.value,
                    _BUDGET.value,
                )
                for seed in seeds
            ]
            print(
                f"{conditioning} T={num_tasks}: "
                + ", ".join(
                    f"{r['eval']['mse']:.4f}"
                    for r in runs[conditioning, num_tasks]
                )
                + f" ({time.time() - start:.0f} s)",
                flush=True,
            )
    summary = summarise(runs)
    command = "python -m benchmarks.multitask_regression_results " + " ".join(
        sys.argv[1:]
    )
    table = markdown(summary, grid, command)
    print(table)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(
            {
                "summary": {
                    c: {str(t): row for t, row in rows.items()}
                    for c, rows in summary.items()
                },
                "runs": {f"{c}_T{t}": r for (c, t), r in runs.items()},
                "settings": {
                    "train_steps": _STEPS.value,
                    "learning_rate": _LEARNING_RATE.value,
                    "batch_size": _BATCH.value,
                    "function_family": _FAMILY.value,
                    "parameter_budget": _BUDGET.value,
                    "seeds": seeds,
                },
                "seconds": time.time() - start,
            },
            f,
            indent=2,
        )
    image = plot(
        summary,
        grid,
        f"Multitask regression ({_FAMILY.value}): "
        f"held-out MSE vs T, {_BUDGET.value:,} parameters",
    )
    plots.save_plot(
        image,
        out,
        "multitask_regression",
        "multitask_regression/mse_vs_tasks",
        png=_PNG.value,
    )


if __name__ == "__main__":
    app.run(main)
