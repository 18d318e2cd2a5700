"""Visual and textual explanations from a Hadamard-product fusion.

Kim & Zhang, "Visual Explanations from Hadamard Product in Multimodal Deep
Networks", NeurIPS 2017 workshop (arXiv:1712.06228). In a model whose joint
representation is F = Q ∘ V, with Q computed from the question's token
embeddings q and V from the image I, the gradients

    ∇_v := (V − F) ∂V/∂I      ∇_q := (Q − F) ∂Q/∂q      (F held constant)

— the gradients of ½‖V − F‖² and ½‖Q − F‖² with F a constant — show which
pixels and which tokens drove the joint representation, with no attention
weights and no label. Following the paper, ∇_v is taken with guided
back-propagation through the ReLUs of the image CNN (`guided_backprop`),
normalised channel-wise into z-scores over the pixels, and each token is
scored by Σ_e |∇_q| over its embedding, turned into z-scores over the
question's tokens. When the fusion has several Hadamard products (glimpses,
residual blocks, MFH stages), the gradients of all of them are summed.

How a model exposes Q, V and F: its fusion layer implements
`hadamard_terms(*call_args, **call_kwargs) -> [(a, b), ...]`, the operands
of each Hadamard product F = a ∘ b in the order of the layer's first two
inputs (`LowRankBilinearPooling` (MLB), `MultimodalResidual` (MRN/MARN),
`BilinearAttentionNetwork` (BAN's joint step), `FactorizedBilinearPooling`
(MFB/MFH) and `MultiplicativeInteraction` in its low-rank, diagonal and
scalar forms do). The operand whose layer input does not depend on the image
is Q, the other V. By default the explained layer is the last such layer of
the model (the joint step before the classifier); `layer=` picks another.

    from mi_zoo import explain
    result = explain.hadamard_explanation(model, inputs)  # inputs: a batch
    result.image_map      # [B, H, W] (pixels) or [B, S] (features), >= 0
    result.token_scores   # [B, T] z-scores, 0 at padding
"""

import contextlib
import dataclasses
import inspect
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from mi_zoo.explain import guided as guided_lib

#: Name of the zoo's word-embedding layer (`mi_zoo.models.encoders`).
EMBEDDING_LAYER = "word_embedding"
_EPS = 1e-12


@dataclasses.dataclass
class HadamardExplanation:
    """What `hadamard_explanation` returns (NumPy arrays, batch first).

    Attributes:
      layer: name of the explained fusion layer.
      guided: whether the image gradient went through guided ReLUs.
      image_gradient: ∇_v, the shape of the image input.
      image_zscores: ∇_v as z-scores per channel over the positions (pixels
        or regions), the image input's shape.
      image_map: mean over channels of |z-score|, [B, H, W] for pixels or
        [B, S] for region/grid features: where the explanation points.
      token_gradient: ∇_q [B, T, E].
      token_scores: z-scores over each question's tokens of Σ_e |∇_q|,
        [B, T], 0 at padded positions.
      token_mask: bool [B, T], the question's real tokens.
    """

    layer: str
    guided: bool
    image_gradient: np.ndarray
    image_zscores: np.ndarray
    image_map: np.ndarray
    token_gradient: np.ndarray
    token_scores: np.ndarray
    token_mask: np.ndarray


def _usable(layer):
    """Whether a layer exposes a Hadamard product (the full MI form has the
    method but no Hadamard product)."""
    return (
        callable(getattr(layer, "hadamard_terms", None))
        and getattr(layer, "form", None) != "full"
    )


def hadamard_layers(model):
    """Names of the model's layers with a Hadamard-product fusion, in
    order."""
    return [layer.name for layer in model.layers if _usable(layer)]


def _fusion_layer(model, name):
    usable = hadamard_layers(model)
    if name is None:
        if not usable:
            raise ValueError(
                f"Model {model.name!r} has no Hadamard-product fusion (no "
                "layer with `hadamard_terms`; the zoo's mlb, marn, mi "
                "(low_rank), ban, mfb and mfh models have one)."
            )
        name = usable[-1]
    elif name not in usable:
        raise ValueError(
            f"`layer` must name a Hadamard-product fusion layer of model "
            f"{model.name!r}, one of {usable}, got layer={name!r}."
        )
    layer = model.get_layer(name)
    calls = len(layer._inbound_nodes)  # pylint: disable=protected-access
    if calls != 1:
        raise ValueError(
            f"Layer {name!r} is called {calls} times in model "
            f"{model.name!r}; explain needs exactly one call."
        )
    return layer


def _depends_on(tensor, source):
    """Whether symbolic `tensor` is computed from symbolic `source`."""
    stack, seen = [tensor], set()
    while stack:
        t = stack.pop()
        if t is source:
            return True
        history = getattr(t, "_keras_history", None)
        if history is None or id(t) in seen:
            continue
        seen.add(id(t))
        operation, node_index, _ = history
        nodes = operation._inbound_nodes  # pylint: disable=protected-access
        stack.extend(nodes[node_index].input_tensors)
    return False


def _named_input(model, name):
    for tensor in model.inputs:
        if tensor.name == name or tensor.name.split(":")[0] == name:
            return tensor
    raise ValueError(
        f"Model {model.name!r} has no input named {name!r}; "
        f"its inputs: {[t.name for t in model.inputs]}."
    )


def _channel_zscores(gradient):
    """z-scores of each channel over the positions: [B, ..., C]."""
    axes = tuple(range(1, gradient.ndim - 1))
    mean = gradient.mean(axis=axes, keepdims=True)
    std = gradient.std(axis=axes, keepdims=True)
    return (gradient - mean) / np.maximum(std, _EPS)


def _token_zscores(token_gradient, mask):
    """z-scores over each question's real tokens of Σ_e |∇_q|."""
    scores = np.abs(token_gradient).sum(axis=-1)  # [B, T]
    out = np.zeros_like(scores)
    for i in range(scores.shape[0]):
        valid = scores[i][mask[i]]
        if valid.size:
            out[i][mask[i]] = (valid - valid.mean()) / max(valid.std(), _EPS)
    return out


def _variable_dtype(values, layer):
    """`values` with their floating tensors cast to `layer`'s variable
    dtype where its policy is mixed (e.g. "mixed_bfloat16").

    `hadamard_terms` is called outside the layer's `__call__`, so Keras
    does not autocast the layer's float32 variables to its compute dtype
    there; its inputs, the outputs of the layers before it, are in the
    compute dtype. The terms are computed in the variables' dtype instead
    (float32: the explanation is a gradient, and more precise so)."""
    if layer.compute_dtype == layer.variable_dtype:
        return values
    return [
        tf.cast(v, layer.variable_dtype)
        if isinstance(v, tf.Tensor) and v.dtype.is_floating
        else v
        for v in values
    ]


def hadamard_explanation(
    model,
    inputs,
    layer: Optional[str] = None,
    guided: bool = True,
    image_input: str = "image",
    question_input: str = "question",
    embedding_layer: str = EMBEDDING_LAYER,
) -> HadamardExplanation:
    """Kim & Zhang's gradient explanation of a Hadamard-product model.

    Args:
      model: a `keras.Model` of the VQA zoo (or any functional model with a
        fusion layer implementing `hadamard_terms`, an image input and a
        word-embedding layer).
      inputs: a batch, {"question": int [B, T], "image": float [B, ...],
        ...} as the model takes it.
      layer: name of the fusion layer to explain; default the last layer of
        `hadamard_layers(model)`.
      guided: back-propagate ∇_v through guided ReLUs (ignored, and
        `guided` False in the result, when the model has no ReLU).
      image_input, question_input: names of the model's inputs.
      embedding_layer: name of the layer whose output are the token
        embeddings q.

    Returns:
      A `HadamardExplanation`.

    Raises:
      ValueError: the model has no such fusion layer, input or embedding
        layer, or the fusion's two inputs both depend on the image (or
        neither does), so Q and V cannot be told apart.
    """
    target = _fusion_layer(model, layer)
    image = _named_input(model, image_input)
    question = _named_input(model, question_input)
    node = target._inbound_nodes[0]  # pylint: disable=protected-access
    args, kwargs = node.arguments.args, node.arguments.kwargs
    visual = [_depends_on(a, image) for a in args[:2]]
    if visual.count(True) != 1:
        raise ValueError(
            f"Layer {target.name!r}: exactly one of its two inputs must "
            f"depend on the image input, got {visual} (first, second)."
        )
    v_side = visual.index(True)
    try:
        embedding = model.get_layer(embedding_layer).output
    except ValueError as e:
        raise ValueError(
            f"Model {model.name!r} has no embedding layer "
            f"{embedding_layer!r} (`embedding_layer`)."
        ) from e
    flat = keras.tree.flatten((args, kwargs))
    symbolic = [
        i for i, t in enumerate(flat) if isinstance(t, keras.KerasTensor)
    ]
    probe = keras.Model(
        model.inputs,
        [embedding] + [flat[i] for i in symbolic],
        name=f"{model.name}_hadamard_probe",
    )
    signature = inspect.signature(target.hadamard_terms).parameters
    extra = {"training": False} if "training" in signature else {}

    feed = {k: tf.convert_to_tensor(v) for k, v in inputs.items()}
    feed[image.name] = tf.cast(feed[image.name], tf.float32)
    use_guided = guided and bool(guided_lib.relu_layers(model))
    guiding = (
        guided_lib.guided_backprop(model)
        if use_guided
        else contextlib.nullcontext()
    )
    with guiding:
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(feed[image.name])
            values = probe(feed, training=False)
            embedded, values = values[0], values[1:]
            for i, value in zip(symbolic, values):
                flat[i] = value
            call_args, call_kwargs = keras.tree.pack_sequence_as(
                (args, kwargs), _variable_dtype(flat, target)
            )
            terms = target.hadamard_terms(*call_args, **call_kwargs, **extra)
            qs, vs, q_residuals, v_residuals = [], [], [], []
            for pair in terms:
                f = pair[0] * pair[1]
                q = tf.broadcast_to(pair[1 - v_side], tf.shape(f))
                v = tf.broadcast_to(pair[v_side], tf.shape(f))
                f = tf.stop_gradient(f)
                qs.append(q)
                vs.append(v)
                q_residuals.append(tf.stop_gradient(q - f))
                v_residuals.append(tf.stop_gradient(v - f))
        image_gradient = tape.gradient(
            vs, feed[image.name], output_gradients=v_residuals
        )
        token_gradient = tape.gradient(
            qs, embedded, output_gradients=q_residuals
        )
    del tape
    image_gradient = _numpy(image_gradient, feed[image.name])
    token_gradient = _numpy(token_gradient, embedded)
    zscores = _channel_zscores(image_gradient)
    mask = np.asarray(feed[question.name]) != 0
    return HadamardExplanation(
        layer=target.name,
        guided=use_guided,
        image_gradient=image_gradient,
        image_zscores=zscores,
        image_map=np.abs(zscores).mean(axis=-1),
        token_gradient=token_gradient,
        token_scores=_token_zscores(token_gradient, mask),
        token_mask=mask,
    )


def _numpy(gradient, like):
    """A gradient as float32 NumPy; None (no path) becomes zeros."""
    if gradient is None:
        return np.zeros(like.shape, np.float32)
    return np.asarray(gradient, np.float32)
