"""Figures and plots as uint8 RGB arrays (NumPy + Pillow, no TensorFlow).

The general drawing library of mi_zoo, used by the explanations, the tasks'
TensorBoard images, the data contact sheets and the benchmark plots:

- `images`: `to_uint8` (float [0, 1] or uint8, RGB or grey -> uint8
  [H, W, 3]), `upscale_small`, `save_png`.
- `colors`: colour maps (`apply_colormap`: "jet", "coolwarm", "gray") and
  the colours of signed scores (`score_colors`).
- `heat`: `normalize_heat`, `upsample_heat`, `heatmap_overlay`.
- `boxes`: `box_overlay`, region boxes whose opacity follows a weight.
- `text`: `load_font`, `caption_panel` (an image over wrapped text lines),
  `token_scores_panel` (words on backgrounds coloured by score).
- `grids`: `pad_to_same_size`, `grid`.
- `plots`: a framed plot canvas, line colours, legend entries.

Only NumPy and Pillow are used (Pillow's default font; no matplotlib), so the
figures render the same on any machine. `mi_zoo.viz` imports nothing of
mi_zoo but `mi_zoo.core` (docs/layout.md).

>>> import numpy as np
>>> from mi_zoo import viz
>>> image = np.zeros((32, 32, 3), np.float32)
>>> heat = np.zeros((14, 14)); heat[2, 11] = 1.0
>>> viz.heatmap_overlay(image, heat, alpha=0.5).shape
(32, 32, 3)
>>> viz.caption_panel(image, ["Q: what colour is the cube"]).shape[1]
192
"""

from mi_zoo.viz import boxes
from mi_zoo.viz import colors
from mi_zoo.viz import grids
from mi_zoo.viz import heat
from mi_zoo.viz import images
from mi_zoo.viz import plots
from mi_zoo.viz import text
from mi_zoo.viz.boxes import BOX_FORMATS
from mi_zoo.viz.boxes import box_overlay
from mi_zoo.viz.colors import BLACK
from mi_zoo.viz.colors import COLORMAPS
from mi_zoo.viz.colors import WHITE
from mi_zoo.viz.colors import apply_colormap
from mi_zoo.viz.colors import score_colors
from mi_zoo.viz.grids import grid
from mi_zoo.viz.grids import pad_to_same_size
from mi_zoo.viz.heat import heatmap_overlay
from mi_zoo.viz.heat import normalize_heat
from mi_zoo.viz.heat import upsample_heat
from mi_zoo.viz.images import MIN_SHORT_SIDE
from mi_zoo.viz.images import save_png
from mi_zoo.viz.images import to_uint8
from mi_zoo.viz.images import upscale_small
from mi_zoo.viz.text import caption_panel
from mi_zoo.viz.text import load_font
from mi_zoo.viz.text import token_scores_panel

__all__ = [
    "BLACK",
    "BOX_FORMATS",
    "COLORMAPS",
    "MIN_SHORT_SIDE",
    "WHITE",
    "apply_colormap",
    "box_overlay",
    "boxes",
    "caption_panel",
    "colors",
    "grid",
    "grids",
    "heat",
    "heatmap_overlay",
    "images",
    "load_font",
    "normalize_heat",
    "pad_to_same_size",
    "plots",
    "save_png",
    "score_colors",
    "text",
    "to_uint8",
    "token_scores_panel",
    "upsample_heat",
    "upscale_small",
]
