"""The four forms of the MI layer, in pure Python shared by the Keras layer
and its Sonnet twin: argument checks, sizes and the variables to create."""

from mi_zoo.core import validation
from mi_zoo.layers import mi_contraction

FORMS = ("full", "low_rank", "diagonal", "scalar")


def check_arguments(output_size, form, rank, contraction, size_name="units"):
    """Checks the constructor arguments of an MI layer or module.

    Args:
      output_size: positive int; may be None for the diagonal and scalar
        forms.
      form: one of `FORMS`.
      rank: positive int for the low-rank form, None otherwise.
      contraction: "auto" or, for the full form, one of
        `mi_contraction.CONTRACTIONS`.
      size_name: the output size's argument name in messages: "units"
        (Keras) or "output_size" (Sonnet).

    Returns:
      (output_size, rank) as plain Python ints (or None): NumPy integers
      are accepted.

    Raises:
      ValueError: naming the offending argument and its value.
    """
    validation.check_choice("form", form, FORMS)
    output_size = validation.check_positive_int(
        size_name, output_size, allow_none=form in ("diagonal", "scalar")
    )
    if form == "low_rank":
        rank = validation.check_positive_int("rank", rank)
    elif rank is not None:
        raise ValueError(
            "`rank` is only used by form='low_rank', got "
            f"rank={rank!r} with form={form!r}."
        )
    validation.check_choice(
        "contraction", contraction, ("auto",) + mi_contraction.CONTRACTIONS
    )
    if contraction != "auto" and form != "full":
        raise ValueError(
            "`contraction` can only be forced for form='full', got "
            f"contraction={contraction!r} with form={form!r}."
        )
    return output_size, rank


def sizes(form, output_size, x_shape, z_shape, size_name="units"):
    """Validates the shapes of x and z; returns (n, m, k).

    Args:
      form: one of `FORMS`.
      output_size: the requested output size k, or None (diagonal, scalar).
      x_shape: static shape of x, [B, ..., n].
      z_shape: static shape of z, [B, m] or [B, ..., m].
      size_name: the output size's argument name in messages.

    Returns:
      (n, m, k): the sizes of x, z and the output.

    Raises:
      ValueError: on incompatible shapes, or, for the diagonal and scalar
        forms, an `output_size` other than n.
    """
    x_shape, z_shape = tuple(x_shape), tuple(z_shape)
    n, m = validation.check_input_context_shapes(
        f"MultiplicativeInteraction(form={form!r})", x_shape, z_shape
    )
    if form in ("diagonal", "scalar"):
        if output_size is not None and output_size != n:
            raise ValueError(
                f"MultiplicativeInteraction(form={form!r}) scales x "
                f"feature-wise, so `{size_name}` must equal x's last axis: "
                f"got {size_name}={output_size} for x of shape {x_shape}."
            )
        return n, m, n
    return n, m, output_size


def variable_plan(form, n, m, k, rank, with_bias):
    """The variables of a form, in creation order.

    Args:
      form: one of `FORMS`.
      n: size of x.
      m: size of z.
      k: output size.
      rank: the low-rank r (low_rank form only).
      with_bias: whether to add the bias b.

    Returns:
      A list of (name, shape, init) with init "w" (the kernel initializer),
      "ones" (v of the diagonal and scalar forms) or "b" (the bias
      initializer); the names and shapes are the Keras layer's.
    """
    if form == "full":
        plan = [("kernel", (m, n, k), "w")]
    elif form == "low_rank":
        plan = [
            ("context_factor", (m, rank), "w"),
            ("input_factor", (n, rank), "w"),
            ("output_factor", (rank, k), "w"),
        ]
    elif form == "diagonal":
        plan = [("kernel", (m, n), "w")]
    else:  # scalar
        plan = [("kernel", (m, 1), "w")]
    plan.append(("context_kernel", (m, k), "w"))
    if form in ("full", "low_rank"):
        plan.append(("input_kernel", (n, k), "w"))
    else:
        size = n if form == "diagonal" else 1
        plan.append(("input_kernel", (size,), "ones"))
    if with_bias:
        plan.append(("bias", (k,), "b"))
    return plan
