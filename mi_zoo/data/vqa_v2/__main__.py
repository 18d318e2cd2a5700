"""`python -m mi_zoo.data.vqa_v2 --manual_dir=...`: the reader's command
(see `mi_zoo.data.vqa_v2.reader`)."""

import sys

from mi_zoo.data.vqa_v2 import reader

if __name__ == "__main__":
    reader.main(sys.argv[1:])
