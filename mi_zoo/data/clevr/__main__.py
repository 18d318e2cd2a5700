"""`python -m mi_zoo.data.clevr --manual_dir=...`: the reader's command
(see `mi_zoo.data.clevr.reader`)."""

import sys

from mi_zoo.data.clevr import reader

if __name__ == "__main__":
    reader.main(sys.argv[1:])
