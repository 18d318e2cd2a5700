r"""Parameter counts of every registered model at its default sizes.

Builds each VQA model of `mi_zoo.models.VQA_MODELS` (and each matching model)
for three input conventions and prints a Markdown table; models that do not
accept an input kind show "—".

  python -m benchmarks.parameter_counts
  python -m benchmarks.parameter_counts --output_markdown=docs/parameter_counts.md
"""

import json

from absl import app
from absl import flags

from benchmarks import common_flags
from mi_zoo import models

_OUTPUT_MARKDOWN = flags.DEFINE_string(
    "output_markdown", None, "Also write the table to this Markdown file."
)

# Input conventions: Sort-of-CLEVR pixels, a 14×14 ResNet grid, and VQA v2
# bottom-up regions (36 × 2048, 14 tokens, 3129 answers).
VQA_SPECS = {
    "Sort-of-CLEVR pixels 75×75×3, 10 answers": models.VqaSpec(
        vocab_size=20,
        question_length=11,
        image_kind="pixels",
        image_shape=(75, 75, 3),
        num_answers=10,
    ),
    "grid 14×14×2048, 3129 answers": models.VqaSpec(
        vocab_size=15000,
        question_length=14,
        image_kind="grid",
        image_shape=(14, 14, 2048),
        num_answers=3129,
        answer_convention="sigmoid",
    ),
    "VQA v2 regions 36×2048, 3129 answers": models.VqaSpec(
        vocab_size=15000,
        question_length=14,
        image_kind="regions",
        image_shape=(36, 2048),
        num_answers=3129,
        answer_convention="sigmoid",
    ),
}
MATCHING_SPECS = {
    "Flickr30k grid 14×14×2048": models.MatchingSpec(
        vocab_size=15000,
        caption_length=32,
        image_kind="grid",
        image_shape=(14, 14, 2048),
    ),
}


def count(build, name, spec):
    try:
        return build(name, spec).count_params()
    except ValueError:
        return None  # the model does not take this input kind


def table(registry_names, build, specs):
    rows = {
        name: {
            label: count(build, name, spec) for label, spec in specs.items()
        }
        for name in registry_names
    }
    lines = [
        "| model | " + " | ".join(specs) + " |",
        "|---|" + "---:|" * len(specs),
    ]
    for name, counts in rows.items():
        cells = [f"{c:,}" if c is not None else "—" for c in counts.values()]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return rows, "\n".join(lines)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    vqa_rows, vqa_table = table(
        models.VQA_MODELS.names(), models.build_vqa_model, VQA_SPECS
    )
    match_rows, match_table = table(
        models.MATCHING_MODELS.names(),
        models.build_matching_model,
        MATCHING_SPECS,
    )
    text = (
        "## VQA models (default sizes)\n\n"
        + vqa_table
        + "\n\n## Matching models (default sizes)\n\n"
        + match_table
        + "\n"
    )
    print(text)
    if _OUTPUT_MARKDOWN.value:
        with open(_OUTPUT_MARKDOWN.value, "w", encoding="utf-8") as f:
            f.write(
                "# Parameter counts\n\nProduced by `python -m "
                "benchmarks.parameter_counts --output_markdown="
                f"{_OUTPUT_MARKDOWN.value}`.\n\n" + text
            )
    if common_flags.OUTPUT_JSON.value:
        with open(common_flags.OUTPUT_JSON.value, "w", encoding="utf-8") as f:
            json.dump({"vqa": vqa_rows, "matching": match_rows}, f, indent=2)


if __name__ == "__main__":
    app.run(main)
