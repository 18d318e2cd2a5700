r"""Writes a contact sheet of Sort-of-CLEVR images with their questions.

One row per image: the image (scaled up, nearest neighbour) and beside it its
questions with their answers and families. The generator is
`mi_zoo.data.sort_of_clevr` (Santoro et al., "A simple neural network module
for relational reasoning", NeurIPS 2017).

Usage:

  python -m mi_zoo.data.sort_of_clevr_contact_sheet --output=/tmp/sheet.png \
      --num_images=8 --questions_per_image=6 --seed=0
"""

from absl import app
from absl import flags
import numpy as np
from PIL import Image
from PIL import ImageDraw

from mi_zoo.data import sort_of_clevr as soc

_OUTPUT = flags.DEFINE_string("output", None, "PNG file to write (needed).")
_NUM_IMAGES = flags.DEFINE_integer("num_images", 8, "Images on the sheet.",
                                   lower_bound=1)
_QUESTIONS = flags.DEFINE_integer(
    "questions_per_image", 6,
    "Questions per image (the first half non-relational).", lower_bound=1)
_SEED = flags.DEFINE_integer("seed", 0, "Generator seed.", lower_bound=0)
_IMAGE_SIZE = flags.DEFINE_integer("image_size", soc.DEFAULT_IMAGE_SIZE,
                                   "Image side in pixels.", lower_bound=1)
_NUM_OBJECTS = flags.DEFINE_integer("num_objects", soc.DEFAULT_NUM_OBJECTS,
                                    "Objects per image.", lower_bound=2,
                                    upper_bound=len(soc.COLOURS))
_SCALE = flags.DEFINE_integer("scale", 2, "Upscaling of the image tiles.",
                              lower_bound=1)

_LINE = 12  # pixels per text line of PIL's default bitmap font
_TEXT_WIDTH = 760
_MARGIN = 6


def contact_sheet(num_images: int, seed: int, questions_per_image: int = 6,
                  image_size: int = soc.DEFAULT_IMAGE_SIZE,
                  num_objects: int = soc.DEFAULT_NUM_OBJECTS,
                  scale: int = 2) -> Image.Image:
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
    a = soc.generate_arrays(num_images, seed, image_size, num_objects,
                            questions_per_image)
    tile = image_size * scale
    row = max(tile, _LINE * (questions_per_image + 1)) + 2 * _MARGIN
    sheet = Image.new("RGB", (tile + _TEXT_WIDTH + 3 * _MARGIN,
                              row * num_images), "white")
    draw = ImageDraw.Draw(sheet)
    for n in range(num_images):
        top = n * row
        image = np.repeat(np.repeat(a["image"][n], scale, 0), scale, 1)
        sheet.paste(Image.fromarray(image), (_MARGIN, top + _MARGIN))
        draw.rectangle([_MARGIN - 1, top + _MARGIN - 1, _MARGIN + tile,
                        top + _MARGIN + tile], outline="black")
        objects = ", ".join(
            f"{soc.COLOURS[c]} {soc.SHAPES[s]} ({x},{y})" for c, s, (x, y) in
            zip(a["colour"][n], a["shape"][n], a["centre"][n]))
        lines = [f"#{n}: {objects}"]
        for j in range(questions_per_image):
            family = int(a["question_family"][n, j])
            text = soc.question_text(int(a["question_colour"][n, j]), family)
            answer = soc.ANSWERS[int(a["answer"][n, j])]
            lines.append(f"[{soc.QUESTION_FAMILIES[family]}] {text} "
                         f"-> {answer}")
        x = tile + 2 * _MARGIN
        for i, line in enumerate(lines):
            draw.text((x, top + _MARGIN + i * _LINE), line, fill="black")
        if n:
            draw.line([0, top, sheet.width, top], fill=(200, 200, 200))
    return sheet


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if not _OUTPUT.value:
        raise app.UsageError("--output (the PNG file to write) is needed.")
    sheet = contact_sheet(_NUM_IMAGES.value, _SEED.value, _QUESTIONS.value,
                          _IMAGE_SIZE.value, _NUM_OBJECTS.value, _SCALE.value)
    sheet.save(_OUTPUT.value, format="PNG")
    print(f"Wrote {_OUTPUT.value} ({_NUM_IMAGES.value} images).")


if __name__ == "__main__":
    app.run(main)
