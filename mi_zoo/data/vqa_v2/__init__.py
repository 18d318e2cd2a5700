"""VQA v2 (Goyal et al., CVPR 2017), read from the files you have: the data
room of one dataset.

- `reader`: the official questions and annotations JSON, the bottom-up
  region features (TSV converted once to NumPy, or BAN's HDF5, fixed or
  adaptive boxes), the question and answer vocabularies and the `tf.data`
  pipeline. The module `mi_zoo.data.vqa_v2` of old is now this package:
  Moved to mi_zoo.data.vqa_v2.reader, whose names are re-exported here, so
  `from mi_zoo.data import vqa_v2` works as before.
- `builder`: the TFDS builder (`tfds.builder("vqa_v2")`, once
  `mi_zoo.data.vqa_v2_builder`).

The answer helpers stay at the top, in `mi_zoo.data.vqa_answers`: the
official VQA evaluation, the answer normalisation and `AnswerVocab` are
the VQA format's, not this dataset's (CLEVR's answer_vocab.json is read with
`AnswerVocab.load` too).

`python -m mi_zoo.data.vqa_v2 --convert_tsv=... --out_dir=...` converts the
TSV features once; `python -m mi_zoo.data.vqa_v2 --manual_dir=...
--features=... --vocab_dir=...` builds the vocabularies and times one pass
over val.
"""

from mi_zoo.data.vqa_v2.reader import ANNOTATIONS_FILE
from mi_zoo.data.vqa_v2.reader import ANSWER_TYPES
from mi_zoo.data.vqa_v2.reader import QUESTIONS_FILE
from mi_zoo.data.vqa_v2.reader import TSV_FIELDS
from mi_zoo.data.vqa_v2.reader import Dict
from mi_zoo.data.vqa_v2.reader import FeatureStore
from mi_zoo.data.vqa_v2.reader import Iterator
from mi_zoo.data.vqa_v2.reader import List
from mi_zoo.data.vqa_v2.reader import Optional
from mi_zoo.data.vqa_v2.reader import Sequence
from mi_zoo.data.vqa_v2.reader import Tuple
from mi_zoo.data.vqa_v2.reader import base64
from mi_zoo.data.vqa_v2.reader import convert_tsv
from mi_zoo.data.vqa_v2.reader import csv
from mi_zoo.data.vqa_v2.reader import dense_targets
from mi_zoo.data.vqa_v2.reader import iter_examples
from mi_zoo.data.vqa_v2.reader import load_annotations
from mi_zoo.data.vqa_v2.reader import load_questions
from mi_zoo.data.vqa_v2.reader import main
from mi_zoo.data.vqa_v2.reader import np
from mi_zoo.data.vqa_v2.reader import os
from mi_zoo.data.vqa_v2.reader import pickle
from mi_zoo.data.vqa_v2.reader import sources
from mi_zoo.data.vqa_v2.reader import split_files
from mi_zoo.data.vqa_v2.reader import sys
from mi_zoo.data.vqa_v2.reader import text_vocab
from mi_zoo.data.vqa_v2.reader import tf
from mi_zoo.data.vqa_v2.reader import threading
from mi_zoo.data.vqa_v2.reader import throughput
from mi_zoo.data.vqa_v2.reader import validation
from mi_zoo.data.vqa_v2.reader import vocabulary
from mi_zoo.data.vqa_v2.reader import vqa_answers
from mi_zoo.data.vqa_v2.reader import vqa_v2_dataset
