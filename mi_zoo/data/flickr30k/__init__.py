"""Flickr30k (Young et al., TACL 2014), read from the files you have: the data
room of one dataset.

- `reader`: the images and captions of a manual directory, the caption
  vocabulary and the `tf.data` pipeline. The module `mi_zoo.data.flickr30k`
  of old is now this package: Moved to mi_zoo.data.flickr30k.reader, whose
  names are re-exported here, so `from mi_zoo.data import flickr30k` works
  as before.
- `builder`: the TFDS builder (`tfds.builder("flickr30k")`, once
  `mi_zoo.data.flickr30k_builder`).

`python -m mi_zoo.data.flickr30k --manual_dir=... --vocab=...` builds the
caption vocabulary and times one pass over test.
"""

from mi_zoo.data.flickr30k.reader import IMAGES_DIR
from mi_zoo.data.flickr30k.reader import KARPATHY_FILE
from mi_zoo.data.flickr30k.reader import SOURCES
from mi_zoo.data.flickr30k.reader import TOKEN_FILE
from mi_zoo.data.flickr30k.reader import Dict
from mi_zoo.data.flickr30k.reader import List
from mi_zoo.data.flickr30k.reader import Optional
from mi_zoo.data.flickr30k.reader import Sequence
from mi_zoo.data.flickr30k.reader import Tuple
from mi_zoo.data.flickr30k.reader import build_vocab
from mi_zoo.data.flickr30k.reader import flickr30k_dataset
from mi_zoo.data.flickr30k.reader import images_lib
from mi_zoo.data.flickr30k.reader import main
from mi_zoo.data.flickr30k.reader import np
from mi_zoo.data.flickr30k.reader import os
from mi_zoo.data.flickr30k.reader import re
from mi_zoo.data.flickr30k.reader import read_karpathy_split
from mi_zoo.data.flickr30k.reader import read_token_file
from mi_zoo.data.flickr30k.reader import sources
from mi_zoo.data.flickr30k.reader import split_examples
from mi_zoo.data.flickr30k.reader import sys
from mi_zoo.data.flickr30k.reader import text_vocab
from mi_zoo.data.flickr30k.reader import tf
from mi_zoo.data.flickr30k.reader import throughput
from mi_zoo.data.flickr30k.reader import validation
from mi_zoo.data.flickr30k.reader import vocabulary
