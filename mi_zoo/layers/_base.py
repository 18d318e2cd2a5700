"""Moved to mi_zoo.layers.base; this alias stays for one release.

Import `from mi_zoo.layers import base` instead.
"""

from mi_zoo.layers.base import *  # noqa: F401,F403
from mi_zoo.layers.base import WeightedLayer  # noqa: F401
