"""One figure per VQA example: the Hadamard explanation and the attention
maps over the image, and the question's tokens coloured by their scores.

    figure = explanation_figure(image, words, lines, hadamard=result_i,
                                attention={"mlb_attention/maps": maps_i},
                                boxes=boxes_i)

Panels, left to right: the image with the Hadamard explanation's map (Kim &
Zhang) as a heat map (pixels) or weighted boxes (regions); then one panel per
glimpse of each attention map; under them the caption lines and the
question with each token coloured by its z-score, red for positive and blue
for negative, as in the paper's figures.
"""

from typing import Mapping
from typing import Optional
from typing import Sequence

import numpy as np

from mi_zoo import viz
from mi_zoo.explain import attention as attention_lib
from mi_zoo.explain import hadamard
from mi_zoo.models import vqa as vqa_models

#: Side of the blank canvas that stands in for the image of feature inputs.
_CANVAS = 192


def _draw(image, heat, boxes):
    """The map over the picture: a heat map, or boxes for region maps."""
    heat = np.asarray(heat, np.float32)
    if boxes is not None:
        return viz.box_overlay(image, boxes, np.maximum(heat, 0.0))
    if heat.ndim == 2:
        return viz.heatmap_overlay(image, heat)
    return None  # A flat map over grid features: no geometry to draw on.


def explanation_figure(
    image,
    words: Sequence[str],
    lines: Sequence[str],
    token_scores=None,
    hadamard_map=None,
    attention: Optional[Mapping[str, np.ndarray]] = None,
    boxes=None,
    max_glimpses: int = 2,
) -> np.ndarray:
    """Draws one example's explanations.

    Args:
      image: [H, W, 3] in [0, 1] or uint8 (pixel inputs), or None for
        feature inputs (a blank canvas is used, with the boxes if any).
      words: the question's real tokens, T' str.
      lines: caption lines (question, prediction, truth, ...).
      token_scores: float [T'] (Kim & Zhang's token z-scores) or None.
      hadamard_map: the explanation's map, [H, W] or [R] for regions, or
        None.
      attention: {name: [G, H, W] or [G, R]} attention maps of the example.
      boxes: float [R, 4] (x1, y1, x2, y2 in [0, 1]) for region inputs.
      max_glimpses: draw at most this many glimpses of each map.

    Returns:
      uint8 [height, width, 3].
    """
    picture = (
        np.full((_CANVAS, _CANVAS, 3), 255, np.uint8)
        if image is None
        else viz.upscale_small(viz.to_uint8(image))
    )
    panels = []
    if hadamard_map is not None:
        drawn = _draw(picture, hadamard_map, boxes)
        if drawn is not None:
            panels.append(viz.caption_panel(drawn, ["Hadamard explanation"]))
    for name, maps in (attention or {}).items():
        for g, heat in enumerate(np.asarray(maps)[:max_glimpses]):
            drawn = _draw(picture, heat, boxes)
            if drawn is not None:
                panels.append(
                    viz.caption_panel(
                        drawn, [f"{name.split('/')[0]} glimpse {g + 1}"]
                    )
                )
    if not panels:
        panels.append(viz.caption_panel(picture, []))
    top = viz.grid(panels, columns=len(panels))
    width = top.shape[1]
    rows = [viz.caption_panel(top, list(lines), width=width)]
    if token_scores is not None and len(words):
        rows.append(
            viz.token_scores_panel(
                list(words), np.asarray(token_scores, np.float64), width=width
            )
        )
    return viz.grid(rows, columns=1, spacing=0)


def explain_batch(model, inputs, layer=None, guided=True):
    """The Hadamard explanation (None when the model has no Hadamard
    fusion) and the attention maps ({} without attention) of a batch."""
    explanation = (
        hadamard.hadamard_explanation(
            model, inputs, layer=layer, guided=guided
        )
        if hadamard.hadamard_layers(model)
        else None
    )
    maps = (
        attention_lib.attention_maps(model, inputs)
        if vqa_models.attention_axes(model)
        else {}
    )
    return explanation, maps


def batch_figures(
    model,
    inputs,
    words: Sequence[Sequence[str]],
    lines: Sequence[Sequence[str]],
    pixels: bool,
    layer=None,
    guided=True,
):
    """`explanation_figure` of every example of a batch.

    Args:
      model: a VQA zoo model.
      inputs: the batch.
      words: per example, the question's words at every position (padding
        included; T each).
      lines: per example, its caption lines.
      pixels: whether "image" holds pixels (else features, drawn on a blank
        canvas with the boxes if any).
      layer, guided: as in `hadamard_explanation`.

    Returns:
      A list of uint8 figures.
    """
    explanation, maps = explain_batch(model, inputs, layer, guided)
    mask = np.asarray(inputs["question"]) != 0
    boxes = np.asarray(inputs["boxes"]) if "boxes" in inputs else None
    out = []
    for i in range(mask.shape[0]):
        tokens = [w for w, keep in zip(words[i], mask[i]) if keep]
        out.append(
            explanation_figure(
                np.asarray(inputs["image"][i]) if pixels else None,
                tokens,
                lines[i],
                token_scores=(
                    None
                    if explanation is None
                    else explanation.token_scores[i][mask[i]]
                ),
                hadamard_map=(
                    None if explanation is None else explanation.image_map[i]
                ),
                attention={
                    name: m.image[i]
                    for name, m in maps.items()
                    if m.image is not None
                },
                boxes=None if boxes is None else boxes[i],
            )
        )
    return out
