r"""The MI paper's language-model comparison at equal parameter counts.

Trains lstm, multdec, multencdec and mi_lstm, each sized to
--target_parameters, with several seeds under one step budget, by running
the `lm` binary once per (model, seed) in its own process and model_dir, and
writes a table of validation and test bits per character (mean ± std over
seeds), parameters and training tokens/s:

  python -m benchmarks.lm_comparison --data_dir=../shared/data/tiny_shakespeare/input.txt \
      --out_dir=/tmp/lm_comparison --output_markdown=docs/lm_results.md

Finished runs are kept in --out_dir and reused when the script is started
again (each is an `lm` model_dir with results.json).
"""

import json
import os
import subprocess
import sys

from absl import app
from absl import flags
import numpy as np

from benchmarks import timing

_DATA_DIR = flags.DEFINE_string(
    "data_dir",
    None,
    "The corpus file or folder (tiny Shakespeare's input.txt by default).",
)
_DATASET = flags.DEFINE_string(
    "dataset", "tiny_shakespeare", "Corpus name of mi_zoo.data.text.corpora."
)
_OUT_DIR = flags.DEFINE_string(
    "out_dir", "/tmp/lm_comparison", "Folder of the runs' model_dirs."
)
_MODELS = flags.DEFINE_list(
    "models", ["lstm", "multdec", "multencdec", "mi_lstm"], "Models compared."
)
_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds per model.")
_TARGET_PARAMETERS = flags.DEFINE_integer(
    "target_parameters",
    150_000,
    "Parameter budget of every model.",
    lower_bound=1,
)
_TRAIN_STEPS = flags.DEFINE_integer(
    "train_steps", 600, "Optimizer steps per run.", lower_bound=1
)
_EXTRA = flags.DEFINE_list(
    "lm_flags",
    [
        "--batch_size=32",
        "--sequence_length=100",
        "--learning_rate=2e-3",
        "--clip_norm=1.0",
        "--eval_every=0",
        "--image_every=0",
        "--histogram_every=0",
        "--noexport",
    ],
    "Flags passed to every lm run.",
)
_OUTPUT_MARKDOWN = flags.DEFINE_string(
    "output_markdown", None, "Also write the table to this Markdown file."
)


def run_one(model, seed):
    """Trains one (model, seed) with the lm binary; returns results.json."""
    model_dir = os.path.join(_OUT_DIR.value, f"{model}_seed{seed}")
    results = os.path.join(model_dir, "results.json")
    if not os.path.exists(results):
        command = [
            sys.executable,
            "-m",
            "mi_zoo.experiments.lm",
            f"--dataset={_DATASET.value}",
            f"--data_dir={_DATA_DIR.value}",
            f"--model={model}",
            f"--target_parameters={_TARGET_PARAMETERS.value}",
            f"--train_steps={_TRAIN_STEPS.value}",
            f"--seed={seed}",
            f"--model_dir={model_dir}",
            *_EXTRA.value,
        ]
        print(" ".join(command), flush=True)
        subprocess.run(command, check=True)
    with open(results) as f:
        return json.load(f)


def summarise(runs, sequence_length):
    """{model: row} of mean ± std over seeds."""
    rows = {}
    for model, results in runs.items():
        unit = "bpc" if "valid/bpc" in results[0]["eval"] else "perplexity"
        row = {
            "parameters": results[0]["parameters"],
            "unit": unit,
            "seeds": len(results),
        }
        for split in ("valid", "test"):
            values = np.array([r["eval"][f"{split}/{unit}"] for r in results])
            row[split] = (float(values.mean()), float(values.std()))
        rate = np.array(
            [
                r["train"]["examples_per_second"] * sequence_length
                for r in results
            ]
        )
        row["tokens_per_second"] = float(rate.mean())
        rows[model] = row
    return rows


def markdown(rows, command):
    unit = next(iter(rows.values()))["unit"]
    lines = [
        timing.markdown_table(
            [
                "model",
                "parameters",
                f"valid {unit}",
                f"test {unit}",
                "train tokens/s",
            ],
            [
                [
                    f"`{model}`",
                    f"{row['parameters']:,}",
                    f"{row['valid'][0]:.3f} ± {row['valid'][1]:.3f}",
                    f"{row['test'][0]:.3f} ± {row['test'][1]:.3f}",
                    f"{row['tokens_per_second']:,.0f}",
                ]
                for model, row in rows.items()
            ],
        )
    ]
    seeds = next(iter(rows.values()))["seeds"]
    lines.append("")
    lines.append(f"Mean ± std over {seeds} seeds. Command:")
    lines.append("")
    lines.append(f"    {command}")
    return "\n".join(lines)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if not _DATA_DIR.value:
        raise app.UsageError("--data_dir must name the corpus file or folder.")
    runs = {m: [run_one(m, s) for s in _SEEDS.value] for m in _MODELS.value}
    length = next(
        int(f.split("=")[1])
        for f in _EXTRA.value
        if f.startswith("--sequence_length=")
    )
    rows = summarise(runs, length)
    table = markdown(
        rows,
        "python -m benchmarks.lm_comparison "
        + " ".join(a for a in sys.argv[1:]),
    )
    print(table)
    timing.write_json(os.path.join(_OUT_DIR.value, "summary.json"), rows)
    if _OUTPUT_MARKDOWN.value:
        with open(_OUTPUT_MARKDOWN.value, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    app.run(main)
