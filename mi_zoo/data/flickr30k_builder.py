"""Moved to mi_zoo.data.flickr30k.builder (issue 15): this alias is kept for one release.

The Flickr30k TFDS builder (still registered as "flickr30k", same name,
version and configs) lives in the dataset's room, `mi_zoo/data/flickr30k/`.
"""

# ruff: noqa: F401  (an alias module: it only re-exports)

from mi_zoo.data.flickr30k.builder import Flickr30k
from mi_zoo.data.flickr30k.builder import Flickr30kConfig
from mi_zoo.data.flickr30k.builder import dataclasses
from mi_zoo.data.flickr30k.builder import flickr30k
from mi_zoo.data.flickr30k.builder import os
from mi_zoo.data.flickr30k.builder import tfds
from mi_zoo.data.flickr30k.builder import tfds_manual
from mi_zoo.data.flickr30k.builder import validation
