"""Sort-of-CLEVR (Santoro et al., NeurIPS 2017), generated in NumPy: the
data room of one dataset.

- `generator`: the images, questions and answers (pure NumPy; conventions
  in its docstring). The module `mi_zoo.data.sort_of_clevr` of old is now
  this package: Moved to mi_zoo.data.sort_of_clevr.generator, whose names
  are re-exported here, so `from mi_zoo.data import sort_of_clevr` works as
  before.
- `builder`: the TFDS builder (`tfds.builder("sort_of_clevr")`, once
  `mi_zoo.data.sort_of_clevr_builder`) and the `tf.data` pipelines.
- `contact_sheet`: a PNG of images with their questions
  (`python -m mi_zoo.data.sort_of_clevr.contact_sheet --output=...`, once
  `mi_zoo.data.sort_of_clevr_contact_sheet`).

`python -m mi_zoo.data.sort_of_clevr --num_images=2500` prints the speed of
the generator.
"""

from mi_zoo.data.sort_of_clevr.generator import ANSWERS
from mi_zoo.data.sort_of_clevr.generator import BACKGROUND
from mi_zoo.data.sort_of_clevr.generator import CIRCLE
from mi_zoo.data.sort_of_clevr.generator import COLOURS
from mi_zoo.data.sort_of_clevr.generator import COUNT_OFFSET
from mi_zoo.data.sort_of_clevr.generator import DEFAULT_IMAGE_SIZE
from mi_zoo.data.sort_of_clevr.generator import DEFAULT_NUM_OBJECTS
from mi_zoo.data.sort_of_clevr.generator import DEFAULT_QUESTIONS_PER_IMAGE
from mi_zoo.data.sort_of_clevr.generator import NO
from mi_zoo.data.sort_of_clevr.generator import PAD_ID
from mi_zoo.data.sort_of_clevr.generator import PALETTE
from mi_zoo.data.sort_of_clevr.generator import QUESTION_FAMILIES
from mi_zoo.data.sort_of_clevr.generator import QUESTION_LENGTH
from mi_zoo.data.sort_of_clevr.generator import QUESTION_TYPES
from mi_zoo.data.sort_of_clevr.generator import QUESTION_VECTOR_SIZE
from mi_zoo.data.sort_of_clevr.generator import SHAPES
from mi_zoo.data.sort_of_clevr.generator import SQUARE
from mi_zoo.data.sort_of_clevr.generator import VOCAB
from mi_zoo.data.sort_of_clevr.generator import YES
from mi_zoo.data.sort_of_clevr.generator import Dict
from mi_zoo.data.sort_of_clevr.generator import Iterator
from mi_zoo.data.sort_of_clevr.generator import Optional
from mi_zoo.data.sort_of_clevr.generator import Tuple
from mi_zoo.data.sort_of_clevr.generator import answer_questions
from mi_zoo.data.sort_of_clevr.generator import circle_limit
from mi_zoo.data.sort_of_clevr.generator import decode_question_vector
from mi_zoo.data.sort_of_clevr.generator import default_object_size
from mi_zoo.data.sort_of_clevr.generator import detokenize
from mi_zoo.data.sort_of_clevr.generator import encode_question_vector
from mi_zoo.data.sort_of_clevr.generator import generate
from mi_zoo.data.sort_of_clevr.generator import generate_arrays
from mi_zoo.data.sort_of_clevr.generator import main
from mi_zoo.data.sort_of_clevr.generator import make_questions
from mi_zoo.data.sort_of_clevr.generator import make_scene
from mi_zoo.data.sort_of_clevr.generator import np
from mi_zoo.data.sort_of_clevr.generator import object_boxes
from mi_zoo.data.sort_of_clevr.generator import question_text
from mi_zoo.data.sort_of_clevr.generator import render
from mi_zoo.data.sort_of_clevr.generator import time
from mi_zoo.data.sort_of_clevr.generator import tokenize
