r"""mi_zoo's fusions against PyTorch fusions written from the papers.

Issue 19: every fusion's training step at ≤ 0.8× the peer's time, same
shapes, same threads, same run, float32. For each fusion of
`mi_zoo.fusion` this builds the layer at the papers' VQA v2 sizes (those
of the project's VQA models' `paper` size, from block.bootstrap's
options/vqa2 and ban-vqa), builds the PyTorch module of
`benchmarks/torch_fusions.py` (written from the papers' equations, laid
out as the reference libraries lay theirs out), copies the layer's weights
into it, checks that both give the same outputs (max abs diff, stopping
above --max_diff), and times one training step of each — forward, a loss
(mean squared error against a fixed random target), backward (to the
weights and to the question, which a VQA model trains through), Adam —
interleaved step by step (`benchmarks.timing`), median of --repeats steps,
with the same thread count in both frameworks (torch.set_num_threads and
TensorFlow's intra-op and inter-op pools). mi_zoo runs as a `tf.function`,
plain and with XLA (jit_compile=True), with the trainer's Adam
(`mi_zoo.training.optimization.make_optimizer("adam")`); PyTorch runs
eagerly with torch.optim.Adam.

Inputs (batch --batch_size, default 64): the attention fusion of a VQA
model, a question [B, --question_features] (2400, block.bootstrap's
skip-thought vectors) against 36 regions of 2048 features, giving
[B, 36, units]; BAN's bilinear attention and pooling take 14 token features
of 1024 (its GRU) against the 36 regions. The PyTorch side projects the
question once and broadcasts the projection over the regions, as mi_zoo
does (--fusion_torch_repeat: PyTorch repeats the question over the
regions and fuses B·36 rows, as block.bootstrap's attention does before
calling its fusion: slower, the question's projection done 36 times;
mi_zoo still broadcasts).

Before the table it times a 2048² float32 matmul in both frameworks
(`torch_cpu.gemm_floor`; 512² with --quick): the kernel that does most of
every fusion's work, MKL's in the torch wheel and oneDNN's in TensorFlow.
"mi_zoo / PyTorch ÷ GEMM" divides the step ratio by that matmul ratio: near
1, the fusion is as fast against PyTorch as the two GEMMs allow on this CPU;
below 1, mi_zoo gains beyond the BLAS difference.

--precisions=float32,mixed_bfloat16 adds a row per fusion in bfloat16:
mi_zoo under Keras's "mixed_bfloat16" policy (what --mixed_precision gives the
binaries on a CPU: variables in float32, products in bfloat16), PyTorch
under `torch.autocast("cpu", dtype=torch.bfloat16)` (its products in
bfloat16, the rest as autocast decides); both losses in float32. Before
timing, each side's bfloat16 output is checked against the float32 output
of the same weights (their relative error, at most BFLOAT16_TOLERANCE);
its "÷ GEMM" divides by a bfloat16 matmul timed the same way.

"GEMMs ms" (--time_gemms, on by default): every matrix product of mi_zoo's
traced step — forward and gradients, `benchmarks.step_gemms` — timed alone
on random inputs of its shapes and summed (how many, in brackets). "GEMMs /
PyTorch" is that sum over PyTorch's step: the ratio mi_zoo's step would
have if nothing but its matrix products took time. Where it is above 0.8,
issue 19's target needs fewer or faster matrix products, not a leaner rest.

  python -m benchmarks.fusion_comparison     # all but tucker, block_tucker
  python -m benchmarks.fusion_comparison --fusions=block,mfb --repeats=9
  python -m benchmarks.fusion_comparison --fusions=tucker   # minutes a step
  python -m benchmarks.fusion_comparison --precisions=float32,mixed_bfloat16
  python -m benchmarks.fusion_comparison --quick    # tiny sizes, 2 steps

Needs PyTorch (the `bench` extra); it stops with that message without it.
"""

import os

from absl import app
from absl import flags

from benchmarks import common_flags
from benchmarks import precision as precision_lib
from benchmarks import step_gemms
from benchmarks import timing
from benchmarks import torch_cpu

_FUSIONS = flags.DEFINE_list(
    "fusions",
    None,
    "Fusions to time (default: all but tucker and block_tucker, whose "
    "PyTorch nn.Bilinear takes 40 s and more per step on a CPU).",
)
_THREADS = flags.DEFINE_integer(
    "fusion_threads",
    2,
    "Threads of both frameworks.",
    lower_bound=1,
    upper_bound=256,
)
_QUESTION = flags.DEFINE_integer(
    "question_features",
    2400,
    "Question features of the two-input fusions.",
    lower_bound=1,
)
_REPEAT = flags.DEFINE_bool(
    "fusion_torch_repeat",
    False,
    "PyTorch repeats the question over the regions and fuses B·S rows, as "
    "block.bootstrap's attention does (default: it projects the question "
    "once and broadcasts the projection, as mi_zoo does).",
)
_MAX_DIFF = flags.DEFINE_float(
    "max_diff",
    1e-4,
    "Largest max abs difference of the two outputs before timing.",
    lower_bound=0.0,
)

#: Largest relative error ‖bfloat16 output − float32 output‖ / ‖float32
#: output‖ (Frobenius norms) of a fusion's bfloat16 output, with the same
#: weights. bfloat16 keeps 8 significant bits (each value rounded by up to
#: 2^-8 ≈ 0.004 of itself, at every rounded step of the fusion): at the
#: paper sizes both frameworks' outputs were 0.0006–0.009 off
#: (docs/benchmarks.md §3n). The max abs error over the largest output is
#: no measure here: MFB's and MFH's signed square roots magnify the
#: rounding of values near zero (0.06–0.09 of the scale, in both
#: frameworks alike).
BFLOAT16_TOLERANCE = 0.03

#: name -> (mi_zoo layer class name, its arguments, the torch module's
#: class name and arguments after (n, m)) at the papers' VQA v2 sizes.
PAPER = {
    "mlb": ("LowRankBilinearPooling", dict(joint_size=1200), "Mlb", {}),
    "mfb": (
        "FactorizedBilinearPooling",
        dict(units=1000, factor=5, order=1, dropout=0.0),
        "Mfb",
        {},
    ),
    "mfh": (
        "FactorizedBilinearPooling",
        dict(units=1000, factor=5, order=2, dropout=0.0),
        "Mfb",
        {},
    ),
    "mutan": (
        "Mutan",
        dict(units=510, rank=10, mm_dim=360),
        "Mutan",
        dict(hidden=360),
    ),
    "block": (
        "Block",
        dict(units=1000, mm_dim=1600, chunks=20, rank=15),
        "Block",
        {},
    ),
    "mcb": (
        "CompactBilinearPooling",
        dict(sketch_dim=16000, units=512, activation="relu", seed=1),
        "Mcb",
        {},
    ),
    "ban": (
        "BilinearAttentionNetwork",
        dict(glimpses=8, rank=3072, pool_size=3),
        "BanPooling",
        {},
    ),
    "linear_sum": (
        "LinearSum",
        dict(units=1000, mm_dim=1200),
        "LinearSum",
        {},
    ),
    "concat_mlp": (
        "ConcatMLP",
        dict(units=1000, hidden_units=[1600, 1600]),
        "ConcatMLP",
        {},
    ),
    "tucker": (
        "Tucker",
        dict(units=1000, mm_dim=235),
        "BlockTucker",
        dict(chunks=1, normalization=None),
    ),
    "block_tucker": (
        "BlockTucker",
        dict(units=1000, mm_dim=1800, chunks=10),
        "BlockTucker",
        {},
    ),
}
FUSIONS = tuple(PAPER)
#: Timed only when named in --fusions: their PyTorch side is block.bootstrap's
#: `nn.Bilinear`, whose CPU kernel takes 40 s and more per step at these sizes
#: (docs/benchmarks.md §3f), so the default run would not finish in an hour.
NAMED_ONLY = ("tucker", "block_tucker")
DEFAULT_FUSIONS = tuple(f for f in FUSIONS if f not in NAMED_ONLY)

#: Tiny sizes for --quick and the tests.
QUICK = {
    "mlb": dict(joint_size=12),
    "mfb": dict(units=6, factor=3, order=1, dropout=0.0),
    "mfh": dict(units=6, factor=3, order=2, dropout=0.0),
    "mutan": dict(units=7, rank=3, mm_dim=8, x_hidden=9, y_hidden=9),
    "block": dict(units=7, mm_dim=20, chunks=3, rank=2),
    "mcb": dict(sketch_dim=64, units=8, activation="relu", seed=1),
    "ban": dict(glimpses=2, rank=12, pool_size=3),
    "linear_sum": dict(units=7, mm_dim=12),
    "concat_mlp": dict(units=7, hidden_units=[10, 9]),
    "tucker": dict(units=7, mm_dim=6),
    "block_tucker": dict(units=7, mm_dim=10, chunks=4),
}
QUICK_TORCH = {
    "mutan": dict(hidden=9),
    "tucker": dict(chunks=1, normalization=None),
}

#: (batch, question features, regions, region features, tokens, token
#: features) of the paper runs (question features: --question_features)
#: and of --quick.
PAPER_SHAPES = dict(regions=36, region_features=2048, tokens=14, words=1024)
QUICK_SHAPES = dict(
    batch=4, question=24, regions=5, region_features=16, tokens=3, words=10
)


def require_torch():
    """Imports torch (without triton), or exits saying how to install it."""
    return torch_cpu.require("benchmarks.fusion_comparison")


set_threads = torch_cpu.set_threads


def make_pair(name, quick, expand=False, seed=0):
    """(mi_zoo layer, built; torch module with its weights; inputs as
    NumPy arrays (x, y))."""
    import keras  # pylint: disable=import-outside-toplevel
    import numpy as np  # pylint: disable=import-outside-toplevel

    # pylint: disable-next=import-outside-toplevel
    from benchmarks import torch_fusions
    from mi_zoo import fusion  # pylint: disable=import-outside-toplevel

    layer_class, kwargs, torch_class, torch_kwargs = PAPER[name]
    shapes = dict(QUICK_SHAPES) if quick else dict(PAPER_SHAPES)
    if quick:
        kwargs, torch_kwargs = QUICK[name], QUICK_TORCH.get(name, {})
    else:
        shapes["batch"] = common_flags.value_or(common_flags.BATCH_SIZE, 64)
        shapes["question"] = _QUESTION.value
    b, s, m = shapes["batch"], shapes["regions"], shapes["region_features"]
    rng = np.random.default_rng(seed)
    if name == "ban":
        x = rng.normal(size=(b, shapes["tokens"], shapes["words"]))
    else:
        x = rng.normal(size=(b, shapes["question"]))
    y = np.abs(rng.normal(size=(b, s, m)))  # ReLU'd CNN features
    x, y = x.astype(np.float32), y.astype(np.float32)
    keras.utils.set_random_seed(seed)
    layer = getattr(fusion, layer_class)(**kwargs)
    layer(x, y)  # builds
    # The layer's sizes, without what the torch module has no argument for.
    skip = ("seed", "dropout", "activation", "x_hidden", "y_hidden")
    torch_args = {k: v for k, v in kwargs.items() if k not in skip}
    torch_args.update(torch_kwargs)
    if name != "ban":
        torch_args["expand"] = expand
    module = getattr(torch_fusions, torch_class)(x.shape[-1], m, **torch_args)
    module.load_keras(layer)
    return layer, module, (x, y)


def trainable_parameters(layer_or_module):
    """Trainable parameters of a Keras layer or a torch module (MCB's
    hashes and signs are not trainable)."""
    import numpy as np  # pylint: disable=import-outside-toplevel

    if hasattr(layer_or_module, "trainable_weights"):
        return int(
            sum(np.prod(w.shape) for w in layer_or_module.trainable_weights)
        )
    return sum(
        p.numel() for p in layer_or_module.parameters() if p.requires_grad
    )


def first(out):
    """BAN returns (joint, maps): its joint output; other fusions' output."""
    return out[0] if isinstance(out, (tuple, list)) else out


def outputs_diff(layer, module, inputs):
    """Max abs difference of the two outputs on `inputs`."""
    import numpy as np  # pylint: disable=import-outside-toplevel

    torch = require_torch()
    x, y = inputs
    expected = first(layer(x, y))
    with torch.no_grad():
        got = first(module(torch.from_numpy(x), torch.from_numpy(y)))
    return float(np.max(np.abs(np.asarray(expected) - got.numpy())))


def bfloat16_twin(layer, inputs):
    """A copy of the built `layer` under the "mixed_bfloat16" policy (its
    sublayers too), with the same weights."""
    with precision_lib.dtype_policy("mixed_bfloat16"):
        twin = type(layer).from_config(
            {**layer.get_config(), "dtype": "mixed_bfloat16"}
        )
        twin(*inputs)  # builds
    twin.set_weights(layer.get_weights())
    return twin


def bfloat16_errors(layer, twin, module, inputs):
    """(mi_zoo's, PyTorch's) relative error ‖got − float32‖ / ‖float32‖ of
    the bfloat16 output (the `twin`'s; `module`'s under autocast) from
    `layer`'s float32 output."""
    import numpy as np  # pylint: disable=import-outside-toplevel

    torch = require_torch()
    x, y = inputs
    expected = np.asarray(first(layer(x, y)), np.float32)
    zoo = np.asarray(first(twin(x, y)).numpy().astype(np.float32))
    autocast = precision_lib.torch_autocast(torch, "mixed_bfloat16")
    with torch.no_grad(), autocast:
        peer = first(module(torch.from_numpy(x), torch.from_numpy(y)))
    peer = peer.float().numpy()
    scale = float(np.linalg.norm(expected))
    return tuple(
        float(np.linalg.norm(got - expected)) / scale for got in (zoo, peer)
    )


def target_like(out_shape, seed=1):
    import numpy as np  # pylint: disable=import-outside-toplevel

    rng = np.random.default_rng(seed)
    return rng.normal(size=out_shape).astype(np.float32) * 0.1


def keras_step(layer, inputs, target, jit):
    """The mi_zoo layer's training step as a `tf.function`."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    # pylint: disable-next=import-outside-toplevel
    from mi_zoo.training import optimization

    x, y = (tf.constant(t) for t in inputs)
    target = tf.constant(target)
    variables = layer.trainable_variables
    optimizer = optimization.make_optimizer("adam", 1e-3)
    optimizer.build(variables)

    @tf.function(jit_compile=jit)
    def step():
        with tf.GradientTape() as tape:
            tape.watch(x)
            # float32 (a mixed-precision layer's output is bfloat16).
            out = tf.cast(first(layer(x, y, training=True)), tf.float32)
            loss = tf.reduce_mean(tf.square(out - target))
        grads = tape.gradient(loss, variables + [x])
        optimizer.apply_gradients(zip(grads[:-1], variables))
        return loss, tf.reduce_sum(grads[-1])

    return step


def torch_step(module, inputs, target, precision="float32"):
    """The torch module's training step (eager); in "mixed_bfloat16", its
    forward under CPU autocast and the loss in float32."""
    torch = require_torch()
    x, y = (torch.from_numpy(t) for t in inputs)
    x.requires_grad_(True)
    target = torch.from_numpy(target)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad(set_to_none=True)
        x.grad = None
        with precision_lib.torch_autocast(torch, precision):
            out = first(module(x, y))
        loss = torch.mean(torch.square(out.float() - target))
        loss.backward()
        optimizer.step()
        return loss

    return step


def compare(
    name,
    quick,
    repeats,
    warmup,
    expand,
    max_diff,
    gemms=True,
    precision="float32",
):
    """One row: both parameter counts, the float32 outputs' max abs
    difference (and in "mixed_bfloat16" both sides' relative errors) and the
    median ms per step of PyTorch, mi_zoo and mi_zoo with XLA in
    `precision`; with `gemms`, the sum of mi_zoo's step's matrix products
    timed alone."""
    layer, module, inputs = make_pair(name, quick, expand)
    diff = outputs_diff(layer, module, inputs)
    zoo_params = trainable_parameters(layer)
    torch_params = trainable_parameters(module)
    print(
        f"{name}: {zoo_params:,} parameters (mi_zoo), {torch_params:,} "
        f"(PyTorch); outputs' max abs diff {diff:.2e}",
        flush=True,
    )
    if not diff <= max_diff:
        raise AssertionError(
            f"{name}: the outputs differ by {diff:.3g} > --max_diff="
            f"{max_diff}: not the same function."
        )
    errors = (float("nan"), float("nan"))
    if precision == "mixed_bfloat16":
        twin = bfloat16_twin(layer, inputs)
        errors = bfloat16_errors(layer, twin, module, inputs)
        print(
            f"{name}: bfloat16 outputs' relative error from the float32 "
            f"output: mi_zoo {errors[0]:.2e}, PyTorch {errors[1]:.2e}",
            flush=True,
        )
        if not max(errors) <= BFLOAT16_TOLERANCE:
            raise AssertionError(
                f"{name}: a bfloat16 output is off the float32 one by "
                f"{max(errors):.3g} (relative error) > {BFLOAT16_TOLERANCE}."
            )
        layer = twin
    target = target_like(tuple(first(layer(*inputs)).shape))
    fns = {
        "torch": torch_step(module, inputs, target, precision),
        "mi_zoo": keras_step(layer, inputs, target, jit=False),
        "mi_zoo_xla": keras_step(layer, inputs, target, jit=True),
    }
    for fn in fns.values():
        for _ in range(warmup):
            timing.one_round(fn, 1)
    seconds = timing.interleaved_seconds(
        fns, repeats, iters={k: 1 for k in fns}
    )
    ms = {k: v * 1e3 for k, v in seconds.items()}
    floor = step_gemms.step_ms(fns["mi_zoo"], min(repeats, 5), gemms)
    return {
        "fusion": name,
        "precision": precision,
        "layer": type(layer).__name__,
        "input_shapes": [list(t.shape) for t in inputs],
        "parameters_mi_zoo": zoo_params,
        "parameters_torch": torch_params,
        "max_abs_diff": diff,
        "bfloat16_error_mi_zoo": errors[0],
        "bfloat16_error_torch": errors[1],
        "torch_ms": ms["torch"],
        "mi_zoo_ms": ms["mi_zoo"],
        "mi_zoo_xla_ms": ms["mi_zoo_xla"],
        "ratio": timing.ratio(ms["mi_zoo"], ms["torch"]),
        "ratio_xla": timing.ratio(ms["mi_zoo_xla"], ms["torch"]),
        **step_gemms.row_fields(floor, ms["torch"]),
    }


def table(rows):
    return timing.markdown_table(
        [
            "fusion",
            "precision",
            "inputs",
            "parameters",
            "max abs diff",
            "bfloat16 rel. error mi_zoo / PyTorch",
            "PyTorch ms",
            "mi_zoo ms",
            "mi_zoo XLA ms",
            "mi_zoo / PyTorch",
            "XLA / PyTorch",
            "mi_zoo / PyTorch ÷ GEMM",
            *step_gemms.COLUMNS,
        ],
        [
            [
                r["fusion"],
                r["precision"],
                " · ".join("×".join(map(str, s)) for s in r["input_shapes"]),
                f"{r['parameters_mi_zoo']:,}",
                f"{r['max_abs_diff']:.1e}",
                (
                    "—"
                    if r["precision"] == "float32"
                    else f"{r['bfloat16_error_mi_zoo']:.1e} / "
                    f"{r['bfloat16_error_torch']:.1e}"
                ),
                f"{r['torch_ms']:.0f}",
                f"{r['mi_zoo_ms']:.0f}",
                f"{r['mi_zoo_xla_ms']:.0f}",
                f"{r['ratio']:.2f}×",
                f"{r['ratio_xla']:.2f}×",
                f"{r['ratio_over_gemm']:.2f}",
                *step_gemms.cells(r),
            ]
            for r in rows
        ],
    )


def run(
    names,
    quick,
    threads,
    repeats,
    warmup,
    expand,
    max_diff,
    gemms=True,
    precisions=("float32",),
):
    """Rows (one per fusion and precision) and the table."""
    torch_version, tf_version = set_threads(threads)
    load = os.getloadavg()
    print(
        f"PyTorch {torch_version}, TensorFlow {tf_version}, {threads} "
        f"threads each, load average {load[0]:.1f} {load[1]:.1f} "
        f"{load[2]:.1f}; PyTorch "
        + ("repeats" if expand else "broadcasts")
        + " the question over the regions",
        flush=True,
    )
    floors = torch_cpu.gemm_floors(
        precisions, 512 if quick else 2048, 1 if quick else 5
    )
    rows = []
    for name in names:
        for precision in precisions:
            row = compare(
                name,
                quick,
                repeats,
                warmup,
                expand,
                max_diff,
                gemms,
                precision,
            )
            rows.append(torch_cpu.over_gemm(row, floors[precision], "ratio"))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    return rows, table(rows)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    require_torch()
    names = common_flags.check_names(
        "fusions",
        common_flags.value_or(_FUSIONS, list(DEFAULT_FUSIONS)),
        FUSIONS,
    )
    precisions = common_flags.check_names(
        "precisions", common_flags.PRECISIONS.value, precision_lib.PRECISIONS
    )
    quick = common_flags.QUICK.value
    rows, text = run(
        names,
        quick,
        _THREADS.value,
        2 if quick else common_flags.value_or(common_flags.REPEATS, 15),
        1 if quick else common_flags.value_or(common_flags.WARMUP, 2),
        _REPEAT.value,
        _MAX_DIFF.value,
        common_flags.TIME_GEMMS.value,
        tuple(precisions),
    )
    print(text)
    timing.write_json(common_flags.OUTPUT_JSON.value, rows)


if __name__ == "__main__":
    app.run(main)
