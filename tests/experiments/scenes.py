"""A Sort-of-CLEVR-like scene drawn with PIL, not with the project's
renderer: the user's own image of the predict tests and of the README's
predict command (tests/repo/readme_commands_test.py)."""

from PIL import Image
from PIL import ImageDraw

from mi_zoo.data import sort_of_clevr as soc


def draw_scene(path, size=(200, 150)):
    """Saves a PNG of `size` (width, height): a red square on the left and
    a blue circle on the right, on Sort-of-CLEVR's background; returns
    `path`."""
    image = Image.new("RGB", size, (soc.BACKGROUND,) * 3)
    draw = ImageDraw.Draw(image)
    width, height = size
    side = width // 8
    top, bottom = height // 2 - side // 2, height // 2 + side // 2
    draw.rectangle(
        [width // 8, top, width // 8 + side, bottom],
        fill=tuple(int(c) for c in soc.PALETTE[0]),
    )
    draw.ellipse(
        [width * 3 // 4, top, width * 3 // 4 + side, bottom],
        fill=tuple(int(c) for c in soc.PALETTE[2]),
    )
    image.save(path)
    return path
