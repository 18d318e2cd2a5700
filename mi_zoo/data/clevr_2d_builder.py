"""Moved to mi_zoo.data.clevr_2d.builder (issue 15): this alias is kept for one release.

The CLEVR-2D TFDS builder (still registered as "clevr2d", same name, version
and configs) lives in the dataset's room, `mi_zoo/data/clevr_2d/`.
"""

# ruff: noqa: F401  (an alias module: it only re-exports)

from mi_zoo.data.clevr_2d.builder import IMAGE_KINDS
from mi_zoo.data.clevr_2d.builder import MAX_REGIONS
from mi_zoo.data.clevr_2d.builder import REGION_ATTRIBUTES
from mi_zoo.data.clevr_2d.builder import REGION_FEATURES
from mi_zoo.data.clevr_2d.builder import SPLIT_SEEDS
from mi_zoo.data.clevr_2d.builder import Clevr2d
from mi_zoo.data.clevr_2d.builder import Clevr2dConfig
from mi_zoo.data.clevr_2d.builder import clevr_2d
from mi_zoo.data.clevr_2d.builder import clevr_2d_dataset
from mi_zoo.data.clevr_2d.builder import dataclasses
from mi_zoo.data.clevr_2d.builder import example_inputs
from mi_zoo.data.clevr_2d.builder import generated_builder
from mi_zoo.data.clevr_2d.builder import json
from mi_zoo.data.clevr_2d.builder import np
from mi_zoo.data.clevr_2d.builder import region_features
from mi_zoo.data.clevr_2d.builder import sources
from mi_zoo.data.clevr_2d.builder import split_examples
from mi_zoo.data.clevr_2d.builder import tf
from mi_zoo.data.clevr_2d.builder import tfds
from mi_zoo.data.clevr_2d.builder import validation
