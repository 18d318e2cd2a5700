"""CLEVR-2D (CLEVR's attributes and question types in 2-D), generated in
NumPy: the data room of one dataset.

- `generator`: the scenes, questions, programs' answers and captions (pure
  NumPy; conventions in its docstring). The module `mi_zoo.data.clevr_2d` of
  old is now this package: Moved to mi_zoo.data.clevr_2d.generator, whose
  names are re-exported here, so `from mi_zoo.data import clevr_2d` works as
  before.
- `programs`: the functional programs, their interpreter, the question
  templates and the answer balancer (once `mi_zoo.data.clevr_2d_programs`).
- `builder`: the TFDS builder (`tfds.builder("clevr2d")`, once
  `mi_zoo.data.clevr_2d_builder`) and the `tf.data` pipeline.
- `contact_sheet`: a PNG of images with their questions and answers
  (`python -m mi_zoo.data.clevr_2d.contact_sheet --output=...`, once
  `mi_zoo.data.clevr_2d_contact_sheet`).

`python -m mi_zoo.data.clevr_2d --num_examples=50000 --num_workers=2` prints
the speed of the generator.
"""

from mi_zoo.data.clevr_2d.generator import ANSWERS
from mi_zoo.data.clevr_2d.generator import ATTRIBUTES
from mi_zoo.data.clevr_2d.generator import BACKGROUND
from mi_zoo.data.clevr_2d.generator import CAPTION_LENGTH
from mi_zoo.data.clevr_2d.generator import CAPTION_TEMPLATES
from mi_zoo.data.clevr_2d.generator import CHUNK_SIZE
from mi_zoo.data.clevr_2d.generator import COLORS
from mi_zoo.data.clevr_2d.generator import DEFAULT_IMAGE_SIZE
from mi_zoo.data.clevr_2d.generator import DEFAULT_MAX_OBJECTS
from mi_zoo.data.clevr_2d.generator import DEFAULT_MIN_OBJECTS
from mi_zoo.data.clevr_2d.generator import MATERIALS
from mi_zoo.data.clevr_2d.generator import MIN_CENTRE_GAP
from mi_zoo.data.clevr_2d.generator import PAD_ID
from mi_zoo.data.clevr_2d.generator import QUESTION_LENGTH
from mi_zoo.data.clevr_2d.generator import QUESTION_TYPES
from mi_zoo.data.clevr_2d.generator import RADIUS
from mi_zoo.data.clevr_2d.generator import RGB
from mi_zoo.data.clevr_2d.generator import SHAPES
from mi_zoo.data.clevr_2d.generator import SIZES
from mi_zoo.data.clevr_2d.generator import UNK_ID
from mi_zoo.data.clevr_2d.generator import VOCAB
from mi_zoo.data.clevr_2d.generator import ProgramError
from mi_zoo.data.clevr_2d.generator import answer_id
from mi_zoo.data.clevr_2d.generator import caption
from mi_zoo.data.clevr_2d.generator import encode
from mi_zoo.data.clevr_2d.generator import execute
from mi_zoo.data.clevr_2d.generator import generate
from mi_zoo.data.clevr_2d.generator import main
from mi_zoo.data.clevr_2d.generator import multiprocessing
from mi_zoo.data.clevr_2d.generator import np
from mi_zoo.data.clevr_2d.generator import programs
from mi_zoo.data.clevr_2d.generator import re
from mi_zoo.data.clevr_2d.generator import render
from mi_zoo.data.clevr_2d.generator import sample_scene
from mi_zoo.data.clevr_2d.generator import time
from mi_zoo.data.clevr_2d.generator import tokenize
from mi_zoo.data.clevr_2d.generator import validation
