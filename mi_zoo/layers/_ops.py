"""Moved to mi_zoo.layers.ops; this alias stays for one release.

Import `from mi_zoo.layers import ops` instead.
"""

from mi_zoo.layers.ops import *  # noqa: F401,F403
from mi_zoo.layers.ops import broadcast_context  # noqa: F401
from mi_zoo.layers.ops import matmul_last  # noqa: F401
