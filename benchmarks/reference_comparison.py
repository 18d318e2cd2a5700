r"""mi_zoo's BAN, MLB and MCB VQA models against PyTorch references.

For each model it builds the same configuration twice — the mi_zoo model
(`mi_zoo.models.build_vqa_model`) and the PyTorch module of
`benchmarks/torch_references.py`, written from the papers' equations —
checks that the two have the same number of trainable parameters (within
--parameter_tolerance; they agree exactly), and times a full training step
(forward, loss, backward, Adam update) of each on the same random batch of
VQA v2-like inputs, interleaved round by round in one process with the same
thread count (`torch.set_num_threads` and TensorFlow's intra-op and
inter-op pools set to --threads). The table gives the median ms/step of
each and the ratio mi_zoo / PyTorch (below 1: mi_zoo is faster), and
"÷ GEMM", that ratio over the ratio of the two frameworks' 2048² float32
matmul timed in the same run (`torch_cpu.gemm_floor`, printed before the
table; 512² with --quick): the BLAS each framework calls (MKL in the torch
wheel, oneDNN in TensorFlow) can differ by 2× on one CPU, and "÷ GEMM"
takes that difference out. "GEMMs ms" (--time_gemms, on by default): the
matrix products of mi_zoo's traced step timed alone and summed
(`benchmarks.step_gemms`); "GEMMs / PyTorch", that sum over PyTorch's step.
The packed question RNN's per-step products, whose shapes are known only
at run time, are timed at the sizes one run of the step gives them (its
batch's question lengths). Products are timed one after another: where
the step runs two side by side, the sum can exceed the step's own time.

Inputs: --regions × --region_features bottom-up style region features (all
regions valid, boxes random), --question_length tokens from a
--vocab_size vocabulary (padded at the end, at least 2 real tokens),
--num_answers answer-count targets (10 annotators). Loss: binary
cross-entropy against the soft scores min(count / 3, 1), summed over the
answers, averaged over the batch (the mi_zoo VQA task's). mi_zoo's step is one
`tf.function` (XLA with --jit_compile); PyTorch runs eagerly.

The question RNN: PyTorch packs the padded questions
(`pack_padded_sequence`), and so does mi_zoo (`mi_zoo.layers.PackedGRU`).
--precisions=float32,mixed_bfloat16 adds rows in bfloat16: mi_zoo's model
built under Keras's "mixed_bfloat16" policy (what --mixed_precision gives
the binaries on a CPU), the reference's forward under PyTorch's CPU
autocast to bfloat16, both losses in float32; "÷ GEMM" then divides by a
bfloat16 matmul timed the same way.

--question_rnns=packed,keras also times each mi_zoo model with Keras's own
masked loop (`keras.layers.GRU`, the same weights; what mi_zoo ran before
the packed layers), in the same interleaved rounds: one row per loop.

  python -m benchmarks.reference_comparison                  # paper sizes
  python -m benchmarks.reference_comparison --size=small --batch_size=64
  python -m benchmarks.reference_comparison --models=mlb --quick
  python -m benchmarks.reference_comparison --question_rnns=packed,keras
  python -m benchmarks.reference_comparison --precisions=float32,mixed_bfloat16

Needs PyTorch (`pip install -e ".[bench]"`); it stops with that message if
torch is missing.
"""

import inspect

from absl import app
from absl import flags

from benchmarks import common_flags
from benchmarks import precision as precision_lib
from benchmarks import step_gemms
from benchmarks import timing
from benchmarks import torch_cpu
from benchmarks import vqa_shapes
from mi_zoo import models

MODELS = ("ban", "mlb", "mcb")
# The sizes registered with the models (mi_zoo/models/vqa.py).
_SIZE = flags.DEFINE_enum(
    "size",
    "paper",
    ["paper", "small"],
    "paper: the builders' defaults (the papers' "
    "sizes); small: the CPU-sized arguments.",
)
_THREADS = flags.DEFINE_integer(
    "threads", 2, "Threads of both frameworks.", lower_bound=1, upper_bound=256
)
_VOCAB_SIZE = flags.DEFINE_integer(
    "vocab_size",
    20000,
    "Question vocabulary (VQA v2 with GloVe: ~20k).",
    lower_bound=2,
)
_QUESTION_LENGTH = flags.DEFINE_integer(
    "question_length", 14, "T.", lower_bound=2
)
_REGIONS = flags.DEFINE_integer(
    "regions", 36, "Regions per image.", lower_bound=1
)
_REGION_FEATURES = flags.DEFINE_integer(
    "region_features", 2048, "Features per region.", lower_bound=1
)
_NUM_ANSWERS = flags.DEFINE_integer(
    "num_answers", 3129, "Answer set size.", lower_bound=1
)
QUESTION_RNNS = ("packed", "keras")
_QUESTION_RNNS = flags.DEFINE_list(
    "question_rnns",
    ["packed"],
    "The question RNN loops of the mi_zoo models to time, comma-separated: "
    "packed (the models as built: only the real tokens) and/or keras "
    "(Keras's masked loop over every step, same weights).",
)
_PARAMETER_TOLERANCE = flags.DEFINE_float(
    "parameter_tolerance",
    0.001,
    "Largest relative difference of the two parameter counts.",
    lower_bound=0.0,
    upper_bound=1.0,
)


def require_torch():
    """Imports torch (without triton: `benchmarks.torch_cpu`), or exits with
    how to install it."""
    return torch_cpu.require("benchmarks.reference_comparison")


def reference_hyperparameters(name, size, reference_class):
    """The torch module's arguments for the mi_zoo builder's size: the
    builder's defaults (or small size) for every argument both take."""
    wanted = inspect.signature(reference_class).parameters
    builder = models.VQA_MODELS.get(name)
    values = {
        k: p.default
        for k, p in inspect.signature(builder).parameters.items()
        if k in wanted
    }
    values.update(
        {
            k: v
            for k, v in models.VQA_MODELS.arguments(name, size).items()
            if k in wanted
        }
    )
    return values


def with_keras_rnn(model):
    """A copy of `model` (same weights) whose packed question RNNs are
    Keras's own `GRU`/`LSTM` layers, which run every time step."""
    import keras  # pylint: disable=import-outside-toplevel

    from mi_zoo import layers  # pylint: disable=import-outside-toplevel

    plain = {
        layers.PackedGRU: keras.layers.GRU,
        layers.PackedLSTM: keras.layers.LSTM,
    }

    def clone(layer):
        cls = plain.get(type(layer), type(layer))
        return cls.from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


def torch_step(module, inputs, targets, precision="float32"):
    """The reference's training step (eager PyTorch); in "mixed_bfloat16",
    its forward under CPU autocast and the loss in float32."""
    torch = require_torch()
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    tokens = torch.from_numpy(inputs["question"]).long()
    image = torch.from_numpy(inputs["image"])
    boxes = torch.from_numpy(inputs["boxes"])
    targets = torch.clamp(torch.from_numpy(targets) / 3.0, max=1.0)

    def step():
        optimizer.zero_grad(set_to_none=True)
        with precision_lib.torch_autocast(torch, precision):
            logits = module(tokens, image, boxes)
        loss = (
            torch.nn.functional.binary_cross_entropy_with_logits(
                logits.float(), targets, reduction="none"
            )
            .sum(1)
            .mean()
        )
        loss.backward()
        optimizer.step()
        return loss

    return step


def compare(
    name,
    size,
    batch_size,
    shapes,
    repeats,
    steps,
    warmup,
    jit,
    tolerance,
    question_rnns=("packed",),
    gemms=True,
    precision="float32",
):
    """A row per question RNN loop: both parameter counts and ms/step, all
    interleaved in the same rounds, in `precision` (mi_zoo under that
    dtype policy, PyTorch under CPU autocast for "mixed_bfloat16"); with
    `gemms`, the sum of each mi_zoo step's matrix products timed alone
    (`step_gemms`)."""
    import keras  # pylint: disable=import-outside-toplevel

    # pylint: disable-next=import-outside-toplevel
    from benchmarks import torch_references

    spec = vqa_shapes.vqa2_spec(*shapes)
    keras.utils.set_random_seed(0)
    with precision_lib.dtype_policy(precision):
        model = models.VQA_MODELS.build(name, spec, size=size)
    reference_class = torch_references.REFERENCES[name]
    reference = reference_class(
        spec.vocab_size,
        spec.image_shape[1],
        spec.num_answers,
        **reference_hyperparameters(name, size, reference_class),
    )
    zoo_params = vqa_shapes.trainable_parameters(model)
    torch_params = torch_references.trainable_parameters(reference)
    if abs(zoo_params - torch_params) > tolerance * zoo_params:
        raise AssertionError(
            f"{name}: mi_zoo has {zoo_params:,} trainable parameters and the "
            f"PyTorch reference {torch_params:,}: not the same "
            f"configuration."
        )
    inputs, targets = vqa_shapes.random_batch(spec, batch_size)
    variants = {"packed": model}
    if "keras" in question_rnns:
        with precision_lib.dtype_policy(precision):
            variants["keras"] = with_keras_rnn(model)
    fns = {
        rnn: vqa_shapes.keras_train_step(
            variants[rnn], spec, inputs, targets, jit
        )
        for rnn in question_rnns
    }
    fns["torch"] = torch_step(reference, inputs, targets, precision)
    for fn in fns.values():
        for _ in range(warmup):
            timing.one_round(fn, 1)
    seconds = timing.interleaved_seconds(
        fns, repeats, iters={k: steps for k in fns}
    )
    floors = {
        rnn: step_gemms.step_ms(fns[rnn], min(repeats, 5), gemms)
        for rnn in question_rnns
    }
    return [
        {
            "model": name,
            "precision": precision,
            "question_rnn": rnn,
            "size": size,
            "batch_size": batch_size,
            "jit_compile": jit,
            "parameters_mi_zoo": zoo_params,
            "parameters_torch": torch_params,
            "mi_zoo_ms_per_step": seconds[rnn] * 1e3,
            "torch_ms_per_step": seconds["torch"] * 1e3,
            "ratio_mi_zoo_over_torch": timing.ratio(
                seconds[rnn], seconds["torch"]
            ),
            **step_gemms.row_fields(floors[rnn], seconds["torch"] * 1e3),
        }
        for rnn in question_rnns
    ]


set_threads = torch_cpu.set_threads


def table(rows):
    return timing.markdown_table(
        [
            "model",
            "precision",
            "question RNN",
            "size",
            "B",
            "parameters mi_zoo",
            "parameters PyTorch",
            "mi_zoo ms/step",
            "PyTorch ms/step",
            "mi_zoo / PyTorch",
            "÷ GEMM",
            *step_gemms.COLUMNS,
        ],
        [
            [
                r["model"],
                r["precision"],
                r["question_rnn"],
                r["size"],
                r["batch_size"],
                f"{r['parameters_mi_zoo']:,}",
                f"{r['parameters_torch']:,}",
                f"{r['mi_zoo_ms_per_step']:.0f}",
                f"{r['torch_ms_per_step']:.0f}",
                f"{r['ratio_mi_zoo_over_torch']:.2f}×",
                f"{r['ratio_over_gemm']:.2f}",
                *step_gemms.cells(r),
            ]
            for r in rows
        ],
    )


def run(
    models,
    threads,
    shapes,
    jit,
    gemm_size=2048,
    precisions=("float32",),
    **settings,
):
    """Rows (per model, precision and question RNN) and the table,
    printing each model's parameter counts and the `gemm_size`² matmul of
    both frameworks in each precision (`torch_cpu.gemm_floors`).
    `settings`: the other keyword arguments of `compare`."""
    torch_version, tf_version = set_threads(threads)
    print(
        f"PyTorch {torch_version}, TensorFlow {tf_version}, {threads} "
        f"threads each, jit_compile={jit}; shapes (vocab, T, regions, "
        f"features, answers) = {shapes}",
        flush=True,
    )
    floors = torch_cpu.gemm_floors(precisions, gemm_size)
    rows = []
    for name in models:
        for precision in precisions:
            model_rows = compare(
                name, shapes=shapes, jit=jit, precision=precision, **settings
            )
            for row in model_rows:
                torch_cpu.over_gemm(
                    row, floors[precision], "ratio_mi_zoo_over_torch"
                )
            rows.extend(model_rows)
        print(
            f"{name}: {rows[-1]['parameters_mi_zoo']:,} trainable "
            f"parameters (mi_zoo), {rows[-1]['parameters_torch']:,} "
            "(PyTorch)",
            flush=True,
        )
    return rows, table(rows)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    require_torch()
    cf = common_flags
    names = cf.check_names(
        "models", cf.value_or(cf.MODELS, list(MODELS)), MODELS
    )
    rnns = cf.check_names("question_rnns", _QUESTION_RNNS.value, QUESTION_RNNS)
    precisions = cf.check_names(
        "precisions", cf.PRECISIONS.value, precision_lib.PRECISIONS
    )
    # A tf.function per model, question RNN and precision: no retracing
    # warnings.
    import tensorflow as tf  # noqa: PLC0415

    tf.get_logger().setLevel("ERROR")
    quick = cf.QUICK.value
    rows, text = run(
        names,
        threads=_THREADS.value,
        shapes=(
            _VOCAB_SIZE.value,
            _QUESTION_LENGTH.value,
            _REGIONS.value,
            _REGION_FEATURES.value,
            _NUM_ANSWERS.value,
        ),
        jit=cf.JIT_COMPILE.value,
        gemm_size=512 if quick else 2048,
        precisions=tuple(dict.fromkeys(precisions)),
        size="small" if quick else _SIZE.value,
        batch_size=8 if quick else cf.value_or(cf.BATCH_SIZE, 32),
        repeats=1 if quick else cf.value_or(cf.REPEATS, 3),
        steps=1 if quick else cf.value_or(cf.STEPS_PER_ROUND, 2),
        warmup=1 if quick else cf.value_or(cf.WARMUP, 2),
        tolerance=_PARAMETER_TOLERANCE.value,
        question_rnns=tuple(dict.fromkeys(rnns)),
        gemms=cf.TIME_GEMMS.value,
    )
    print(text)
    timing.write_json(cf.OUTPUT_JSON.value, rows)


if __name__ == "__main__":
    app.run(main)
