"""Moved to mi_zoo.data.vqa_v2.builder (issue 15): this alias is kept for one release.

The VQA v2 TFDS builder (still registered as "vqa_v2", same name, version
and configs) lives in the dataset's room, `mi_zoo/data/vqa_v2/`.
"""

# ruff: noqa: F401  (an alias module: it only re-exports)

from mi_zoo.data.vqa_v2.builder import SPLITS
from mi_zoo.data.vqa_v2.builder import TARGETS
from mi_zoo.data.vqa_v2.builder import Optional
from mi_zoo.data.vqa_v2.builder import Union
from mi_zoo.data.vqa_v2.builder import VqaV2
from mi_zoo.data.vqa_v2.builder import VqaV2Config
from mi_zoo.data.vqa_v2.builder import answer_vocab
from mi_zoo.data.vqa_v2.builder import dataclasses
from mi_zoo.data.vqa_v2.builder import np
from mi_zoo.data.vqa_v2.builder import tf
from mi_zoo.data.vqa_v2.builder import tfds
from mi_zoo.data.vqa_v2.builder import tfds_manual
from mi_zoo.data.vqa_v2.builder import validation
from mi_zoo.data.vqa_v2.builder import vocabulary
from mi_zoo.data.vqa_v2.builder import vqa_answers
from mi_zoo.data.vqa_v2.builder import vqa_scores
from mi_zoo.data.vqa_v2.builder import vqa_v2
from mi_zoo.data.vqa_v2.builder import vqa_v2_tfds_dataset
