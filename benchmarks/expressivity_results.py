r"""Expressivity of MLPs against one MI layer (Jayakumar et al., ICLR 2020).

For each target function × input size d × model, searches the smallest
width (MLP hidden units, low-rank MI rank; the full MI layer as is) whose
held-out MSE reaches the absolute threshold 0.1, with one engine run
(`mi_zoo.training.trainer.train`) per candidate width, all in this process,
each in a fresh model_dir under --expressivity_out_dir. Writes a Markdown
table of the parameters needed ("> N" when the largest width searched, of
N parameters, did not reach it), results.json, a PNG plot of parameters
against d per target and model, and the same plot as a TensorBoard image
(<out_dir>/summary):

  python -m benchmarks.expressivity_results \
      --expressivity_out_dir=/tmp/expressivity \
      --expressivity_output_markdown=/tmp/expressivity/table.md \
      --expressivity_plot=docs/images/expressivity.png

Finished runs are reused when the script is started again.
"""

import json
import math
import os
import sys
import time

from absl import app
from absl import flags
import numpy as np

from mi_zoo.experiments import expressivity_search
from mi_zoo.models import expressivity as expressivity_models
from mi_zoo.tasks import expressivity
from mi_zoo.training import trainer

_OUT_DIR = flags.DEFINE_string(
    "expressivity_out_dir",
    "/tmp/expressivity",
    "Folder of the runs and results.",
)
_TARGETS = flags.DEFINE_list(
    "expressivity_targets",
    ["sum", "dot", "elementwise", "bilinear"],
    "Target functions.",
)
_DIMS = flags.DEFINE_list(
    "expressivity_dims", ["2", "4", "8", "16"], "Input sizes d."
)
_MODELS = flags.DEFINE_list(
    "expressivity_models", ["mlp", "mi_low_rank", "mi_full"], "Models."
)
_STEPS = flags.DEFINE_integer(
    "expressivity_steps", 1500, "Optimizer steps per run.", lower_bound=1
)
_BATCH = flags.DEFINE_integer(
    "expressivity_batch_size", 128, "Batch size.", lower_bound=1
)
_LR = flags.DEFINE_float(
    "expressivity_learning_rate",
    1e-2,
    "Peak learning rate (Adam, cosine decay).",
)
_MLP_MAX = flags.DEFINE_integer(
    "expressivity_mlp_max_width",
    2048,
    "Largest MLP width searched.",
    lower_bound=1,
)
_THRESHOLD = flags.DEFINE_float(
    "expressivity_threshold",
    expressivity.MSE_THRESHOLD,
    "Absolute held-out MSE to reach.",
)
_TOL = flags.DEFINE_float(
    "expressivity_search_tolerance",
    0.25,
    "Bisection stops within this factor.",
)
_MARKDOWN = flags.DEFINE_string(
    "expressivity_output_markdown", None, "Also write the table here."
)
_PLOT = flags.DEFINE_string(
    "expressivity_plot", None, "Also copy the PNG plot here."
)

COLOURS = {
    "mlp": (214, 39, 40),
    "mi_low_rank": (31, 119, 180),
    "mi_full": (44, 160, 44),
}


def search_all():
    rows = []
    for target in _TARGETS.value:
        for d in (int(v) for v in _DIMS.value):
            for model in _MODELS.value:
                kind = expressivity_models.get_model_kind(model)
                smallest, largest = kind.width_range(d)
                if model == "mlp":
                    largest = _MLP_MAX.value
                start = time.time()

                def make_config(sub):
                    return trainer.TrainConfig(
                        model_dir=sub,
                        train_steps=_STEPS.value,
                        batch_size=_BATCH.value,
                        eval_batch_size=4096,
                        learning_rate=_LR.value,
                        decay="cosine",
                        log_every=_STEPS.value,
                        checkpoint_every=10**6,
                        export=False,
                    )

                row = expressivity_search.run_search(
                    target,
                    d,
                    model,
                    make_config,
                    os.path.join(_OUT_DIR.value, target, f"d{d}", model),
                    _THRESHOLD.value,
                    _TOL.value,
                    (smallest, largest),
                    interactive=False,
                )
                row["seconds"] = time.time() - start
                print(
                    f"{target} d={d} {model}: "
                    f"{row['parameters'] if row['reached'] else 'not'} "
                    f"reached ({len(row['tried'])} runs, "
                    f"{row['seconds']:.0f} s)",
                    flush=True,
                )
                rows.append(row)
    return rows


def cell(row):
    if row["reached"]:
        return f"{row['parameters']:,}"
    return f"> {row['largest_parameters']:,}"


def markdown(rows, command):
    dims = sorted({r["input_dim"] for r in rows})
    models = list(dict.fromkeys(r["model"] for r in rows))
    lines = [
        "| target | model | " + " | ".join(f"d={d}" for d in dims) + " |",
        "|---|---|" + "---:|" * len(dims),
    ]
    for target in dict.fromkeys(r["target_function"] for r in rows):
        formula = expressivity.get_target(target).formula
        for model in models:
            cells = {
                r["input_dim"]: r
                for r in rows
                if r["target_function"] == target and r["model"] == model
            }
            lines.append(
                f"| {target} ({formula}) | `{model}` | "
                + " | ".join(
                    cell(cells[d]) if d in cells else "" for d in dims
                )
                + " |"
            )
    variances = {}
    for r in rows:
        variances.setdefault(r["target_function"], {})[r["input_dim"]] = r[
            "target_variance"
        ]
    lines += [
        "",
        "Target variance (mean over output components, held-out "
        "set) beside the absolute threshold "
        f"{rows[0]['threshold']}:",
        "",
        "| target | " + " | ".join(f"d={d}" for d in dims) + " |",
        "|---|" + "---:|" * len(dims),
    ]
    for target, v in variances.items():
        lines.append(
            f"| {target} | "
            + " | ".join(f"{v[d]:.2f}" if d in v else "" for d in dims)
            + " |"
        )
    lines += ["", "Command:", "", f"    {command}"]
    return "\n".join(lines)


def plot(rows, path):
    """Parameters needed against d (log-log), one panel per target; a
    hollow marker with an arrow: not reached up to that count."""
    from PIL import Image  # pylint: disable=g-import-not-at-top
    from PIL import ImageDraw  # pylint: disable=g-import-not-at-top

    targets = list(dict.fromkeys(r["target_function"] for r in rows))
    dims = sorted({r["input_dim"] for r in rows})
    counts = [r["parameters"] or r["largest_parameters"] for r in rows]
    lo = math.floor(math.log10(max(1, min(counts))))
    hi = math.ceil(math.log10(max(counts)) + 0.05)
    pw, ph, cols = 360, 300, 2
    nrows = math.ceil(len(targets) / cols)
    image = Image.new("RGB", (pw * cols, ph * nrows + 30), "white")
    draw = ImageDraw.Draw(image)
    x0, x1, y0, y1 = 60, pw - 15, ph - 40, 30
    dlo, dhi = math.log2(dims[0]), math.log2(dims[-1]) or 1
    for i, target in enumerate(targets):
        ox, oy = (i % cols) * pw, (i // cols) * ph

        def xy(d, p, ox=ox, oy=oy):
            fx = (
                (math.log2(d) - dlo) / max(dhi - dlo, 1e-9)
                if len(dims) > 1
                else 0.5
            )
            fy = (math.log10(p) - lo) / (hi - lo)
            return (ox + x0 + fx * (x1 - x0), oy + y0 - fy * (y0 - y1))

        draw.rectangle([ox + x0, oy + y1, ox + x1, oy + y0], outline="black")
        formula = expressivity.get_target(target).formula
        for symbol, ascii_text in (("ᵀ", "^T"), ("∘", "*")):
            formula = formula.replace(symbol, ascii_text)  # Pillow's font.
        draw.text((ox + x0, oy + 8), f"{target}: {formula}", fill="black")
        for e in range(lo, hi + 1):
            _, y = xy(dims[0], 10**e)
            draw.line([ox + x0 - 4, y, ox + x0, y], fill="black")
            draw.text((ox + 8, y - 6), f"1e{e}", fill="black")
        for d in dims:
            x, _ = xy(d, 10**lo)
            draw.line([x, oy + y0, x, oy + y0 + 4], fill="black")
            draw.text((x - 8, oy + y0 + 8), f"d={d}", fill="black")
        for model, colour in COLOURS.items():
            points = [
                (r["input_dim"], r)
                for r in rows
                if r["target_function"] == target and r["model"] == model
            ]
            points.sort(key=lambda p: p[0])
            coords = [
                xy(d, r["parameters"] or r["largest_parameters"])
                for d, r in points
            ]
            if len(coords) > 1:
                draw.line(coords, fill=colour, width=2)
            for (x, y), (_, r) in zip(coords, points):
                if r["reached"]:
                    draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=colour)
                else:
                    draw.ellipse(
                        [x - 4, y - 4, x + 4, y + 4], outline=colour, width=2
                    )
                    draw.line([x, y - 5, x, y - 16], fill=colour, width=2)
    legend_y, x = ph * nrows + 8, 10
    for model, colour in COLOURS.items():
        draw.rectangle([x, legend_y, x + 12, legend_y + 12], fill=colour)
        draw.text((x + 16, legend_y), model, fill="black")
        x += 130
    draw.text(
        (x, legend_y),
        "y: parameters for MSE <= "
        f"{rows[0]['threshold']} (hollow: not reached)",
        fill="black",
    )
    image.save(path)
    return np.asarray(image)


def write_tensorboard_image(image, folder):
    import tensorflow as tf  # pylint: disable=g-import-not-at-top

    with tf.summary.create_file_writer(folder).as_default():
        tf.summary.image("expressivity/parameters_vs_d", image[None], step=0)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    for name in _TARGETS.value:
        expressivity.get_target(name)
    for name in _MODELS.value:
        expressivity_models.get_model_kind(name)
    start = time.time()
    rows = search_all()
    command = "python -m benchmarks.expressivity_results " + " ".join(
        sys.argv[1:]
    )
    table = markdown(rows, command)
    print(table)
    print(f"Total {time.time() - start:.0f} s")
    with open(os.path.join(_OUT_DIR.value, "results.json"), "w") as f:
        json.dump(
            {
                "rows": rows,
                "steps": _STEPS.value,
                "batch_size": _BATCH.value,
                "learning_rate": _LR.value,
                "seconds": time.time() - start,
            },
            f,
            indent=2,
        )
    png = os.path.join(_OUT_DIR.value, "expressivity.png")
    image = plot(rows, png)
    write_tensorboard_image(image, os.path.join(_OUT_DIR.value, "summary"))
    if _PLOT.value:
        os.makedirs(os.path.dirname(_PLOT.value) or ".", exist_ok=True)
        plot(rows, _PLOT.value)
    if _MARKDOWN.value:
        with open(_MARKDOWN.value, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    app.run(main)
