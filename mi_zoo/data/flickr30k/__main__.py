"""`python -m mi_zoo.data.flickr30k --manual_dir=...`: the reader's command
(see `mi_zoo.data.flickr30k.reader`)."""

import sys

from mi_zoo.data.flickr30k import reader

if __name__ == "__main__":
    reader.main(sys.argv[1:])
