"""Moved to mi_zoo.data.text.lm_dataset (issue 15): this alias is kept for one release.

The BPTT batches live in the text room, `mi_zoo/data/text/`.
"""

# ruff: noqa: F401  (an alias module: it only re-exports)

from mi_zoo.data.text.lm_dataset import batchify
from mi_zoo.data.text.lm_dataset import lm_dataset
from mi_zoo.data.text.lm_dataset import math
from mi_zoo.data.text.lm_dataset import np
from mi_zoo.data.text.lm_dataset import num_batches
from mi_zoo.data.text.lm_dataset import tf
from mi_zoo.data.text.lm_dataset import validation
