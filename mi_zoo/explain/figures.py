"""Moved to mi_zoo.viz (issue 15): this alias is kept for one release.

The general drawing library (images, colour maps, heat maps, boxes, text,
grids) lives in `mi_zoo.viz`, which the explanations, tasks, data contact
sheets and benchmark plots share; import it from there.
"""

# ruff: noqa: F401  (an alias module: it only re-exports)

from mi_zoo.viz import BLACK
from mi_zoo.viz import BOX_FORMATS
from mi_zoo.viz import COLORMAPS
from mi_zoo.viz import MIN_SHORT_SIDE
from mi_zoo.viz import WHITE
from mi_zoo.viz import apply_colormap
from mi_zoo.viz import box_overlay
from mi_zoo.viz import boxes
from mi_zoo.viz import caption_panel
from mi_zoo.viz import colors
from mi_zoo.viz import grid
from mi_zoo.viz import grids
from mi_zoo.viz import heat
from mi_zoo.viz import heatmap_overlay
from mi_zoo.viz import images
from mi_zoo.viz import load_font
from mi_zoo.viz import normalize_heat
from mi_zoo.viz import pad_to_same_size
from mi_zoo.viz import plots
from mi_zoo.viz import save_png
from mi_zoo.viz import score_colors
from mi_zoo.viz import text
from mi_zoo.viz import to_uint8
from mi_zoo.viz import token_scores_panel
from mi_zoo.viz import upsample_heat
from mi_zoo.viz import upscale_small
