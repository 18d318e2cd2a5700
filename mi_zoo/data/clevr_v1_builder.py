"""Moved to mi_zoo.data.clevr.builder (issue 15): this alias is kept for one release.

The CLEVR v1.0 TFDS builder (still registered as "clevr_v1", same name,
version and configs) lives in the dataset's room, `mi_zoo/data/clevr/`.
"""

# ruff: noqa: F401  (an alias module: it only re-exports)

from mi_zoo.data.clevr.builder import SPLITS
from mi_zoo.data.clevr.builder import ClevrV1
from mi_zoo.data.clevr.builder import Optional
from mi_zoo.data.clevr.builder import Tuple
from mi_zoo.data.clevr.builder import clevr
from mi_zoo.data.clevr.builder import clevr_v1_dataset
from mi_zoo.data.clevr.builder import collections
from mi_zoo.data.clevr.builder import images_lib
from mi_zoo.data.clevr.builder import np
from mi_zoo.data.clevr.builder import os
from mi_zoo.data.clevr.builder import tf
from mi_zoo.data.clevr.builder import tfds
from mi_zoo.data.clevr.builder import tfds_manual
from mi_zoo.data.clevr.builder import validation
from mi_zoo.data.clevr.builder import vocabulary
