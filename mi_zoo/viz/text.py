"""Text on figures: Pillow's default font, captions under an image and
words on backgrounds coloured by score.

>>> import numpy as np
>>> from mi_zoo.viz import text
>>> image = np.zeros((32, 32, 3), np.float32)
>>> text.caption_panel(image, ["Q: what colour is the cube"]).shape[1]
192
"""

import functools
import math

import numpy as np
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

from mi_zoo.viz.colors import BLACK
from mi_zoo.viz.colors import WHITE
from mi_zoo.viz.colors import score_colors
from mi_zoo.viz.images import MIN_SHORT_SIDE
from mi_zoo.viz.images import _shape
from mi_zoo.viz.images import upscale_small


@functools.lru_cache(maxsize=32)
def load_font(size=None):
    """Returns Pillow's default font, at `size` pixels where supported.

    Pillow >= 10.1 has a scalable default font (`load_default(size=...)`);
    older Pillow, or Pillow without FreeType, gives its fixed bitmap font.

    Args:
      size: font size in pixels, or None for Pillow's default.

    Returns:
      An `ImageFont.FreeTypeFont` or `ImageFont.ImageFont`.
    """
    if size is None:
        return ImageFont.load_default()
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: no size argument.
        return ImageFont.load_default()


def _check_font_size(font_size):
    if font_size is not None and (
        isinstance(font_size, bool)
        or not isinstance(font_size, (int, np.integer))
        or font_size < 1
    ):
        raise ValueError(
            "font_size must be a positive int or None, got %r" % (font_size,)
        )


def _drawable(text, font):
    """The bitmap font encodes latin-1 only; others become '?'."""
    if isinstance(font, ImageFont.FreeTypeFont):
        return text
    return text.encode("latin-1", "replace").decode("latin-1")


def _text_width(text, font):
    return font.getlength(_drawable(text, font))


def _line_height(font):
    return font.getbbox("Agjy|")[3]


def _wrap(text, font, width):
    """Greedy word wrap of one line to `width` pixels; long words break.

    A line that fits is kept verbatim (runs of spaces included)."""
    if _text_width(text, font) <= width:
        return [text]
    wrapped = []
    current = ""
    for word in text.split():
        while _text_width(word, font) > width and len(word) > 1:
            if current:
                wrapped.append(current)
                current = ""
            cut = len(word) - 1
            while cut > 1 and _text_width(word[:cut], font) > width:
                cut -= 1
            wrapped.append(word[:cut])
            word = word[cut:]
        candidate = current + " " + word if current else word
        if _text_width(candidate, font) <= width:
            current = candidate
        else:
            wrapped.append(current)
            current = word
    wrapped.append(current)
    return wrapped


def _check_lines(lines):
    if isinstance(lines, str):
        return lines.split("\n")
    try:
        items = list(lines)
    except TypeError:
        items = None
    if items is None or not all(isinstance(line, str) for line in items):
        raise ValueError(
            "lines must be a str or a sequence of str, got %r" % (lines,)
        )
    return [part for line in items for part in line.split("\n")]


def caption_panel(image, lines, width=None, font_size=None, margin=6):
    """Puts wrapped text lines on a white panel below an image.

    Images with a short side under `MIN_SHORT_SIDE` (192) are first upscaled
    by an integer factor with nearest neighbour (`upscale_small`) so that
    the text is readable next to them.

    Args:
      image: [H, W, 3] / [H, W, 1] / [H, W], float in [0, 1] or uint8.
      lines: a str (split at newlines) or a sequence of str, e.g.
        ["Q: what colour is the cube", "pred: red  true: blue"]; each is
        wrapped to the panel width. No lines: the (upscaled) image alone.
      width: figure width in pixels, >= the (upscaled) image width, which is
        the default; a wider figure centres the image.
      font_size: font size in pixels, default max(12, width // 24) (see
        `load_font` for old Pillow).
      margin: white space in pixels around the text, >= 0.

    Returns:
      uint8 [H' + P, width, 3]: the (upscaled) image of height H' over a
      panel of height P.

    Raises:
      ValueError: bad `image`, `lines`, `width`, `font_size` or `margin`.
    """
    texts = _check_lines(lines)
    _check_font_size(font_size)
    if (
        isinstance(margin, bool)
        or not isinstance(margin, (int, np.integer))
        or margin < 0
    ):
        raise ValueError("margin must be an int >= 0, got %r" % (margin,))
    picture = upscale_small(image)
    height, image_width = picture.shape[:2]
    if width is None:
        width = image_width
    elif (
        isinstance(width, bool)
        or not isinstance(width, (int, np.integer))
        or width < image_width
    ):
        raise ValueError(
            "width must be an int >= the image width %d (after upscaling "
            "to a short side of %d), got %r"
            % (image_width, MIN_SHORT_SIDE, width)
        )
    width = int(width)
    left = (width - image_width) // 2
    if not texts:
        canvas = np.full((height, width, 3), 255, np.uint8)
        canvas[:, left : left + image_width] = picture
        return canvas
    font = load_font(
        max(12, width // 24) if font_size is None else int(font_size)
    )
    text_width = max(1, width - 2 * margin)
    wrapped = [row for text in texts for row in _wrap(text, font, text_width)]
    line_height = _line_height(font) + 4
    panel_height = 2 * margin + line_height * len(wrapped)
    canvas = Image.new("RGB", (width, height + panel_height), WHITE)
    canvas.paste(Image.fromarray(picture), (left, 0))
    draw = ImageDraw.Draw(canvas)
    for row, text in enumerate(wrapped):
        draw.text(
            (margin, height + margin + row * line_height),
            _drawable(text, font),
            fill=BLACK,
            font=font,
        )
    return np.asarray(canvas, np.uint8).copy()


def token_scores_panel(tokens, scores, width=384, font_size=None, margin=6):
    """Renders words on backgrounds coloured by their scores (Kim & Zhang).

    Words are laid out left to right and wrapped to `width`; each word's
    background is `score_colors(scores)`: red for positive, blue for
    negative, white for 0, intensity |score| / max |score|. Text is black,
    white on strong backgrounds.

    Args:
      tokens: sequence of T str (the question words).
      scores: float [T], finite.
      width: panel width in pixels, positive int.
      font_size: font size in pixels, default max(12, width // 24).
      margin: white space in pixels around the words, >= 0.

    Returns:
      uint8 [P, width, 3].

    Raises:
      ValueError: bad `tokens`, `scores`, `width`, `font_size` or `margin`,
        or T differs between `tokens` and `scores`.

    >>> panel = token_scores_panel(["what", "colour"], [1.0, -0.5], width=200)
    >>> panel.shape[1:], panel.dtype
    ((200, 3), dtype('uint8'))
    """
    if isinstance(tokens, str) or not all(
        isinstance(token, str) for token in tokens
    ):
        raise ValueError(
            "tokens must be a sequence of str, got %r" % (tokens,)
        )
    tokens = list(tokens)
    colours = score_colors(scores)
    if len(colours) != len(tokens):
        raise ValueError(
            "scores must have one entry per token (%d), got "
            "shape %s" % (len(tokens), _shape(scores))
        )
    if (
        isinstance(width, bool)
        or not isinstance(width, (int, np.integer))
        or width < 1
    ):
        raise ValueError("width must be a positive int, got %r" % (width,))
    _check_font_size(font_size)
    if (
        isinstance(margin, bool)
        or not isinstance(margin, (int, np.integer))
        or margin < 0
    ):
        raise ValueError("margin must be an int >= 0, got %r" % (margin,))
    width = int(width)
    font = load_font(
        max(12, width // 24) if font_size is None else int(font_size)
    )
    pad, gap = 3, 4
    box_height = _line_height(font) + 2 * pad
    placed = []  # (x, row, box width, token index)
    x, row = margin, 0
    for index, token in enumerate(tokens):
        box_width = int(math.ceil(_text_width(token, font))) + 2 * pad
        if x > margin and x + box_width > width - margin:
            x, row = margin, row + 1
        placed.append((x, row, box_width, index))
        x += box_width + gap
    rows = row + 1
    height = 2 * margin + rows * box_height + (rows - 1) * gap
    canvas = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(canvas)
    for x, row, box_width, index in placed:
        y = margin + row * (box_height + gap)
        colour = tuple(int(c) for c in colours[index])
        draw.rectangle(
            [x, y, x + box_width - 1, y + box_height - 1], fill=colour
        )
        ink = WHITE if sum(colour) < 3 * 128 else BLACK
        draw.text(
            (x + pad, y + pad),
            _drawable(tokens[index], font),
            fill=ink,
            font=font,
        )
    return np.asarray(canvas, np.uint8).copy()
