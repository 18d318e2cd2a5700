"""Moved to mi_zoo.layers.mi_contraction; this alias stays for one release.

Import `from mi_zoo.layers import mi_contraction` instead.
"""

from mi_zoo.layers.mi_contraction import *  # noqa: F401,F403
from mi_zoo.layers.mi_contraction import CONTRACTIONS  # noqa: F401
from mi_zoo.layers.mi_contraction import choose_contraction  # noqa: F401
