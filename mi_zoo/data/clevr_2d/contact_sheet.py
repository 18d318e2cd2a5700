"""Contact sheet of CLEVR-2D examples: images with question, answer and type.

    python -m mi_zoo.data.clevr_2d.contact_sheet --output=/tmp/sheet.png \
        --num_images=8

Reference: Johnson et al., "CLEVR: A Diagnostic Dataset for Compositional
Language and Elementary Visual Reasoning", CVPR 2017.
"""

import argparse
import textwrap

from PIL import Image
from PIL import ImageDraw

from mi_zoo.data.clevr_2d import generator as clevr_2d

TILE = 256  # Pixels per image tile (images are upscaled).
TEXT_HEIGHT = 120  # Pixels of text under each tile.
COLUMNS = 4


def contact_sheet(examples, columns=COLUMNS):
    """Lays out examples in a grid, each image above its question/answer.

    Args:
      examples: dicts from `clevr_2d.generate`.
      columns: tiles per row.

    Returns:
      A PIL RGB image.
    """
    if not examples:
        raise ValueError("contact_sheet needs at least one example, got 0.")
    rows = -(-len(examples) // columns)
    cols = min(columns, len(examples))
    sheet = Image.new(
        "RGB", (cols * TILE, rows * (TILE + TEXT_HEIGHT)), "white"
    )
    draw = ImageDraw.Draw(sheet)
    for i, ex in enumerate(examples):
        x, y = (i % columns) * TILE, (i // columns) * (TILE + TEXT_HEIGHT)
        tile = Image.fromarray(ex["image"]).resize((TILE, TILE), Image.NEAREST)
        sheet.paste(tile, (x, y))
        text = f"[{ex['question_type']}] {ex['question']}\nA: {ex['answer']}"
        lines = [
            line
            for part in text.split("\n")
            for line in textwrap.wrap(part, 40)
        ]
        draw.multiline_text(
            (x + 4, y + TILE + 4), "\n".join(lines[:9]), fill="black"
        )
    return sheet


def main(argv=None):
    """Writes a contact sheet PNG; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", default="/tmp/sheet.png")
    parser.add_argument("--num_images", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--image_size", type=int, default=clevr_2d.DEFAULT_IMAGE_SIZE
    )
    args = parser.parse_args(argv)
    examples = clevr_2d.generate(args.num_images, args.seed, args.image_size)
    contact_sheet(examples).save(args.output)
    print(f"wrote {args.output}: {len(examples)} examples")


if __name__ == "__main__":
    main()
