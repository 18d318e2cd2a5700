"""CLEVR v1.0 (Johnson et al., CVPR 2017), read from the files you have: the
data room of one dataset.

- `reader`: the images, questions, programs and answers of `CLEVR_v1.0/`,
  the vocabularies and the `tf.data` pipeline. The module
  `mi_zoo.data.clevr` of old is now this package:
  Moved to mi_zoo.data.clevr.reader, whose names are re-exported here, so
  `from mi_zoo.data import clevr` works as before.
- `builder`: the TFDS builder (`tfds.builder("clevr_v1")`, once
  `mi_zoo.data.clevr_v1_builder`).

`python -m mi_zoo.data.clevr --manual_dir=... --vocab_dir=...` builds the
vocabularies and times one pass over val.
"""

from mi_zoo.data.clevr.reader import QUESTION_TYPES
from mi_zoo.data.clevr.reader import SPLITS
from mi_zoo.data.clevr.reader import Dict
from mi_zoo.data.clevr.reader import List
from mi_zoo.data.clevr.reader import Optional
from mi_zoo.data.clevr.reader import Sequence
from mi_zoo.data.clevr.reader import Tuple
from mi_zoo.data.clevr.reader import answer_ids
from mi_zoo.data.clevr.reader import build_answer_vocab
from mi_zoo.data.clevr.reader import clevr_dataset
from mi_zoo.data.clevr.reader import image_files
from mi_zoo.data.clevr.reader import images_lib
from mi_zoo.data.clevr.reader import json
from mi_zoo.data.clevr.reader import load_questions
from mi_zoo.data.clevr.reader import main
from mi_zoo.data.clevr.reader import np
from mi_zoo.data.clevr.reader import os
from mi_zoo.data.clevr.reader import per_type_accuracy
from mi_zoo.data.clevr.reader import question_type
from mi_zoo.data.clevr.reader import question_type_id
from mi_zoo.data.clevr.reader import sources
from mi_zoo.data.clevr.reader import split_paths
from mi_zoo.data.clevr.reader import sys
from mi_zoo.data.clevr.reader import text_vocab
from mi_zoo.data.clevr.reader import tf
from mi_zoo.data.clevr.reader import throughput
from mi_zoo.data.clevr.reader import validation
from mi_zoo.data.clevr.reader import vocabulary
