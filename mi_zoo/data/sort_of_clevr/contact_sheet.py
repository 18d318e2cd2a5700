r"""Writes a contact sheet of Sort-of-CLEVR images with their questions.

One row per image: the image (scaled up, nearest neighbour) and beside it its
questions with their answers and families. The generator is
`mi_zoo.data.sort_of_clevr` (Santoro et al., "A simple neural network module
for relational reasoning", NeurIPS 2017).

Usage:

  python -m mi_zoo.data.sort_of_clevr.contact_sheet --output=/tmp/sheet.png \
      --num_images=8 --questions_per_image=6 --seed=0
"""

import argparse

import numpy as np
from PIL import Image
from PIL import ImageDraw

from mi_zoo.data.sort_of_clevr import generator as soc

_LINE = 12  # pixels per text line of PIL's default bitmap font
_TEXT_WIDTH = 760
_MARGIN = 6


def contact_sheet(
    num_images: int,
    seed: int,
    questions_per_image: int = 6,
    image_size: int = soc.DEFAULT_IMAGE_SIZE,
    num_objects: int = soc.DEFAULT_NUM_OBJECTS,
    scale: int = 2,
) -> Image.Image:
    """Draws the sheet.

    Args:
      num_images: rows.
      seed: generator seed.
      questions_per_image: questions printed beside each image.
      image_size: image side in pixels.
      num_objects: objects per image.
      scale: integer upscaling of the tiles.

    Returns:
      An RGB PIL image.
    """
    a = soc.generate_arrays(
        num_images, seed, image_size, num_objects, questions_per_image
    )
    tile = image_size * scale
    row = max(tile, _LINE * (questions_per_image + 1)) + 2 * _MARGIN
    sheet = Image.new(
        "RGB", (tile + _TEXT_WIDTH + 3 * _MARGIN, row * num_images), "white"
    )
    draw = ImageDraw.Draw(sheet)
    for n in range(num_images):
        top = n * row
        image = np.repeat(np.repeat(a["image"][n], scale, 0), scale, 1)
        sheet.paste(Image.fromarray(image), (_MARGIN, top + _MARGIN))
        draw.rectangle(
            [
                _MARGIN - 1,
                top + _MARGIN - 1,
                _MARGIN + tile,
                top + _MARGIN + tile,
            ],
            outline="black",
        )
        objects = ", ".join(
            f"{soc.COLOURS[c]} {soc.SHAPES[s]} ({x},{y})"
            for c, s, (x, y) in zip(
                a["colour"][n], a["shape"][n], a["centre"][n]
            )
        )
        lines = [f"#{n}: {objects}"]
        for j in range(questions_per_image):
            family = int(a["question_family"][n, j])
            text = soc.question_text(int(a["question_colour"][n, j]), family)
            answer = soc.ANSWERS[int(a["answer"][n, j])]
            lines.append(
                f"[{soc.QUESTION_FAMILIES[family]}] {text} -> {answer}"
            )
        x = tile + 2 * _MARGIN
        for i, line in enumerate(lines):
            draw.text((x, top + _MARGIN + i * _LINE), line, fill="black")
        if n:
            draw.line([0, top, sheet.width, top], fill=(200, 200, 200))
    return sheet


def parse_args(argv=None):
    """Command-line arguments (argparse, so that importing this module
    defines no global flags that could clash with an absl binary's)."""
    parser = argparse.ArgumentParser(
        prog="python -m mi_zoo.data.sort_of_clevr.contact_sheet",
        description=__doc__.split("\n")[0],
    )
    parser.add_argument("--output", required=True, help="PNG file to write.")
    parser.add_argument(
        "--num_images",
        type=_at_least(1),
        default=8,
        help="Images on the sheet.",
    )
    parser.add_argument(
        "--questions_per_image",
        type=_at_least(1),
        default=6,
        help="Questions per image (the first half non-relational).",
    )
    parser.add_argument(
        "--seed", type=_at_least(0), default=0, help="Generator seed."
    )
    parser.add_argument(
        "--image_size",
        type=_at_least(1),
        default=soc.DEFAULT_IMAGE_SIZE,
        help="Image side in pixels.",
    )
    parser.add_argument(
        "--num_objects",
        type=_at_least(2),
        default=soc.DEFAULT_NUM_OBJECTS,
        help=f"Objects per image (at most {len(soc.COLOURS)}).",
    )
    parser.add_argument(
        "--scale",
        type=_at_least(1),
        default=2,
        help="Upscaling of the image tiles.",
    )
    args = parser.parse_args(argv)
    if args.num_objects > len(soc.COLOURS):
        parser.error(
            f"--num_objects must be at most {len(soc.COLOURS)}, "
            f"got {args.num_objects}."
        )
    return args


def _at_least(low):
    def parse(text):
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(
                f"must be an integer >= {low}, got {text}"
            )
        return value

    return parse


def main(argv=None):
    """Writes the contact sheet; `argv` without the program name."""
    args = parse_args(argv)
    sheet = contact_sheet(
        args.num_images,
        args.seed,
        args.questions_per_image,
        args.image_size,
        args.num_objects,
        args.scale,
    )
    sheet.save(args.output, format="PNG")
    print(f"Wrote {args.output} ({args.num_images} images).")


if __name__ == "__main__":
    main()
