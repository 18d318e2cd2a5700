"""Moved to mi_zoo.data.sort_of_clevr.builder (issue 15): this alias is kept for one release.

The Sort-of-CLEVR TFDS builder (still registered as "sort_of_clevr", same
name, version and configs) lives in the dataset's room,
`mi_zoo/data/sort_of_clevr/`.
"""

# ruff: noqa: F401  (an alias module: it only re-exports)

from mi_zoo.data.sort_of_clevr.builder import QUESTION_FORMATS
from mi_zoo.data.sort_of_clevr.builder import SOURCES
from mi_zoo.data.sort_of_clevr.builder import SPLIT_SEEDS
from mi_zoo.data.sort_of_clevr.builder import SPLITS
from mi_zoo.data.sort_of_clevr.builder import Optional
from mi_zoo.data.sort_of_clevr.builder import SortOfClevr
from mi_zoo.data.sort_of_clevr.builder import SortOfClevrConfig
from mi_zoo.data.sort_of_clevr.builder import Union
from mi_zoo.data.sort_of_clevr.builder import _config
from mi_zoo.data.sort_of_clevr.builder import dataclasses
from mi_zoo.data.sort_of_clevr.builder import generated_builder
from mi_zoo.data.sort_of_clevr.builder import np
from mi_zoo.data.sort_of_clevr.builder import os
from mi_zoo.data.sort_of_clevr.builder import soc
from mi_zoo.data.sort_of_clevr.builder import sort_of_clevr_dataset
from mi_zoo.data.sort_of_clevr.builder import specs
from mi_zoo.data.sort_of_clevr.builder import tf
from mi_zoo.data.sort_of_clevr.builder import tfds
from mi_zoo.data.sort_of_clevr.builder import vqa_spec
