r"""The MI layers and the fusions under any Keras backend, without TensorFlow.

The GPU-day table: `mi_zoo.layers` and `mi_zoo.fusion` use `keras.ops` only,
so they run under Keras's JAX and PyTorch backends, on a machine that has
JAX (or PyTorch) and no TensorFlow. This script imports no TensorFlow (and
nothing of `benchmarks.common_flags`, which does) unless
--backend=tensorflow. It times, in one process and interleaved round by
round (median of --repeats rounds of at least --min_seconds):

  layers: `MultiplicativeInteraction(k, form=f)` for the four forms (full,
      low_rank with rank --mi_rank, diagonal and scalar where k = n) and the
      naive hypernetwork (a Dense layer on z emits W' = zᵀW + V [B, n·k],
      reshape, batched matmul with x, plus zᵀU + b: the full form's
      function), at `mi_layer_benchmark`'s shapes (B, m, n, k);
  fusions: the answer fusion of each VQA model at its paper size (the model
      builders' defaults), a question q [B, 1024] with the attended image
      v̂ [B, 2·2048] (two glimpses of 2048-d regions): MLB
      `LowRankBilinearPooling(1200)`, MFB `FactorizedBilinearPooling(1000,
      factor=5)`, MFH (the same, order=2), MUTAN `Mutan(510, rank=10,
      mm_dim=360)`, BLOCK `Block(1000, mm_dim=1600, chunks=20, rank=15)`,
      MCB `CompactBilinearPooling(16000)`; and BAN
      `BilinearAttentionNetwork(8, 3072)` on words [B, 14, 1024] and
      regions [B, 36, 2048]; batch --fusion_batch;
  matmul: a plain 2048×2048 float32 `keras.ops.matmul`, the same-run
      reference.

Each is timed forward, and forward and backward (the gradients of sum(f) with
respect to the inputs and every weight), compiled where the backend compiles:
`jax.jit` of the layer's `stateless_call` and of `jax.grad` under JAX,
`tf.function` and a `GradientTape` under TensorFlow, eager autograd
(`torch.autograd.grad`) under PyTorch. Every timed call waits for its result
(`block_until_ready`, `torch.cuda.synchronize`).

Columns. For the layers, as in `mi_layer_benchmark` (FLOPs in
`mi_layer_shapes`; forward+backward counts 3× the forward): GFLOP/s, "%
matmul" (over the 2048² matmul's rate in the same run) and "vs naive" (the
naive hypernetwork's time over the layer's). For the fusions, whose FLOPs
are not counted here: the time in units of the same run's 2048² matmul
("fwd ÷ matmul"), which compares machines and backends better than
milliseconds.

  python -m benchmarks.keras_backend_benchmark --backend=jax
  KERAS_BACKEND=torch python -m benchmarks.keras_backend_benchmark
  python -m benchmarks.keras_backend_benchmark --backend=jax --quick
  python -m benchmarks.keras_backend_benchmark --part=fusions \
      --fusion_batch=16 --output_json=/tmp/fusions.json
"""

import importlib.util
import logging
import os
import platform
import sys

from absl import app
from absl import flags
import numpy as np

from benchmarks import mi_layer_shapes
from benchmarks import run_flags
from benchmarks import timing

BACKENDS = ("jax", "torch", "tensorflow")
MI_FORMS = ("full", "low_rank", "diagonal", "scalar")
LAYERS = MI_FORMS + ("naive",)
# name -> (constructor name in mi_zoo.fusion, paper kwargs, quick kwargs).
FUSIONS = {
    "MLB": ("LowRankBilinearPooling", {"joint_size": 1200}, {"joint_size": 8}),
    "MFB": (
        "FactorizedBilinearPooling",
        {"units": 1000, "factor": 5},
        {"units": 8, "factor": 2},
    ),
    "MFH": (
        "FactorizedBilinearPooling",
        {"units": 1000, "factor": 5, "order": 2},
        {"units": 8, "factor": 2, "order": 2},
    ),
    "MUTAN": (
        "Mutan",
        {"units": 510, "rank": 10, "mm_dim": 360},
        {"units": 8, "rank": 2, "mm_dim": 8},
    ),
    "BLOCK": (
        "Block",
        {"units": 1000, "mm_dim": 1600, "chunks": 20, "rank": 15},
        {"units": 8, "mm_dim": 8, "chunks": 2, "rank": 2},
    ),
    "MCB": (
        "CompactBilinearPooling",
        {"sketch_dim": 16000},
        {"sketch_dim": 16},
    ),
    "BAN": (
        "BilinearAttentionNetwork",
        {"glimpses": 8, "rank": 3072},
        {"glimpses": 2, "rank": 6},
    ),
}
# Input shapes without the batch: (x, y) of the vector fusions, BAN's.
FUSION_INPUTS = ((1024,), (2 * 2048,))
BAN_INPUTS = ((14, 1024), (36, 2048))
QUICK_FUSION_INPUTS = ((6,), (10,))
QUICK_BAN_INPUTS = ((3, 6), (4, 10))

_BACKEND = flags.DEFINE_enum(
    "backend",
    None,
    BACKENDS,
    "Keras backend (default: $KERAS_BACKEND, else jax). Set before Keras "
    "is imported.",
)
_PART = flags.DEFINE_enum(
    "part", "all", ("all", "layers", "fusions"), "What to time."
)
_MIN_SECONDS = mi_layer_shapes.MIN_SECONDS
_RANK = mi_layer_shapes.RANK
_FUSION_BATCH = flags.DEFINE_integer(
    "fusion_batch", 64, "Batch of the fusions.", lower_bound=1
)


def choose_backend(flag_value, environ, find_spec=importlib.util.find_spec):
    """The backend to use: the flag, else $KERAS_BACKEND, else "jax".

    Raises:
      ValueError: if $KERAS_BACKEND names a backend this script does not
        run, or its package is not installed (`find_spec` finds no module
        of that name).
    """
    backend = flag_value or environ.get("KERAS_BACKEND") or "jax"
    if backend not in BACKENDS:
        raise ValueError(
            f"KERAS_BACKEND must be one of {', '.join(BACKENDS)}, got "
            f"{backend!r}."
        )
    if find_spec(backend) is None:
        raise ValueError(
            f"--backend={backend} needs the {backend} package, which is not "
            f"installed here (pip install {backend}), got {backend!r}."
        )
    return backend


class Runner:
    """Compiles and times a layer's forward and forward+backward passes
    under one Keras backend (imported on construction)."""

    def __init__(self, backend):
        os.environ["KERAS_BACKEND"] = backend
        import keras  # noqa: PLC0415 (after KERAS_BACKEND is set)

        if keras.backend.backend() != backend:
            raise ValueError(
                f"Keras was imported before with backend "
                f"{keras.backend.backend()!r}; run in a fresh process for "
                f"--backend={backend}, got {backend!r}."
            )
        self.backend = backend
        self.keras = keras
        if backend == "jax":
            import jax  # noqa: PLC0415

            # Under absl, JAX's INFO line about the absent TPU library
            # ("Unable to initialize backend 'tpu'") reaches stderr.
            logging.getLogger("jax._src.xla_bridge").setLevel(logging.WARNING)
            self.jax = jax
        elif backend == "torch":
            import torch  # noqa: PLC0415

            self.torch = torch
        else:
            import tensorflow as tf  # noqa: PLC0415

            self.tf = tf

    def describe(self):
        """One line: backend, its version and the devices it runs on."""
        if self.backend == "jax":
            devices = ", ".join(str(d) for d in self.jax.devices())
            version = f"JAX {self.jax.__version__}"
        elif self.backend == "torch":
            torch = self.torch
            version = f"PyTorch {torch.__version__}"
            devices = (
                torch.cuda.get_device_name()
                if torch.cuda.is_available()
                else f"CPU, {torch.get_num_threads()} threads"
            )
        else:
            tf = self.tf
            version = f"TensorFlow {tf.__version__}"
            devices = ", ".join(
                d.name for d in tf.config.list_logical_devices()
            )
        return (
            f"Keras {self.keras.__version__}, backend {self.backend} "
            f"({version}; {devices}; {platform.processor() or 'cpu'})"
        )

    def tensor(self, array):
        return self.keras.ops.convert_to_tensor(array)

    def sync(self, out):
        """Waits for `out` (a tensor or a nest of them) and returns it."""
        if self.backend == "jax":
            return self.jax.block_until_ready(out)
        if self.backend == "torch":
            if self.torch.cuda.is_available():
                self.torch.cuda.synchronize()
            return out
        return timing._block(out)  # noqa: SLF001 (tensors' .numpy())

    def matmul(self, a):
        """() -> a @ a, compiled."""
        ops = self.keras.ops
        if self.backend == "jax":
            f = self.jax.jit(ops.matmul)
        elif self.backend == "tensorflow":
            f = self.tf.function(ops.matmul)
        else:
            f = ops.matmul
        return lambda: self.sync(f(a, a))

    def passes(self, call, weights, inputs):
        """(forward, forward+backward): functions of no argument.

        `call(*inputs)` is the layer (its first output if it returns
        several); `weights` the Keras variables it uses (built). The
        backward pass gives d sum(call) / d (inputs, weights)."""
        first = lambda out: out[0] if isinstance(out, (tuple, list)) else out
        if self.backend == "jax":
            return self._jax_passes(call, weights, inputs, first)
        if self.backend == "torch":
            return self._torch_passes(call, weights, inputs, first)
        return self._tf_passes(call, weights, inputs, first)

    def _jax_passes(self, call, weights, inputs, first):
        jax, ops = self.jax, self.keras.ops
        scope = self.keras.StatelessScope

        def apply(values, *args):
            # The layer's variables take `values` inside the scope.
            with scope(state_mapping=list(zip(weights, values))):
                return first(call(*args))

        values = [w.value for w in weights]
        forward = jax.jit(apply)
        loss = lambda values, *args: ops.sum(apply(values, *args))
        grad = jax.jit(jax.grad(loss, argnums=tuple(range(len(inputs) + 1))))
        return (
            lambda: self.sync(forward(values, *inputs)),
            lambda: self.sync(grad(values, *inputs)),
        )

    def _torch_passes(self, call, weights, inputs, first):
        torch = self.torch
        leaves = [t.detach().requires_grad_(True) for t in inputs]
        params = [w.value for w in weights]

        def forward():
            with torch.no_grad():
                return self.sync(first(call(*inputs)))

        def train():
            loss = torch.sum(first(call(*leaves)))
            return self.sync(torch.autograd.grad(loss, leaves + params))

        return forward, train

    def _tf_passes(self, call, weights, inputs, first):
        tf = self.tf
        forward = tf.function(lambda *args: first(call(*args)))

        @tf.function
        def train(*args):
            with tf.GradientTape() as tape:
                tape.watch(args)
                loss = tf.reduce_sum(first(call(*args)))
            return tape.gradient(loss, list(args) + list(weights))

        return (
            lambda: self.sync(forward(*inputs)),
            lambda: self.sync(train(*inputs)),
        )


def naive_hypernetwork(keras, n, k):
    """(call(x, z), layers): W' = zᵀW + V as [B, n, k], y = x W' + zᵀU + b
    (keras.ops; the full form's function)."""
    ops = keras.ops
    weights = keras.layers.Dense(n * k)  # kernel W [m, n·k], bias V
    bias = keras.layers.Dense(k)  # kernel U, bias b

    def call(x, z):
        w = ops.reshape(weights(z), (-1, n, k))  # [B, n, k]
        y = ops.squeeze(ops.matmul(ops.expand_dims(x, 1), w), 1)  # [B, k]
        return y + bias(z)

    return call, (weights, bias)


def build_layer(runner, name, shape, rank, x, z):
    """(call, weights) of layer `name` built on (x, z)."""
    from mi_zoo import layers as mi_layers  # noqa: PLC0415

    _, _, n, k = shape
    if name == "naive":
        call, parts = naive_hypernetwork(runner.keras, n, k)
    else:
        kwargs = {"rank": rank} if name == "low_rank" else {}
        units = k if name in ("full", "low_rank") else None
        layer = mi_layers.MultiplicativeInteraction(units, form=name, **kwargs)
        call, parts = layer, (layer,)
    call(x, z)  # builds
    return call, [w for p in parts for w in p.trainable_weights]


def random_inputs(runner, shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [
        runner.tensor(rng.normal(size=s).astype(np.float32)) for s in shapes
    ]


def matmul_fn(runner):
    size = mi_layer_shapes.MATMUL_SIZE
    (a,) = random_inputs(runner, [(size, size)], seed=1)
    return runner.matmul(a)


def measure_layers(runner, shape, rank, repeats, min_seconds):
    """Rows of one shape: the MI forms and the naive hypernetwork, forward
    and forward+backward, interleaved with the 2048² matmul."""
    b, m, n, k = shape
    x, z = random_inputs(runner, [(b, n), (b, m)])
    fns = {"matmul": matmul_fn(runner)}
    names = [x for x in LAYERS if mi_layer_shapes.applicable(x, shape)]
    for name in names:
        call, weights = build_layer(runner, name, shape, rank, x, z)
        forward, train = runner.passes(call, weights, [x, z])
        fns[(name, "forward")], fns[(name, "train")] = forward, train
    seconds = timing.interleaved_seconds(fns, repeats, min_seconds)
    peak = mi_layer_shapes.forward_flops("matmul", shape) / seconds["matmul"]
    rows = []
    for name in names:
        flops = mi_layer_shapes.forward_flops(name, shape, rank)
        fwd, train = seconds[(name, "forward")], seconds[(name, "train")]
        rows.append(
            {
                "backend": runner.backend,
                "shape": {"B": b, "m": m, "n": n, "k": k},
                "layer": name,
                "forward_ms": fwd * 1e3,
                "train_ms": train * 1e3,
                "forward_gflops": flops / fwd / 1e9,
                "train_gflops": 3 * flops / train / 1e9,
                "forward_percent_of_matmul": 100 * flops / fwd / peak,
                "train_percent_of_matmul": 100 * 3 * flops / train / peak,
                "matmul_gflops": peak / 1e9,
                "forward_speedup_over_naive": timing.ratio(
                    seconds[("naive", "forward")], fwd
                ),
                "train_speedup_over_naive": timing.ratio(
                    seconds[("naive", "train")], train
                ),
            }
        )
    return rows


def build_fusion(runner, name, batch, quick):
    """(call, weights, inputs, input shapes) of fusion `name`."""
    from mi_zoo import fusion  # noqa: PLC0415

    cls, paper, small = FUSIONS[name]
    layer = getattr(fusion, cls)(**(small if quick else paper))
    if name == "BAN":
        shapes = QUICK_BAN_INPUTS if quick else BAN_INPUTS
    else:
        shapes = QUICK_FUSION_INPUTS if quick else FUSION_INPUTS
    shapes = [(batch,) + s for s in shapes]
    inputs = random_inputs(runner, shapes)
    layer(*inputs)  # builds
    return layer, layer.trainable_weights, inputs, shapes


def measure_fusions(runner, names, batch, repeats, min_seconds, quick):
    """Rows of the fusions, forward and forward+backward, interleaved with
    the 2048² matmul."""
    fns, info = {"matmul": matmul_fn(runner)}, {}
    for name in names:
        call, weights, inputs, shapes = build_fusion(
            runner, name, batch, quick
        )
        forward, train = runner.passes(call, weights, inputs)
        fns[(name, "forward")], fns[(name, "train")] = forward, train
        params = sum(int(np.prod(w.shape)) for w in weights)
        info[name] = (shapes, params)
    seconds = timing.interleaved_seconds(fns, repeats, min_seconds)
    matmul = seconds["matmul"]
    rows = []
    for name, (shapes, params) in info.items():
        fwd, train = seconds[(name, "forward")], seconds[(name, "train")]
        rows.append(
            {
                "backend": runner.backend,
                "fusion": name,
                "inputs": [list(s) for s in shapes],
                "parameters": params,
                "forward_ms": fwd * 1e3,
                "train_ms": train * 1e3,
                "forward_in_matmuls": fwd / matmul,
                "train_in_matmuls": train / matmul,
                "matmul_ms": matmul * 1e3,
                "matmul_gflops": 2
                * mi_layer_shapes.MATMUL_SIZE**3
                / matmul
                / 1e9,
            }
        )
    return rows


def layer_table(rows):
    headers = list(mi_layer_shapes.COLUMNS) + ["matmul GFLOP/s"]
    lines = [
        mi_layer_shapes.cells(r, r["layer"]) + [f"{r['matmul_gflops']:.0f}"]
        for r in rows
    ]
    return timing.markdown_table(
        headers, lines, ["l", "l"] + ["r"] * (len(headers) - 2)
    )


def fusion_table(rows):
    headers = [
        "fusion",
        "inputs",
        "parameters M",
        "fwd ms",
        "fwd+bwd ms",
        "fwd ÷ matmul",
        "fwd+bwd ÷ matmul",
        "matmul ms",
    ]
    lines = [
        [
            r["fusion"],
            " + ".join("×".join(map(str, s)) for s in r["inputs"]),
            f"{r['parameters'] / 1e6:.2f}",
            f"{r['forward_ms']:.2f}",
            f"{r['train_ms']:.2f}",
            f"{r['forward_in_matmuls']:.2f}",
            f"{r['train_in_matmuls']:.2f}",
            f"{r['matmul_ms']:.2f}",
        ]
        for r in rows
    ]
    return timing.markdown_table(
        headers, lines, ["l", "l"] + ["r"] * (len(headers) - 2)
    )


def run(runner, part, quick, repeats, min_seconds, rank, fusion_batch):
    """Measures and prints the tables; returns {"layers": rows, "fusions":
    rows}."""
    result = {"layers": [], "fusions": []}
    if part in ("all", "layers"):
        shapes = (
            mi_layer_shapes.QUICK_SHAPES if quick else mi_layer_shapes.SHAPES
        )
        for shape in shapes:
            result["layers"] += measure_layers(
                runner, shape, rank, repeats, min_seconds
            )
            print(f"measured {shape}", flush=True)
        print(layer_table(result["layers"]), flush=True)
    if part in ("all", "fusions"):
        result["fusions"] = measure_fusions(
            runner,
            list(FUSIONS),
            2 if quick else fusion_batch,
            repeats,
            min_seconds,
            quick,
        )
        print(fusion_table(result["fusions"]), flush=True)
    return result


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    try:
        runner = Runner(choose_backend(_BACKEND.value, os.environ))
    except ValueError as e:  # one line, not the usage text of the module
        sys.exit(f"benchmarks.keras_backend_benchmark: {e}")
    quick = run_flags.QUICK.value
    repeats = 1 if quick else run_flags.value_or(run_flags.REPEATS, 5)
    min_seconds = 0.0 if quick else _MIN_SECONDS.value
    print(
        f"{runner.describe()}; float32, low_rank rank={_RANK.value}, "
        f"median of {repeats} interleaved rounds",
        flush=True,
    )
    result = run(
        runner,
        _PART.value,
        quick,
        repeats,
        min_seconds,
        _RANK.value,
        _FUSION_BATCH.value,
    )
    timing.write_json(run_flags.OUTPUT_JSON.value, result)


if __name__ == "__main__":
    app.run(main)
