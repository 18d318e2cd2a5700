"""Question and image encoders, composed in the Keras functional API.

Each encoder takes symbolic inputs and returns symbolic outputs, so the models
that use them stay plain `keras.Model`s that save and load as `.keras` files.
"""

import keras
from keras import ops

from mi_zoo import layers as mi_layers
from mi_zoo.core import registry
from mi_zoo.models import backbones

IMAGE_ENCODERS = registry.Registry("image kind")
# The packed layers compute only the real tokens (PyTorch's packed
# sequences; docs/benchmarks.md §3g); same weights as Keras's GRU and LSTM.
RNN_CELLS = {"gru": mi_layers.PackedGRU, "lstm": mi_layers.PackedLSTM}


# Moving-average momentum of the batch norms: 0.9, PyTorch's default (0.1
# there) used by the FiLM and Relation Network code, instead of Keras's
# 0.99. Measured on FiLM/Sort-of-CLEVR (docs/training.md): with 0.99 the
# moving statistics lag behind the fast-changing convolutions, and inference
# accuracy after 3000 steps was 0.46 against 0.71 in training mode on the
# same batch; re-estimating the statistics with 0.9 gave 0.69.
BN_MOMENTUM = 0.9

# Filters per layer of the pixel stem: 24, the Relation Network paper's
# (4 layers of 24, stride 2, batch norm and ReLU; Santoro et al. 2017).
STEM_FILTERS = 24


def image_inputs(spec):
    """The named image `keras.Input`s for a spec's image kind and shape.

    Returns:
      {"image": float32 [B, *image_shape]} and, for region features,
      "boxes": float32 [B, R, 4] (x1, y1, x2, y2 in [0, 1]).
    """
    inputs = {"image": keras.Input(spec.image_shape, name="image")}
    if spec.image_kind == "regions":
        inputs["boxes"] = keras.Input((spec.image_shape[0], 4), name="boxes")
    return inputs


def model_inputs(spec):
    """The named `keras.Input`s of a VQA model for a `VqaSpec`:
    {"question": int32 [B, T]} and the image inputs (`image_inputs`)."""
    question = keras.Input(
        (spec.question_length,), dtype="int32", name="question"
    )
    return {"question": question, **image_inputs(spec)}


def encode_question(
    tokens,
    vocab_size,
    embedding_dim=300,
    units=512,
    cell="gru",
    bidirectional=False,
    dropout=0.0,
):
    """Embedding and a GRU/LSTM over a padded question (id 0 = padding).

    Args:
      tokens: int [B, T].
      vocab_size: vocabulary size including the padding id 0.
      embedding_dim: word-embedding size.
      units: RNN units per direction.
      cell: "gru" or "lstm".
      bidirectional: run a second RNN backwards and concatenate.
      dropout: dropout on the embeddings.

    Returns:
      (vector [B, D], sequence [B, T, D], mask bool [B, T]) with D = units or
      2·units; vector is the final state at the last real token (each
      direction's own end for a bidirectional RNN).
    """
    if cell not in RNN_CELLS:
        raise ValueError(
            f"`cell` must be one of {tuple(RNN_CELLS)}, got cell={cell!r}."
        )
    mask = ops.not_equal(tokens, 0)  # [B, T]
    embedded = keras.layers.Embedding(
        vocab_size, embedding_dim, name="word_embedding"
    )(tokens)  # [B, T, E]
    if dropout:
        embedded = keras.layers.Dropout(dropout)(embedded)
    rnn = RNN_CELLS[cell](
        units,
        return_sequences=True,
        return_state=True,
        name=f"question_{cell}",
    )
    if bidirectional:
        rnn = keras.layers.Bidirectional(rnn, name=f"question_bi{cell}")
    outputs = rnn(embedded, mask=mask)
    sequence = outputs[0]  # [B, T, D]
    if bidirectional:
        states = outputs[1:]
        half = len(states) // 2  # (h_fwd[, c_fwd], h_bwd[, c_bwd])
        vector = keras.layers.Concatenate()([states[0], states[half]])
    else:
        vector = outputs[1]  # h at the last real token
    return vector, sequence, mask


@IMAGE_ENCODERS.register("pixels")
def encode_pixels(
    inputs, num_layers=4, filters=STEM_FILTERS, coordinates=True
):
    """A CNN trained from scratch on raw pixels (the FiLM / RN stem).

    `num_layers` of 3×3 stride-2 convolutions with batch norm and ReLU; with
    `coordinates`, two coordinate channels are appended to the output.

    Returns:
      (feature map [B, H', W', C], mask None).
    """
    x = inputs["image"]  # [B, H, W, 3]
    for i in range(num_layers):
        x = keras.layers.Conv2D(
            filters,
            3,
            strides=2,
            padding="same",
            use_bias=False,
            name=f"stem_conv_{i}",
        )(x)
        x = keras.layers.BatchNormalization(
            momentum=BN_MOMENTUM, name=f"stem_bn_{i}"
        )(x)
        x = keras.layers.ReLU()(x)
    if coordinates:
        x = mi_layers.CoordinateChannels(name="stem_coordinates")(x)
    return x, None  # [B, H', W', C(+2)]


@IMAGE_ENCODERS.register("grid")
def encode_grid(inputs, normalize=True):
    """Precomputed grid features, [S, C] or [H, W, C], L2-normalised per cell
    (as the MLB/MCB papers do with ResNet features) when `normalize`.

    Returns:
      (features [B, S, C] or [B, H, W, C], mask None).
    """
    x = inputs["image"]
    if normalize:
        x = keras.layers.UnitNormalization(axis=-1, name="grid_l2")(x)
    return x, None


@IMAGE_ENCODERS.register("regions")
def encode_regions(inputs, normalize=True):
    """Region features [R, C] (bottom-up style) with their boxes [R, 4].

    The box geometry (x1, y1, x2, y2, area) is appended to each region's
    features; zero-padded regions (all-zero features) are masked out.

    Returns:
      (features [B, R, C + 5], mask bool [B, R]).
    """
    features, boxes = inputs["image"], inputs["boxes"]  # [B, R, C], [B, R, 4]
    mask = ops.any(ops.not_equal(features, 0.0), axis=-1)  # [B, R]
    if normalize:
        features = keras.layers.UnitNormalization(axis=-1, name="region_l2")(
            features
        )
    area = (boxes[..., 2:3] - boxes[..., 0:1]) * (
        boxes[..., 3:4] - boxes[..., 1:2]
    )  # [B, R, 1]
    return ops.concatenate([features, boxes, area], axis=-1), mask


@IMAGE_ENCODERS.register("backbone")
def encode_backbone(inputs, backbone, normalize=True):
    """Pixels through a pretrained backbone inside the model, then read as
    grid features (`encode_grid`): the model trains end to end from images.

    Args:
      inputs: {"image": float32 [B, H, W, 3] in [0, 1]}.
      backbone: a `BackboneSpec` (name, layer, grid, weights, trainable);
        the backbone takes the image at its size (`backbones.grid_model`)
        and is frozen unless `backbone.trainable`.
      normalize: L2-normalise each cell, as `encode_grid` does.

    Returns:
      (features [B, h, w, C], mask None).

    Raises:
      ValueError: for an unknown backbone name (listing the known ones), a
        layer it lacks, or an image smaller than 32 x 32.

    Example:

        spec = VqaSpec(10, 6, "backbone", (64, 64, 3), 4,
                       backbone=BackboneSpec("mobilenet_v3_small",
                                             weights=None))
        model = VQA_MODELS.build("mlb", spec, size="small")
    """
    image = inputs["image"]
    net = backbones.grid_model(
        backbone.name,
        tuple(image.shape[1:3]),
        layer=backbone.layer,
        grid=backbone.grid,
        weights=backbone.weights,
    )
    net.trainable = backbone.trainable
    features = net(image)  # [B, h, w, C]
    return encode_grid({"image": features}, normalize=normalize)


def encode_image(inputs, spec, **kwargs):
    """Encodes `inputs["image"]` with the encoder of `spec.image_kind`
    (image_kind "backbone" with `spec.backbone`)."""
    if spec.image_kind == "backbone":
        kwargs.setdefault("backbone", spec.backbone)
    return IMAGE_ENCODERS.build(spec.image_kind, inputs, **kwargs)


def flatten_positions(features):
    """[B, H, W, C] -> [B, H·W, C]; [B, S, C] is returned as is."""
    if len(features.shape) == 4:
        _, h, w, c = features.shape
        return keras.layers.Reshape((h * w, c))(features)
    return features


def masked_mean(features, mask=None):
    """Mean over axis 1 of [B, S, C], over the valid positions only."""
    if mask is None:
        return ops.mean(features, axis=1)
    weights = ops.cast(mask, features.dtype)[..., None]  # [B, S, 1]
    total = ops.sum(features * weights, axis=1)  # [B, C]
    return total / ops.maximum(ops.sum(weights, axis=1), 1.0)
