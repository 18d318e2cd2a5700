"""Moved to mi_zoo.core.specs; this alias stays for one release.

Import `from mi_zoo.core import specs` instead.
"""

from mi_zoo.core.specs import *  # noqa: F401,F403
from mi_zoo.core.specs import ANSWER_CONVENTIONS  # noqa: F401
from mi_zoo.core.specs import IMAGE_KINDS  # noqa: F401
from mi_zoo.core.specs import MatchingSpec  # noqa: F401
from mi_zoo.core.specs import VqaSpec  # noqa: F401
from mi_zoo.core.specs import check_image  # noqa: F401
