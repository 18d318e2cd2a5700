"""The attention maps of the zoo's VQA models, laid onto the image.

The MLB/MARN (`MLBAttention`), MCB/MFB/MFH/MUTAN/BLOCK (`GlimpseAttention`),
BAN (`BilinearAttentionNetwork`) and DAN (`DualAttention`) models output
attention distributions over image positions that the answer does not read
directly; `mi_zoo.models.vqa.attention_model` exposes them. Here they are
turned into maps over the image:

- grid positions (a CNN's feature map over pixels, or [H, W, C] grid
  features) are reshaped to the grid and, for pixel inputs, bilinearly
  upsampled onto the image ([B, G, H, W]);
- region positions (bottom-up or ground-truth boxes) stay one weight per
  region ([B, G, R]); `mi_zoo.viz.box_overlay` draws them;
- BAN's maps are over (token, region) pairs, [B, G, ρ, φ]: they are kept as
  they are (`pairs`) and summed over tokens for the image map;
- DAN's textual maps [B, K+1, T] are kept as `tokens`.

    maps = attention_maps(model, inputs)
    maps["mlb_attention/maps"].image    # [B, G, H, W] for a pixel model

References: Kim et al., "Hadamard Product for Low-rank Bilinear Pooling"
(ICLR 2017); Kim, Jun, Zhang, "Bilinear Attention Networks" (NeurIPS 2018);
Nam, Ha, Kim, "Dual Attention Networks" (CVPR 2017).
"""

import dataclasses
import math
from typing import Dict
from typing import Optional

import numpy as np
import tensorflow as tf

from mi_zoo.models import vqa as vqa_models


@dataclasses.dataclass
class AttentionMap:
    """One attention output of a model.

    Attributes:
      raw: the layer's output ([B, G, S], [B, G, ρ, φ] for BAN, [B, K+1, T]
        for DAN's textual maps).
      image: the map over the image: [B, G, H, W] for pixel inputs, [B, G,
        h, w] for spatial grid features, [B, G, R] for regions and flat
        grids; None for a map over tokens.
      kind: "pixels", "grid", "regions" or "tokens".
      pairs: BAN's [B, G, ρ, φ] token–region maps, else None.
    """

    raw: np.ndarray
    image: Optional[np.ndarray]
    kind: str
    pairs: Optional[np.ndarray] = None


def _grid_side(positions, height, width):
    """(h, w) of a grid of `positions` cells with the image's aspect."""
    h = int(round(math.sqrt(positions * height / width)))
    if h <= 0 or positions % h:
        raise ValueError(
            f"Cannot lay {positions} attention positions out as a grid with "
            f"the image's aspect {height}×{width}."
        )
    return h, positions // h


def _upsample(maps, height, width):
    """[B, G, h, w] -> [B, G, H, W], bilinear; each map keeps its mass."""
    b, g, h, w = maps.shape
    flat = maps.reshape(b * g, h, w)[..., None]
    up = tf.image.resize(flat, (height, width), method="bilinear").numpy()
    up = up[..., 0].reshape(b, g, height, width)
    total = up.sum(axis=(-2, -1), keepdims=True)
    mass = maps.sum(axis=(-2, -1), keepdims=True)
    return up * mass / np.maximum(total, 1e-12)


def attention_maps(model, inputs) -> Dict[str, AttentionMap]:
    """The attention maps of a VQA model on a batch, over the image.

    Args:
      model: a model of the VQA zoo with attention (see module docstring).
      inputs: a batch as the model takes it.

    Returns:
      {output name ("<layer>/<map>"): `AttentionMap`}.

    Raises:
      ValueError: the model has no attention layer.
    """
    shapes = {t.name: tuple(t.shape[1:]) for t in model.inputs}
    image_shape = shapes.get("image")
    regions = "boxes" in shapes
    # The pixel encoder's convolutions (mi_zoo.models.encoders).
    pixels = any(layer.name.startswith("stem_conv_") for layer in model.layers)
    axes = vqa_models.attention_axes(model)
    outputs = vqa_models.attention_model(model)(inputs, training=False)
    result = {}
    for name, value in outputs.items():
        raw = np.asarray(value, np.float32)
        if name.endswith("/textual"):
            result[name] = AttentionMap(raw, None, "tokens")
            continue
        pairs = None
        if len(axes[name]) == 2:  # BAN: over (token, region) pairs.
            pairs, raw_image = raw, raw.sum(axis=-2)  # [B, G, φ]
        else:
            raw_image = raw  # [B, G, S]
        if regions or image_shape is None or len(image_shape) == 2:
            kind, image = ("regions" if regions else "grid"), raw_image
        else:
            height, width = image_shape[0], image_shape[1]
            h, w = _grid_side(raw_image.shape[-1], height, width)
            grid = raw_image.reshape(raw_image.shape[:2] + (h, w))
            if pixels:
                kind, image = "pixels", _upsample(grid, height, width)
            else:
                kind, image = "grid", grid
        result[name] = AttentionMap(raw, image, kind, pairs)
    return result
