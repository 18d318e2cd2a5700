"""Visual explanations of multimodal models and the rendering of figures.

`mi_zoo.explain.figures` draws VQA examples, attention maps, region weights
and per-token scores as uint8 RGB arrays (NumPy + Pillow, no TensorFlow) for
TensorBoard image summaries and PNG files.
"""

from mi_zoo.explain import figures
from mi_zoo.explain.figures import apply_colormap
from mi_zoo.explain.figures import box_overlay
from mi_zoo.explain.figures import caption_panel
from mi_zoo.explain.figures import grid
from mi_zoo.explain.figures import heatmap_overlay
from mi_zoo.explain.figures import load_font
from mi_zoo.explain.figures import normalize_heat
from mi_zoo.explain.figures import pad_to_same_size
from mi_zoo.explain.figures import save_png
from mi_zoo.explain.figures import score_colors
from mi_zoo.explain.figures import to_uint8
from mi_zoo.explain.figures import token_scores_panel
from mi_zoo.explain.figures import upsample_heat
from mi_zoo.explain.figures import upscale_small

__all__ = [
    "apply_colormap",
    "box_overlay",
    "caption_panel",
    "figures",
    "grid",
    "heatmap_overlay",
    "load_font",
    "normalize_heat",
    "pad_to_same_size",
    "save_png",
    "score_colors",
    "to_uint8",
    "token_scores_panel",
    "upsample_heat",
    "upscale_small",
]
