"""Moved to mi_zoo.models.backbones (issue 18: a VQA model may hold a
feature backbone, so the registry lives on the models' floor); this alias
stays for one release.

Import `from mi_zoo.models import backbones` (or `from mi_zoo import
features`, which re-exports its names) instead.
"""

from mi_zoo.models.backbones import *  # noqa: F401,F403
from mi_zoo.models.backbones import BACKBONES  # noqa: F401
from mi_zoo.models.backbones import NAMED_WEIGHTS  # noqa: F401
from mi_zoo.models.backbones import Backbone  # noqa: F401
from mi_zoo.models.backbones import check_weights  # noqa: F401
from mi_zoo.models.backbones import grid_boxes  # noqa: F401
from mi_zoo.models.backbones import grid_model  # noqa: F401
