"""Visual explanations of multimodal models and the rendering of figures.

- `hadamard`: Kim & Zhang's explanations from a Hadamard-product fusion,
  ∇_v = (V − F) ∂V/∂I and ∇_q = (Q − F) ∂Q/∂q, as pixel (or region) maps
  and token z-scores (`hadamard_explanation`).
- `guided`: `guided_backprop(model)`, a context that makes a model's
  ReLUs guided in the backward pass only.
- `attention`: the attention maps of the VQA zoo's models laid onto the
  image (`attention_maps`).
- `pointing`: the pointing game on CLEVR-2D (does a map point at the
  objects the question is about?).
- `explanation_figure`: the figure of an explanation (image, maps, token
  scores), drawn with `mi_zoo.viz` (the general drawing library, once
  `explain.figures`) for PNG files and TensorBoard image summaries.

The `explain` binary (`python -m mi_zoo.experiments.explain`) writes the
figures and the pointing-game table of a trained run.
"""

from mi_zoo.explain import attention
from mi_zoo.explain import explanation_figure
from mi_zoo.explain import guided
from mi_zoo.explain import hadamard
from mi_zoo.explain import pointing
from mi_zoo.explain.attention import AttentionMap
from mi_zoo.explain.attention import attention_maps
from mi_zoo.explain.explanation_figure import batch_figures
from mi_zoo.explain.explanation_figure import explain_batch
from mi_zoo.explain.guided import guided_backprop
from mi_zoo.explain.guided import guided_relu
from mi_zoo.explain.hadamard import HadamardExplanation
from mi_zoo.explain.hadamard import hadamard_explanation
from mi_zoo.explain.hadamard import hadamard_layers
from mi_zoo.explain.pointing import PointingGame
from mi_zoo.explain.pointing import referents
from mi_zoo.viz import apply_colormap
from mi_zoo.viz import box_overlay
from mi_zoo.viz import caption_panel
from mi_zoo.viz import grid
from mi_zoo.viz import heatmap_overlay
from mi_zoo.viz import load_font
from mi_zoo.viz import normalize_heat
from mi_zoo.viz import pad_to_same_size
from mi_zoo.viz import save_png
from mi_zoo.viz import score_colors
from mi_zoo.viz import to_uint8
from mi_zoo.viz import token_scores_panel
from mi_zoo.viz import upsample_heat
from mi_zoo.viz import upscale_small

__all__ = [
    "AttentionMap",
    "HadamardExplanation",
    "PointingGame",
    "apply_colormap",
    "attention",
    "attention_maps",
    "batch_figures",
    "box_overlay",
    "caption_panel",
    "explain_batch",
    "explanation_figure",
    "grid",
    "guided",
    "guided_backprop",
    "guided_relu",
    "hadamard",
    "hadamard_explanation",
    "hadamard_layers",
    "heatmap_overlay",
    "load_font",
    "normalize_heat",
    "pad_to_same_size",
    "pointing",
    "referents",
    "save_png",
    "score_colors",
    "to_uint8",
    "token_scores_panel",
    "upsample_heat",
    "upscale_small",
]
