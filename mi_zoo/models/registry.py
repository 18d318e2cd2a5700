"""Moved to mi_zoo.core.registry; this alias stays for one release.

Import `from mi_zoo.core import registry` (or `mi_zoo.core.registry.Registry`)
instead.
"""

from mi_zoo.core.registry import *  # noqa: F401,F403
from mi_zoo.core.registry import Registry  # noqa: F401
