"""The matrix products of a TensorFlow training step, timed one at a time.

A step whose time is mostly matrix products cannot get faster than those
products, whatever is done to the rest of it. This module finds every
matrix product in a traced step (`tf.function`'s graph: the forward and
the gradients the tape added, `MatMul`, `BatchMatMulV2`/`V3` and
`Einsum` ops with their static shapes and transposes), runs each alone on
random inputs of its shapes in its own `tf.function`, and sums their
median times. That sum over a peer's whole step is the best ratio the step
could reach if everything but its matrix products took no time: the floor
that the benchmarks' "GEMMs / PyTorch" column reports (issue 19).

    step = tf.function(train_step)
    found = run_products(step.get_concrete_function())
    ms = products_ms(found, repeats=5)    # sum over every product
    floor = step_ms(step, repeats=5)      # the same, in one call

The benchmarks put it in a row with `row_fields` and in their tables with
`COLUMNS` and `cells`.

Some products' shapes are not known in the graph (e.g. a packed RNN's
steps over the rows still running, fewer as sequences end): `products`
lists them with `shapes=None`; `run_products` (and so `step_ms`) takes
their shapes from one run of the step's graph, pruned to what those
shapes need (no variable update happens), so they are timed at the sizes
the step's own batch gives them. `products_ms` leaves out any product
still without shapes and says how many (the table cell shows "+N
unknown"). Products inside a loop's body function (`tf.while_loop`) are
not in the graph and not counted. Ops are timed one after another, so
products that the step runs side by side on TensorFlow's inter-op pool
count in full: the sum can exceed the step's own time.
"""

import collections

import numpy as np

from benchmarks import timing

#: Op type -> its two transpose attributes (None: an Einsum's equation).
_PRODUCT_OPS = {
    "MatMul": ("transpose_a", "transpose_b"),
    "BatchMatMul": ("adj_x", "adj_y"),
    "BatchMatMulV2": ("adj_x", "adj_y"),
    "BatchMatMulV3": ("adj_x", "adj_y"),
    "Einsum": None,
}

Product = collections.namedtuple("Product", "op_type shapes dtype attrs")
Product.__doc__ = """One matrix product of a graph.

op_type: "MatMul", "BatchMatMulV2", ... or "Einsum"; shapes: a tuple of
input shapes (tuples of ints), None when one is not fully known; dtype:
the first input's dtype name; attrs: ((name, value), ...), the two
transpose flags or the Einsum equation.
"""


def _attrs(op):
    names = _PRODUCT_OPS[op.type]
    if names is None:
        equation = op.get_attr("equation")
        if isinstance(equation, bytes):
            equation = equation.decode()
        return (("equation", equation),)
    return tuple((name, bool(op.get_attr(name))) for name in names)


def _product_ops(graph):
    """The matrix-product ops of `graph`, in graph order."""
    return [op for op in graph.get_operations() if op.type in _PRODUCT_OPS]


def _static_shapes(op):
    """The shapes of `op`'s inputs, or None when one is not fully known."""
    shapes = []
    for tensor in op.inputs:
        if not tensor.shape.is_fully_defined():
            return None
        shapes.append(tuple(tensor.shape.as_list()))
    return tuple(shapes)


def _product(op, shapes):
    return Product(op.type, shapes, op.inputs[0].dtype.name, _attrs(op))


def products(graph):
    """The matrix products of `graph` (a `tf.Graph`, e.g. a concrete
    function's), one `Product` per op, in graph order; `shapes` is None
    where the graph does not know them."""
    return [_product(op, _static_shapes(op)) for op in _product_ops(graph)]


def run_products(concrete):
    """`products` of a concrete function without arguments, with the
    shapes the graph does not know taken from one run of it.

    The run replays the graph pruned to what those shapes need (e.g. the
    forward pass and the gradients up to a packed RNN's last product): its
    variable updates and other side effects do not happen. The shapes are
    those of this run's inputs (the step's captured batch).

    Raises:
      ValueError: for a concrete function with arguments, naming them.
    """
    graph = concrete.graph
    ops = _product_ops(graph)
    static = [_static_shapes(op) for op in ops]
    pending = [op for op, shapes in zip(ops, static) if shapes is None]
    ran = iter(_shapes_in_one_run(concrete, pending) if pending else ())
    return [
        _product(op, next(ran) if shapes is None else shapes)
        for op, shapes in zip(ops, static)
    ]


def _shapes_in_one_run(concrete, ops):
    """For each op of `ops` (in `concrete`'s graph), the shapes of its
    inputs in one pruned run of the graph: a tuple of tuples of ints."""
    import tensorflow as tf  # noqa: PLC0415 (TensorFlow only when asked)

    graph = concrete.graph
    captures = [t.name for t in graph.internal_captures]
    arguments = [t.name for t in graph.inputs if t.name not in captures]
    if arguments:
        raise ValueError(
            "run_products needs a step without arguments (its inputs "
            f"captured), got a function of {arguments}."
        )
    graph_def = graph.as_graph_def()
    names = [t.name for op in ops for t in op.inputs]
    values = concrete.captured_inputs

    def replay():
        tensors = tf.graph_util.import_graph_def(
            graph_def,
            input_map={n: tf.identity(v) for n, v in zip(captures, values)},
            return_elements=names,
            name="replay",
        )
        return [tf.shape(t) for t in tensors]

    wrapped = tf.compat.v1.wrap_function(replay, [])
    pruned = wrapped.prune(feeds=[], fetches=wrapped.outputs)
    flat = iter(tuple(s.numpy().tolist()) for s in pruned())
    return [tuple(next(flat) for _ in op.inputs) for op in ops]


def _runner(product, seed):
    """A zero-argument call of a traced function that runs `product` once
    on random inputs of its shapes."""
    import tensorflow as tf  # noqa: PLC0415 (TensorFlow only when asked)

    rng = np.random.default_rng(seed)
    # NumPy has no bfloat16 of its own: TensorFlow's NumPy type for it.
    dtype = tf.as_dtype(product.dtype).as_numpy_dtype
    inputs = [
        tf.constant(rng.standard_normal(s).astype(dtype))
        for s in product.shapes
    ]
    if product.op_type == "Einsum":
        ((_, equation),) = product.attrs
        fn = tf.function(lambda *t: tf.einsum(equation, *t))
    else:  # MatMul, BatchMatMul*: adjoint = transpose for real dtypes.
        (_, transpose_a), (_, transpose_b) = product.attrs
        fn = tf.function(
            lambda a, b: tf.linalg.matmul(
                a, b, transpose_a=transpose_a, transpose_b=transpose_b
            )
        )
    # A concrete function: calling it never retraces (no retracing warnings
    # for the many shapes of one step).
    concrete = fn.get_concrete_function(*inputs)
    return lambda: concrete(*inputs)


def products_ms(found, repeats=5, seed=0):
    """Times each distinct product of `found` alone and sums over all.

    Returns:
      {"ms": Σ median ms over every product with known shapes (a product
      that occurs c times counts c times), "count": how many products were
      timed, "unknown": how many had unknown shapes and were left out,
      "distinct": how many distinct (op, shapes, attrs) were timed}.
    """
    known = [p for p in found if p.shapes is not None]
    counts = collections.Counter(known)
    runners = {p: _runner(p, seed) for p in counts}
    seconds = timing.interleaved_seconds(
        {i: fn for i, fn in enumerate(runners.values())},
        repeats,
        min_seconds=0.05,
    )
    total = sum(
        seconds[i] * counts[p] for i, p in enumerate(runners)
    )  # seconds
    return {
        "ms": total * 1e3,
        "count": len(known),
        "unknown": len(found) - len(known),
        "distinct": len(counts),
    }


#: The two table columns: the sum's ms (products timed, unknown ones) and
#: that sum over the peer's step.
COLUMNS = ("GEMMs ms", "GEMMs / PyTorch")

_NOT_TIMED = {"ms": float("nan"), "count": 0, "unknown": 0, "distinct": 0}


def step_ms(step, repeats=5, enabled=True):
    """`products_ms` of a zero-argument `tf.function` `step`'s graph; with
    `enabled` False, the result of timing nothing (NaN ms)."""
    if not enabled:
        return dict(_NOT_TIMED)
    return products_ms(run_products(step.get_concrete_function()), repeats)


def row_fields(result, peer_ms):
    """A benchmark row's fields for a `products_ms` result against a peer's
    step of `peer_ms` milliseconds."""
    return {
        "gemms_ms": result["ms"],
        "gemms_count": result["count"],
        "gemms_unknown": result["unknown"],
        "gemms_ratio": timing.ratio(result["ms"], peer_ms),
    }


def cells(row):
    """The two `COLUMNS` cells of a row with `row_fields`, e.g.
    ("218 (5)", "0.71×") or ("61 (40, +24 unknown)", "0.22×"); ("—", "—")
    for a row whose products were not timed (--time_gemms=false)."""
    if not row["gemms_count"] and not row["gemms_unknown"]:
        return "—", "—"
    unknown = row["gemms_unknown"]
    count = f"{row['gemms_count']}" + (
        f", +{unknown} unknown" if unknown else ""
    )
    return f"{row['gemms_ms']:.0f} ({count})", f"{row['gemms_ratio']:.2f}×"
