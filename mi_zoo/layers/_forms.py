"""Moved to mi_zoo.layers.mi_forms; this alias stays for one release.

Import `from mi_zoo.layers import mi_forms` instead.
"""

from mi_zoo.layers.mi_forms import *  # noqa: F401,F403
from mi_zoo.layers.mi_forms import FORMS  # noqa: F401
from mi_zoo.layers.mi_forms import check_arguments  # noqa: F401
from mi_zoo.layers.mi_forms import sizes  # noqa: F401
from mi_zoo.layers.mi_forms import variable_plan  # noqa: F401
