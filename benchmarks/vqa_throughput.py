r"""Training throughput and parameters of every VQA model of the zoo.

For each input (--datasets: the shapes of `benchmarks.vqa_shapes.SPECS` —
Sort-of-CLEVR 75×75 pixels, CLEVR-2D 64×64 pixels or 10 regions × 21,
VQA v2-like 36 regions × 2048 with 14 tokens and 3129 answers) and each
model size (--sizes: "paper", the builders' defaults, which are the papers'
sizes; "small", the CPU-sized arguments registered with each model in
`mi_zoo.models.vqa`), it builds every model of
--models in float32 and under the "mixed_bfloat16" policy (--precisions),
and times their training steps (forward, the VQA task's loss, backward,
Adam update; one `tf.function` per model, on one fixed in-memory batch, so
the input pipeline is not measured) interleaved: round r of every
(model, precision) runs before round r + 1 of any. The table gives
training examples per second (batch / median step time), the trainable
parameters, mixed precision's speed-up over float32 and each model's speed
relative to the `concat` baseline measured in the same run. With
--adams=fused,keras each step is timed twice more, with the trainer's fused
Adam (`mi_zoo.training.optimization.FusedAdam`) and with Keras's
element-wise Adam, and the table gives both step times and their ratio. Models that do
not accept an input (FiLM needs a spatial image) are left out of its table.

  python -m benchmarks.vqa_throughput                      # CLEVR-2D pixels,
                                                           # small, float32
  python -m benchmarks.vqa_throughput --datasets=sort_of_clevr,clevr2d_pixels,clevr2d_regions,vqa2 \
      --precisions=float32,mixed_bfloat16 --sizes=small
  python -m benchmarks.vqa_throughput --datasets=vqa2 --sizes=paper \
      --batch_size=32 --repeats=3 --precisions=float32,mixed_bfloat16
  python -m benchmarks.vqa_throughput --datasets=vqa2 --sizes=paper \
      --models=mlb,mfb,mutan,block,ban --adams=fused,keras \
      --precisions=float32,mixed_bfloat16
  python -m benchmarks.vqa_throughput --quick --output_json=/tmp/vqa.json
"""

from absl import app
from absl import flags
import keras
import tensorflow as tf

from benchmarks import common_flags
from benchmarks import precision as precision_lib
from benchmarks import timing
from benchmarks import vqa_shapes
from mi_zoo import models

_DATASETS = flags.DEFINE_list(
    "datasets", ["clevr2d_pixels"], f"Inputs, of {sorted(vqa_shapes.SPECS)}."
)
_SIZES = flags.DEFINE_list("sizes", ["small"], "paper and/or small.")
_ADAMS = flags.DEFINE_list(
    "adams",
    ["fused"],
    f"Adam updates, of {vqa_shapes.ADAMS}: the trainer's fused kernel "
    "and/or Keras's element-wise ops.",
)


def accepts(name, spec, size):
    """Whether model `name` builds for `spec` (builders raise ValueError)."""
    try:
        models.VQA_MODELS.build(name, spec, size="small")
    except ValueError:
        return False
    return True


def build(name, spec, size, precision):
    """The model under `precision`'s dtype policy (the policy is reset)."""
    with precision_lib.dtype_policy(precision):
        keras.utils.set_random_seed(0)
        return models.VQA_MODELS.build(name, spec, size=size)


def measure(
    dataset,
    size,
    names,
    precisions,
    batch,
    repeats,
    steps,
    warmup,
    jit,
    adams=("fused",),
):
    """Rows of one (dataset, size): every model, precision and Adam,
    interleaved."""
    spec = vqa_shapes.SPECS[dataset]
    inputs, targets = vqa_shapes.random_batch(spec, batch)
    fns, params = {}, {}
    for name in names:
        if not accepts(name, spec, size):
            continue
        for precision in precisions:
            for adam in adams:
                model = build(name, spec, size, precision)
                params[name] = vqa_shapes.trainable_parameters(model)
                fns[(name, precision, adam)] = vqa_shapes.keras_train_step(
                    model, spec, inputs, targets, jit, adam=adam
                )
    for fn in fns.values():
        for _ in range(warmup):
            timing.one_round(fn, 1)
    seconds = timing.interleaved_seconds(
        fns, repeats, iters={k: steps for k in fns}
    )
    rows = []
    for (name, precision, adam), s in seconds.items():
        rows.append(
            {
                "dataset": dataset,
                "size": size,
                "model": name,
                "precision": precision,
                "adam": adam,
                "batch_size": batch,
                "jit_compile": jit,
                "parameters": params[name],
                "ms_per_step": s * 1e3,
                "examples_per_second": batch / s,
            }
        )
    by_key = {(r["model"], r["precision"], r["adam"]): r for r in rows}
    for row in rows:
        base = by_key.get(("concat", row["precision"], row["adam"]))
        row["speed_vs_concat"] = (
            timing.ratio(
                row["examples_per_second"], base["examples_per_second"]
            )
            if base
            else float("nan")
        )
        for key, other in (
            ("speed_vs_float32", (row["model"], "float32", row["adam"])),
            ("speed_vs_keras_adam", (row["model"], row["precision"], "keras")),
        ):
            other = by_key.get(other)
            row[key] = (
                timing.ratio(
                    row["examples_per_second"], other["examples_per_second"]
                )
                if other
                else float("nan")
            )
    return rows


def table(rows, precisions, adams=("fused",)):
    """One line per model: with both Adams, step times in ms and the fused
    Adam's speed-up (Keras's step time / the fused one's), else examples/s
    and the speed against concat."""
    headers = ["model", "parameters"]
    by_key = {(r["model"], r["precision"], r["adam"]): r for r in rows}
    names = list(dict.fromkeys(r["model"] for r in rows))
    several = set(adams) == set(vqa_shapes.ADAMS)
    for p in precisions:
        if several:
            headers += [f"{p} {a} Adam ms" for a in adams]
            headers.append(f"{p} fused speed-up")
        else:
            headers += [f"{p} ex/s", f"{p} vs concat"]
    if len(precisions) > 1:
        headers.append(f"{precisions[1]} / {precisions[0]}")
    lines = []
    for name in names:
        first = by_key[(name, precisions[0], adams[0])]
        line = [f"`{name}`", f"{first['parameters']:,}"]
        for p in precisions:
            if several:
                line += [
                    f"{by_key[(name, p, a)]['ms_per_step']:,.0f}"
                    for a in adams
                ]
                fused = by_key[(name, p, "fused")]
                line.append(f"{fused['speed_vs_keras_adam']:.2f}×")
            else:
                r = by_key[(name, p, adams[0])]
                line += [
                    f"{r['examples_per_second']:,.1f}",
                    f"{r['speed_vs_concat']:.2f}×",
                ]
        if len(precisions) > 1:
            second = by_key[(name, precisions[1], adams[0])]
            line.append(f"{second['speed_vs_float32']:.2f}×")
        lines.append(line)
    return timing.markdown_table(headers, lines)


def run(
    datasets,
    sizes,
    names,
    precisions,
    batch,
    repeats,
    steps,
    warmup,
    jit,
    adams=("fused",),
):
    rows, texts = [], []
    for dataset in datasets:
        for size in sizes:
            part = measure(
                dataset,
                size,
                names,
                precisions,
                batch,
                repeats,
                steps,
                warmup,
                jit,
                adams,
            )
            rows += part
            spec = vqa_shapes.SPECS[dataset]
            texts.append(
                f"{dataset} ({spec.image_kind} {spec.image_shape}, "
                f"T={spec.question_length}, "
                f"{spec.num_answers} answers), {size} size, "
                f"batch {batch}:\n\n" + table(part, precisions, adams)
            )
            print(texts[-1] + "\n", flush=True)
    return rows, "\n\n".join(texts)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    cf = common_flags
    names = cf.value_or(cf.MODELS, list(models.VQA_MODELS.names()))
    for value, allowed, flag in (
        (_DATASETS.value, vqa_shapes.SPECS, "datasets"),
        (_SIZES.value, ("paper", "small"), "sizes"),
        (cf.PRECISIONS.value, precision_lib.PRECISIONS, "precisions"),
        (_ADAMS.value, vqa_shapes.ADAMS, "adams"),
        (names, models.VQA_MODELS.names(), "models"),
    ):
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise app.UsageError(
                f"--{flag}: unknown {unknown}; choose from {sorted(allowed)}."
            )
    tf.get_logger().setLevel("ERROR")  # one tf.function per model: no
    # retracing warnings
    quick = cf.QUICK.value
    rows, _ = run(
        _DATASETS.value,
        ["small"] if quick else _SIZES.value,
        ["concat", "mlb"] if quick else names,
        cf.PRECISIONS.value,
        8 if quick else cf.value_or(cf.BATCH_SIZE, 64),
        1 if quick else cf.value_or(cf.REPEATS, 5),
        1 if quick else cf.value_or(cf.STEPS_PER_ROUND, 1),
        1 if quick else cf.value_or(cf.WARMUP, 2),
        cf.JIT_COMPILE.value,
        _ADAMS.value,
    )
    timing.write_json(cf.OUTPUT_JSON.value, rows)


if __name__ == "__main__":
    app.run(main)
