r"""The per-chunk contractions of mi_zoo.fusion, einsum against batched matmul.

Issue 19: BLOCK's per-chunk merge `ops.einsum("ncs,csk->nck")` took 47.5 %
of its training step, and its weight gradient ran at under half the
forward's speed. `Block` now computes chunk-major: the projection [N, C, s]
is transposed to [C, N, s], one batched matmul with the factors [C, s, R·s]
gives [C, N, R·s], the product and the sum over r stay chunk-major, and only
the fused [C, N, s] is transposed back. This script times, forward and
backward, interleaved in one process (`benchmarks.timing`), at the papers'
VQA v2 sizes (the attention fusion of the `block` VQA model: a question
[B, 1024] against B × 36 regions of 2048 features, d = 1600, C = 20 chunks
of 80, R = 15, 1000 units; batch --batch_size, default 64):

  merge: the merge alone on the regions' N = 36·B rows —
      einsum          ops.einsum("ncs,csk->nck")             (the old form)
      transpose_bmm   [N,C,s] -> [C,N,s], matmul, -> [N,C,k]  (transposed back)
      chunk_major     [N,C,s] -> [C,N,s], matmul              (Block's form)
  layer: the whole Block layer, `EinsumBlock` (the old call, kept here
      for the comparison; tests/benchmarks/fusion_merges_test.py checks that
      it equals Block) against `Block`, the same weights; and Block with
      block's VQA 2.0 split (C = 18: 17 chunks of 89 and one of 87, which
      the einsum form refused), relative to C = 20.
  glimpse: MLBAttention's per-glimpse map with `glimpse_units`
      (ops.einsum("bgc,gcu->bgu"), G = 2, C = 2048, u = 1200) against
      [G,B,C] batched matmul, transposed back to [B,G,u].

Forward+backward is one `tf.function`: a `tf.GradientTape` of the outputs
(with a fixed random cotangent, in each candidate's own layout) with respect
to the inputs and weights. The table gives the median ms and each
candidate's time over the first (old) one.

  python -m benchmarks.fusion_merges
  python -m benchmarks.fusion_merges --quick    # tiny sizes, one round
"""

from absl import app
from absl import flags
import keras
from keras import ops
import numpy as np
import tensorflow as tf

from benchmarks import common_flags
from benchmarks import timing
from mi_zoo.fusion import Block

_THREADS = flags.DEFINE_integer(
    "merge_threads",
    2,
    "TensorFlow intra-op and inter-op threads.",
    lower_bound=1,
    upper_bound=256,
)

#: (question features, regions, region features, d, C, R, units): the
#: `block` VQA model's attention fusion at the paper's sizes, and tiny ones.
PAPER = dict(
    n=1024,
    regions=36,
    m=2048,
    mm_dim=1600,
    chunks=20,
    rank=15,
    units=1000,
    glimpses=2,
    glimpse_features=2048,
    glimpse_units=1200,
)
TINY = dict(
    n=12,
    regions=3,
    m=10,
    mm_dim=12,
    chunks=3,
    rank=2,
    units=5,
    glimpses=2,
    glimpse_features=6,
    glimpse_units=4,
)


@keras.saving.register_keras_serializable(package="benchmarks")
class EinsumBlock(Block):
    """`Block` as it was before issue 19: the merge as an einsum over
    [N, C, s] and everything after it row-major. Equal chunks only."""

    def _einsum_project(self, t, kernel, bias, factor, factor_bias):
        c, s = self.chunks, self.mm_dim // self.chunks
        lead = ops.shape(t)[:-1]
        t = _linear(t, kernel, bias)  # [B(,...), d]
        t = ops.reshape(t, (-1, c, s))  # [N, C, s]
        t = ops.einsum("ncs,csk->nck", t, factor)  # [N, C, R·s]
        if self.use_bias:
            t = t + factor_bias
        return ops.reshape(t, tuple(lead) + (c, self.rank * s))

    def call(self, x, y, training=None):
        del training  # no dropout in the benchmark
        c, r, s = self.chunks, self.rank, self.mm_dim // self.chunks
        px = self._einsum_project(
            x, self.x_kernel, self.x_bias, self.x_factor, self.x_factor_bias
        )
        py = self._einsum_project(
            y, self.y_kernel, self.y_bias, self.y_factor, self.y_factor_bias
        )
        if len(px.shape) < len(py.shape):
            px = ops.expand_dims(px, 1)
        elif len(py.shape) < len(px.shape):
            py = ops.expand_dims(py, 1)
        big = py if len(y.shape) > len(x.shape) else px
        lead = ops.shape(big)[:-2]
        z = ops.reshape(px * py, tuple(lead) + (c, r, s))
        z = ops.sum(z, axis=-2)  # [B, ..., C, s]
        if self.normalization == "before_concat":
            z = _normalize(z)
        z = ops.reshape(z, tuple(lead) + (self.mm_dim,))
        if self.normalization == "after_concat":
            z = _normalize(z)
        return self.activation(
            _linear(z, self.output_kernel, self.output_bias)
        )


def _linear(t, kernel, bias):
    t = ops.matmul(t, kernel)
    return t if bias is None else t + bias


def _normalize(z):
    """sign(z)·√|z| then L2 over the last axis (as `Block`'s)."""
    a = ops.abs(z)
    nonzero = a > 0
    root = ops.sqrt(ops.where(nonzero, a, ops.ones_like(a)))
    z = ops.where(nonzero, ops.sign(z) * root, ops.zeros_like(z))
    squares = ops.sum(ops.square(z), axis=-1, keepdims=True)
    return z * ops.rsqrt(ops.maximum(squares, 1e-24))


# The merge alone: t [N, C, s], factor [C, s, k].


def merge_einsum(t, factor):
    return ops.einsum("ncs,csk->nck", t, factor)  # [N, C, k]


def merge_transpose_bmm(t, factor):
    out = ops.matmul(ops.transpose(t, (1, 0, 2)), factor)  # [C, N, k]
    return ops.transpose(out, (1, 0, 2))  # [N, C, k]


def merge_chunk_major(t, factor):
    return ops.matmul(ops.transpose(t, (1, 0, 2)), factor)  # [C, N, k]


# MLBAttention's glimpse map: a [B, G, C], kernel [G, C, u].


def glimpse_einsum(a, kernel):
    return ops.einsum("bgc,gcu->bgu", a, kernel)


def glimpse_transpose_bmm(a, kernel):
    out = ops.matmul(ops.transpose(a, (1, 0, 2)), kernel)  # [G, B, u]
    return ops.transpose(out, (1, 0, 2))


def gradient_step(fn, args, cotangent, variables=()):
    """A tf.function: fn(*args) and its gradients wrt args and variables,
    the output's cotangent fixed."""
    args = [tf.constant(a) for a in args]
    cotangent = tf.constant(cotangent)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            tape.watch(args)
            out = fn(*args)
        return tape.gradient(
            out, args + list(variables), output_gradients=cotangent
        )

    return step


def _random(rng, *shape):
    return rng.normal(size=shape).astype(np.float32)


def merge_candidates(batch, sizes, seed=0):
    rng = np.random.default_rng(seed)
    n = batch * sizes["regions"]
    c, r = sizes["chunks"], sizes["rank"]
    s = sizes["mm_dim"] // c
    t, factor = _random(rng, n, c, s), _random(rng, c, s, r * s)
    row_major = _random(rng, n, c, r * s)
    chunk_major = np.ascontiguousarray(row_major.transpose(1, 0, 2))
    return {
        "einsum": gradient_step(merge_einsum, (t, factor), row_major),
        "transpose_bmm": gradient_step(
            merge_transpose_bmm, (t, factor), row_major
        ),
        "chunk_major": gradient_step(
            merge_chunk_major, (t, factor), chunk_major
        ),
    }


def glimpse_candidates(batch, sizes, seed=0):
    rng = np.random.default_rng(seed)
    g, c, u = (
        sizes["glimpses"],
        sizes["glimpse_features"],
        sizes["glimpse_units"],
    )
    a, kernel = _random(rng, batch, g, c), _random(rng, g, c, u)
    cotangent = _random(rng, batch, g, u)
    return {
        "einsum": gradient_step(glimpse_einsum, (a, kernel), cotangent),
        "transpose_bmm": gradient_step(
            glimpse_transpose_bmm, (a, kernel), cotangent
        ),
    }


def layer_candidates(batch, sizes, seed=0):
    rng = np.random.default_rng(seed)
    x = _random(rng, batch, sizes["n"])
    y = _random(rng, batch, sizes["regions"], sizes["m"])
    cotangent = _random(rng, batch, sizes["regions"], sizes["units"])
    kwargs = dict(mm_dim=sizes["mm_dim"], rank=sizes["rank"])
    old = EinsumBlock(sizes["units"], chunks=sizes["chunks"], **kwargs)
    new = Block(sizes["units"], chunks=sizes["chunks"], **kwargs)
    uneven = Block(sizes["units"], chunks=sizes["chunks"] - 2, **kwargs)
    fns = {}
    for name, layer in (
        ("einsum Block", old),
        ("chunk-major Block", new),
        (f"chunk-major Block, C = {sizes['chunks'] - 2}", uneven),
    ):
        layer(x, y)
        if layer is new:
            for a, b in zip(new.weights, old.weights):
                a.assign(b)
        fns[name] = gradient_step(
            layer, (x, y), cotangent, layer.trainable_weights
        )
    return fns


def measure(fns, repeats, min_seconds):
    seconds = timing.interleaved_seconds(fns, repeats, min_seconds)
    first = next(iter(seconds.values()))
    return [
        [name, f"{value * 1e3:.1f}", f"{timing.ratio(value, first):.2f}"]
        for name, value in seconds.items()
    ]


def run(batch, sizes, repeats, min_seconds):
    """{table name: rows}: ms forward+backward and the ratio to the first."""
    return {
        "merge": measure(merge_candidates(batch, sizes), repeats, min_seconds),
        "layer": measure(layer_candidates(batch, sizes), repeats, min_seconds),
        "glimpse": measure(
            glimpse_candidates(batch, sizes), repeats, min_seconds
        ),
    }


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    tf.config.threading.set_intra_op_parallelism_threads(_THREADS.value)
    tf.config.threading.set_inter_op_parallelism_threads(_THREADS.value)
    cf = common_flags
    quick = cf.QUICK.value
    sizes = TINY if quick else PAPER
    batch = 2 if quick else cf.value_or(cf.BATCH_SIZE, 64)
    tables = run(
        batch,
        sizes,
        1 if quick else cf.value_or(cf.REPEATS, 5),
        0.01 if quick else 0.5,
    )
    print(
        f"TensorFlow {tf.__version__}, {_THREADS.value} threads, batch "
        f"{batch}, sizes {sizes}; forward+backward, median ms"
    )
    for name, rows in tables.items():
        print(
            f"\n{name}\n"
            + timing.markdown_table(["candidate", "ms", "/ first"], rows)
        )
    timing.write_json(cf.OUTPUT_JSON.value, tables)


if __name__ == "__main__":
    app.run(main)
