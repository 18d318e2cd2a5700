"""Moved to mi_zoo.data.text.corpora (issue 15): this alias is kept for one release.

The corpus readers live in the text room, `mi_zoo/data/text/`; run the
statistics as `python -m mi_zoo.data.text.corpora` (run as
`python -m mi_zoo.data.text_corpora`, this alias still runs them).
"""

# ruff: noqa: F401  (an alias module: it only re-exports)

from mi_zoo.data.text.corpora import CORPORA
from mi_zoo.data.text.corpora import EOS
from mi_zoo.data.text.corpora import LEVELS
from mi_zoo.data.text.corpora import PTB_FILES
from mi_zoo.data.text.corpora import SPLITS
from mi_zoo.data.text.corpora import TFDS_FRACTIONS
from mi_zoo.data.text.corpora import TINY_SHAKESPEARE_FILE
from mi_zoo.data.text.corpora import WIKITEXT_FILES
from mi_zoo.data.text.corpora import Callable
from mi_zoo.data.text.corpora import Corpus
from mi_zoo.data.text.corpora import Dict
from mi_zoo.data.text.corpora import List
from mi_zoo.data.text.corpora import Optional
from mi_zoo.data.text.corpora import Sequence
from mi_zoo.data.text.corpora import Tuple
from mi_zoo.data.text.corpora import dataclasses
from mi_zoo.data.text.corpora import load_corpus
from mi_zoo.data.text.corpora import main
from mi_zoo.data.text.corpora import os
from mi_zoo.data.text.corpora import read_ptb
from mi_zoo.data.text.corpora import read_text
from mi_zoo.data.text.corpora import read_text_file
from mi_zoo.data.text.corpora import read_tiny_shakespeare
from mi_zoo.data.text.corpora import read_wikitext
from mi_zoo.data.text.corpora import report
from mi_zoo.data.text.corpora import split_by_fraction
from mi_zoo.data.text.corpora import tokenize
from mi_zoo.data.text.corpora import validation
from mi_zoo.data.text.corpora import vocabulary_lib

if __name__ == "__main__":
    main()
