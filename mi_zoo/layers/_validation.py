"""Moved to mi_zoo.core.validation; this alias stays for one release.

Import `from mi_zoo.core import validation` instead.
"""

from mi_zoo.core.validation import *  # noqa: F401,F403
from mi_zoo.core.validation import Shape  # noqa: F401
from mi_zoo.core.validation import check_axis  # noqa: F401
from mi_zoo.core.validation import check_choice  # noqa: F401
from mi_zoo.core.validation import check_film_axis  # noqa: F401
from mi_zoo.core.validation import check_input_context_shapes  # noqa: F401
from mi_zoo.core.validation import check_positive_int  # noqa: F401
from mi_zoo.core.validation import film_channel_axis  # noqa: F401
from mi_zoo.core.validation import rows_per_context  # noqa: F401
