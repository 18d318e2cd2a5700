"""Moved to mi_zoo.data.clevr_2d.programs (issue 15): this alias is kept for one release.

The CLEVR-2D programs live in the dataset's room, `mi_zoo/data/clevr_2d/`.
"""

# ruff: noqa: F401  (an alias module: it only re-exports)

from mi_zoo.data.clevr_2d.programs import ANSWERS
from mi_zoo.data.clevr_2d.programs import ATTRIBUTES
from mi_zoo.data.clevr_2d.programs import COLORS
from mi_zoo.data.clevr_2d.programs import MATERIALS
from mi_zoo.data.clevr_2d.programs import MAX_COUNT
from mi_zoo.data.clevr_2d.programs import NOUN_WORDS
from mi_zoo.data.clevr_2d.programs import QUESTION_TYPES
from mi_zoo.data.clevr_2d.programs import RELATION_WORDS
from mi_zoo.data.clevr_2d.programs import RELATIONS
from mi_zoo.data.clevr_2d.programs import SHAPES
from mi_zoo.data.clevr_2d.programs import SIZES
from mi_zoo.data.clevr_2d.programs import TEMPLATES
from mi_zoo.data.clevr_2d.programs import AnswerBalancer
from mi_zoo.data.clevr_2d.programs import ProgramError
from mi_zoo.data.clevr_2d.programs import collections
from mi_zoo.data.clevr_2d.programs import execute
from mi_zoo.data.clevr_2d.programs import noun_phrase
from mi_zoo.data.clevr_2d.programs import re
from mi_zoo.data.clevr_2d.programs import run
from mi_zoo.data.clevr_2d.programs import sample_question
from mi_zoo.data.clevr_2d.programs import sample_reference
from mi_zoo.data.clevr_2d.programs import sample_set
