"""Moved to mi_zoo.data.sort_of_clevr.contact_sheet (issue 15): this alias is kept for one release.

The contact sheet lives in the dataset's room; run it as
`python -m mi_zoo.data.sort_of_clevr.contact_sheet` (run as
`python -m mi_zoo.data.sort_of_clevr_contact_sheet`, this alias still writes
it).
"""

# ruff: noqa: F401  (an alias module: it only re-exports)

from mi_zoo.data.sort_of_clevr.contact_sheet import Image
from mi_zoo.data.sort_of_clevr.contact_sheet import ImageDraw
from mi_zoo.data.sort_of_clevr.contact_sheet import argparse
from mi_zoo.data.sort_of_clevr.contact_sheet import contact_sheet
from mi_zoo.data.sort_of_clevr.contact_sheet import main
from mi_zoo.data.sort_of_clevr.contact_sheet import np
from mi_zoo.data.sort_of_clevr.contact_sheet import parse_args
from mi_zoo.data.sort_of_clevr.contact_sheet import soc

if __name__ == "__main__":
    main()
