"""Figures for explanations: NumPy + Pillow rendering, no TensorFlow.

The training engine shows VQA examples (image, question, predicted and true
answer) and attention maps in TensorBoard image summaries, and the
Hadamard-product explanations (Kim & Zhang, "Visual Explanations from
Hadamard Product in Multimodal Deep Networks", 2019) draw pixel heat maps,
region weights and per-token scores. This module renders all of them as
plain uint8 RGB arrays of shape [H, W, 3], which `tf.summary.image` takes
after adding a batch axis and `save_png` writes to disk.

  * `to_uint8`: float [0, 1] or uint8, RGB or grey -> uint8 [H, W, 3].
  * `apply_colormap`, `upsample_heat`, `heatmap_overlay`: a 2-D heat map of
    any size (a 14 x 14 attention grid, a per-pixel map), min/max
    normalised, bilinearly upsampled, coloured ("jet", "coolwarm") and
    alpha-blended over the image.
  * `box_overlay`: region boxes (bottom-up features) filled with a
    translucent colour whose opacity follows the attention weight.
  * `caption_panel`: the image (small ones upscaled) over a white panel of
    wrapped text lines.
  * `token_scores_panel`: question words on backgrounds coloured by score,
    red for positive, blue for negative.
  * `grid`, `save_png`: tiling and writing.

Only NumPy and Pillow are used (Pillow's default font; no matplotlib), so the
figures render the same on any machine.

>>> import numpy as np
>>> from mi_zoo.explain import figures
>>> image = np.zeros((32, 32, 3), np.float32)
>>> heat = np.zeros((14, 14)); heat[2, 11] = 1.0
>>> figures.heatmap_overlay(image, heat, alpha=0.5).shape
(32, 32, 3)
>>> figures.caption_panel(image, ["Q: what colour is the cube"]).shape[1]
192
"""

import functools
import math
import os
from typing import List, Sequence

import numpy as np
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

# Images whose short side is smaller than this are upscaled (nearest
# neighbour, by an integer factor) before text is put under them.
MIN_SHORT_SIDE = 192

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)

# Anchor colours of the diverging colormap (Moreland's cool-warm, as in
# matplotlib's "coolwarm"), at 0, 0.25, 0.5, 0.75 and 1.
_COOLWARM = np.array([
    [0.2298, 0.2987, 0.7537],
    [0.5543, 0.6901, 0.9955],
    [0.8654, 0.8654, 0.8654],
    [0.9567, 0.5980, 0.4773],
    [0.7057, 0.0156, 0.1502],
])

COLORMAPS = ("jet", "coolwarm", "diverging", "gray")

BOX_FORMATS = ("xyxy_normalized", "xyxy_pixels")

# Background colours of the largest positive / negative token score.
_POSITIVE = np.array([220.0, 30.0, 30.0])
_NEGATIVE = np.array([30.0, 70.0, 220.0])


def _shape(value):
    return tuple(np.shape(value))


def to_uint8(image):
    """Returns `image` as a uint8 RGB array.

    Args:
      image: [H, W, 3], [H, W, 1] or [H, W] (grey, repeated to 3 channels);
        floats (any float dtype) in [0, 1], clipped, NaN read as 0, or
        uint8 (booleans read as 0 / 1).

    Returns:
      uint8 [H, W, 3]; a new array, never a view of `image`.

    Raises:
      ValueError: `image` has another rank, number of channels or dtype, or
        is empty.

    >>> to_uint8(np.array([[0.0, 0.5, 1.0]]))[0, :, 0].tolist()
    [0, 128, 255]
    """
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3):
        raise ValueError(
            "image must be [H, W, 3], [H, W, 1] or [H, W], got shape %s"
            % (_shape(image),))
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError("image must not be empty, got shape %s"
                         % (_shape(image),))
    if array.dtype == np.bool_:
        array = array.astype(np.float32)
    if array.dtype == np.uint8:
        out = array.copy()
    elif np.issubdtype(array.dtype, np.floating):
        scaled = np.nan_to_num(array.astype(np.float64), nan=0.0)
        out = np.round(np.clip(scaled, 0.0, 1.0) * 255.0).astype(np.uint8)
    else:
        raise ValueError(
            "image must be float in [0, 1] or uint8, got dtype %s"
            % array.dtype)
    if out.shape[-1] == 1:
        out = np.repeat(out, 3, axis=-1)
    return out


def _check_colormap(colormap):
    if not isinstance(colormap, str) or colormap not in COLORMAPS:
        raise ValueError("colormap must be one of %s, got %r"
                         % (", ".join(COLORMAPS), colormap))


def apply_colormap(values, colormap="jet"):
    """Colours values in [0, 1] (clipped) with a built-in colormap.

    Args:
      values: float array of any shape [...].
      colormap: "jet" (blue -> cyan -> yellow -> red), "coolwarm" or its
        alias "diverging" (blue -> grey -> red) or "gray".

    Returns:
      uint8 [..., 3].

    Raises:
      ValueError: unknown `colormap`.

    >>> apply_colormap(np.array([0.0, 1.0]), "jet").tolist()
    [[0, 0, 128], [128, 0, 0]]
    """
    _check_colormap(colormap)
    x = np.clip(np.nan_to_num(np.asarray(values, np.float64)), 0.0, 1.0)
    if colormap == "jet":
        rgb = np.stack([np.clip(1.5 - np.abs(4.0 * x - c), 0.0, 1.0)
                        for c in (3.0, 2.0, 1.0)], axis=-1)
    elif colormap in ("coolwarm", "diverging"):
        anchors = np.linspace(0.0, 1.0, len(_COOLWARM))
        rgb = np.stack([np.interp(x, anchors, _COOLWARM[:, c])
                        for c in range(3)], axis=-1)
    else:  # gray
        rgb = np.stack([x, x, x], axis=-1)
    return np.round(rgb * 255.0).astype(np.uint8)


def normalize_heat(heat):
    """Scales a heat map to [0, 1] by its min and max.

    Args:
      heat: float [h, w]. Non-finite entries become 0 after scaling.

    Returns:
      float32 [h, w] in [0, 1]; all zeros for a constant map.

    Raises:
      ValueError: `heat` is not a non-empty 2-D array.

    >>> normalize_heat(np.array([[1.0, 3.0], [2.0, 3.0]])).tolist()
    [[0.0, 1.0], [0.5, 1.0]]
    >>> normalize_heat(np.full((2, 2), 7.0)).tolist()
    [[0.0, 0.0], [0.0, 0.0]]
    """
    array = np.asarray(heat, dtype=np.float64)
    if array.ndim != 2 or array.size == 0:
        raise ValueError("heat must be a non-empty 2-D map [h, w], got shape "
                         "%s" % (_shape(heat),))
    finite = np.isfinite(array)
    out = np.zeros(array.shape, np.float64)
    if finite.any():
        low, high = array[finite].min(), array[finite].max()
        if high > low:
            out[finite] = (array[finite] - low) / (high - low)
    return out.astype(np.float32)


def upsample_heat(heat, height, width):
    """Normalises a heat map (`normalize_heat`) and resizes it bilinearly.

    Args:
      heat: float [h, w].
      height: output height H, a positive int.
      width: output width W, a positive int.

    Returns:
      float32 [H, W] in [0, 1].

    Raises:
      ValueError: bad `heat`, `height` or `width`.

    >>> upsample_heat(np.eye(2), 4, 4).shape
    (4, 4)
    """
    for name, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(
                value, (int, np.integer)) or value < 1:
            raise ValueError("%s must be a positive int, got %r"
                             % (name, value))
    normalized = normalize_heat(heat)
    if normalized.shape == (height, width):
        return normalized
    resized = Image.fromarray(normalized).resize(
        (int(width), int(height)), Image.BILINEAR)
    return np.clip(np.asarray(resized, np.float32), 0.0, 1.0)


def heatmap_overlay(image, heat, alpha=0.5, colormap="jet"):
    """Blends a coloured heat map over an image.

    Args:
      image: [H, W, 3] / [H, W, 1] / [H, W], float in [0, 1] or uint8.
      heat: float [h, w] of any size (an attention grid, a per-pixel map);
        min/max normalised (a constant map is all 0) and bilinearly
        upsampled to [H, W].
      alpha: weight of the colour in [0, 1]: 0 returns the image, 1 the
        coloured map.
      colormap: see `apply_colormap`.

    Returns:
      uint8 [H, W, 3].

    Raises:
      ValueError: bad `image`, `heat`, `alpha` or `colormap`.
    """
    if (isinstance(alpha, bool) or not isinstance(
            alpha, (int, float, np.integer, np.floating))
            or not 0.0 <= alpha <= 1.0):
        raise ValueError("alpha must be a number in [0, 1], got %r"
                         % (alpha,))
    _check_colormap(colormap)
    base = to_uint8(image)
    hot = upsample_heat(heat, base.shape[0], base.shape[1])
    colour = apply_colormap(hot, colormap).astype(np.float64)
    blend = (1.0 - alpha) * base.astype(np.float64) + alpha * colour
    return np.round(blend).astype(np.uint8)


def _pixel_boxes(boxes, box_format, height, width):
    if box_format == "xyxy_normalized":
        scale = np.array([width, height, width, height], np.float64)
        boxes = boxes * scale
    # The tolerance keeps e.g. 0.3 * 100 = 30.000000000000004 at pixel 30.
    eps = 1e-6
    x1 = np.clip(np.floor(boxes[:, 0] + eps), 0, width).astype(int)
    y1 = np.clip(np.floor(boxes[:, 1] + eps), 0, height).astype(int)
    x2 = np.clip(np.ceil(boxes[:, 2] - eps), 0, width).astype(int)
    y2 = np.clip(np.ceil(boxes[:, 3] - eps), 0, height).astype(int)
    return np.stack([x1, y1, x2, y2], axis=-1)


def box_overlay(image, boxes, weights, box_format="xyxy_normalized",
                color=(255, 40, 0), max_opacity=0.6, outline_width=2):
    """Draws region boxes filled in proportion to their attention weights.

    Each box with a positive weight w is filled with `color` at opacity
    `max_opacity * w / max(weights)` and outlined (inside the box) at
    opacity `w / max(weights)`; lighter boxes are drawn first. Rows with
    weight 0 and all-zero rows (padding) are skipped, and so are boxes
    that are empty once rounded to pixels. Boxes are clipped to the image.

    Args:
      image: [H, W, 3] / [H, W, 1] / [H, W], float in [0, 1] or uint8.
      boxes: float [R, 4] as (x1, y1, x2, y2), x2 >= x1 and y2 >= y1.
      weights: float [R], >= 0.
      box_format: "xyxy_normalized" (coordinates in [0, 1] of the width and
        height) or "xyxy_pixels".
      color: RGB of the fill and outline, three ints in [0, 255].
      max_opacity: fill opacity of the heaviest box, in [0, 1].
      outline_width: outline thickness in pixels, >= 0.

    Returns:
      uint8 [H, W, 3]; pixels outside drawn boxes are those of `image`.

    Raises:
      ValueError: bad `image`, `boxes`, `weights`, `box_format`, `color`,
        `max_opacity` or `outline_width`.

    >>> out = box_overlay(np.zeros((10, 10)), [[0.0, 0.0, 0.5, 0.5]], [1.0])
    >>> int(out[:5, :5].max()), int(out[5:, 5:].max())
    (255, 0)
    """
    if box_format not in BOX_FORMATS:
        raise ValueError("box_format must be one of %s, got %r"
                         % (", ".join(BOX_FORMATS), box_format))
    colour = np.asarray(color)
    if (colour.shape != (3,) or not np.issubdtype(colour.dtype, np.number)
            or colour.min() < 0 or colour.max() > 255):
        raise ValueError("color must be 3 numbers in [0, 255], got %r"
                         % (color,))
    if (isinstance(max_opacity, bool) or not isinstance(
            max_opacity, (int, float, np.integer, np.floating))
            or not 0.0 <= max_opacity <= 1.0):
        raise ValueError("max_opacity must be a number in [0, 1], got %r"
                         % (max_opacity,))
    if (isinstance(outline_width, bool) or not isinstance(
            outline_width, (int, np.integer)) or outline_width < 0):
        raise ValueError("outline_width must be an int >= 0, got %r"
                         % (outline_width,))
    base = to_uint8(image)
    boxes_array = np.asarray(boxes, np.float64)
    if boxes_array.size == 0 and boxes_array.ndim <= 2:
        boxes_array = boxes_array.reshape(0, 4)
    if boxes_array.ndim != 2 or boxes_array.shape[-1] != 4:
        raise ValueError("boxes must be [R, 4], got shape %s"
                         % (_shape(boxes),))
    weights_array = np.asarray(weights, np.float64)
    if weights_array.shape != (boxes_array.shape[0],):
        raise ValueError("weights must be [R] = [%d] like boxes, got shape %s"
                         % (boxes_array.shape[0], _shape(weights)))
    if not np.all(np.isfinite(boxes_array)):
        raise ValueError("boxes must be finite, got %s" % boxes_array.tolist())
    if not np.all(np.isfinite(weights_array)) or np.any(weights_array < 0):
        raise ValueError("weights must be finite and >= 0, got %s"
                         % weights_array.tolist())
    padding = np.all(boxes_array == 0, axis=-1)
    inverted = ((boxes_array[:, 2] < boxes_array[:, 0])
                | (boxes_array[:, 3] < boxes_array[:, 1]))
    if np.any(inverted & ~padding):
        row = int(np.argmax(inverted & ~padding))
        raise ValueError(
            "boxes must have x2 >= x1 and y2 >= y1, got row %d = %s"
            % (row, boxes_array[row].tolist()))
    keep = (weights_array > 0) & ~padding
    if not keep.any():
        return base
    relative = np.where(keep, weights_array / weights_array[keep].max(), 0.0)
    height, width = base.shape[:2]
    pixels = _pixel_boxes(boxes_array, box_format, height, width)
    out = base.astype(np.float64)
    colour = colour.astype(np.float64)
    for index in np.argsort(relative, kind="stable"):
        if not keep[index]:
            continue
        x1, y1, x2, y2 = pixels[index]
        if x2 <= x1 or y2 <= y1:
            continue
        opacity = np.full((y2 - y1, x2 - x1), max_opacity * relative[index])
        ring = min(outline_width, (x2 - x1 + 1) // 2, (y2 - y1 + 1) // 2)
        if ring:
            opacity[:ring, :] = opacity[-ring:, :] = relative[index]
            opacity[:, :ring] = opacity[:, -ring:] = relative[index]
        region = out[y1:y2, x1:x2]
        out[y1:y2, x1:x2] = region + opacity[..., None] * (colour - region)
    return np.round(out).astype(np.uint8)


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
            or not isinstance(font_size, (int, np.integer)) or font_size < 1):
        raise ValueError("font_size must be a positive int or None, got %r"
                         % (font_size,))


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


def upscale_small(image, min_short_side=MIN_SHORT_SIDE):
    """Upscales by an integer factor (nearest neighbour) to a short side of
    at least `min_short_side`; larger images are returned as they are.

    Args:
      image: [H, W, 3] / [H, W, 1] / [H, W], float in [0, 1] or uint8.
      min_short_side: positive int.

    Returns:
      uint8 [k * H, k * W, 3], k = ceil(min_short_side / min(H, W)) or 1.

    Raises:
      ValueError: bad `image` or `min_short_side`.

    >>> upscale_small(np.zeros((32, 75)), 192).shape
    (192, 450, 3)
    """
    if (isinstance(min_short_side, bool) or not isinstance(
            min_short_side, (int, np.integer)) or min_short_side < 1):
        raise ValueError("min_short_side must be a positive int, got %r"
                         % (min_short_side,))
    base = to_uint8(image)
    factor = math.ceil(min_short_side / min(base.shape[:2]))
    if factor <= 1:
        return base
    return np.repeat(np.repeat(base, factor, axis=0), factor, axis=1)


def _check_lines(lines):
    if isinstance(lines, str):
        return lines.split("\n")
    try:
        items = list(lines)
    except TypeError:
        items = None
    if items is None or not all(isinstance(line, str) for line in items):
        raise ValueError("lines must be a str or a sequence of str, got %r"
                         % (lines,))
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
    if (isinstance(margin, bool) or not isinstance(margin, (int, np.integer))
            or margin < 0):
        raise ValueError("margin must be an int >= 0, got %r" % (margin,))
    picture = upscale_small(image)
    height, image_width = picture.shape[:2]
    if width is None:
        width = image_width
    elif (isinstance(width, bool) or not isinstance(width, (int, np.integer))
          or width < image_width):
        raise ValueError(
            "width must be an int >= the image width %d (after upscaling "
            "to a short side of %d), got %r"
            % (image_width, MIN_SHORT_SIDE, width))
    width = int(width)
    left = (width - image_width) // 2
    if not texts:
        canvas = np.full((height, width, 3), 255, np.uint8)
        canvas[:, left:left + image_width] = picture
        return canvas
    font = load_font(max(12, width // 24) if font_size is None
                     else int(font_size))
    text_width = max(1, width - 2 * margin)
    wrapped = [row for text in texts for row in _wrap(text, font, text_width)]
    line_height = _line_height(font) + 4
    panel_height = 2 * margin + line_height * len(wrapped)
    canvas = Image.new("RGB", (width, height + panel_height), WHITE)
    canvas.paste(Image.fromarray(picture), (left, 0))
    draw = ImageDraw.Draw(canvas)
    for row, text in enumerate(wrapped):
        draw.text((margin, height + margin + row * line_height),
                  _drawable(text, font), fill=BLACK, font=font)
    return np.asarray(canvas, np.uint8).copy()


def score_colors(scores):
    """Background colours of token scores: white for 0, towards red for
    positive and blue for negative, in proportion to |score| / max |score|.

    Args:
      scores: finite float [T].

    Returns:
      uint8 [T, 3].

    Raises:
      ValueError: `scores` is not a finite 1-D array.

    >>> score_colors([2.0, -1.0, 0.0]).tolist()
    [[220, 30, 30], [142, 162, 238], [255, 255, 255]]
    """
    array = np.asarray(scores, np.float64)
    if array.ndim != 1 or not np.all(np.isfinite(array)):
        raise ValueError("scores must be a finite 1-D array [T], got %r"
                         % (scores,))
    peak = np.abs(array).max() if array.size else 0.0
    intensity = np.abs(array) / peak if peak > 0 else np.zeros_like(array)
    target = np.where(array[:, None] >= 0, _POSITIVE, _NEGATIVE)
    white = np.full(3, 255.0)
    colours = white + intensity[:, None] * (target - white)
    return np.round(colours).astype(np.uint8)


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
            isinstance(token, str) for token in tokens):
        raise ValueError("tokens must be a sequence of str, got %r"
                         % (tokens,))
    tokens = list(tokens)
    colours = score_colors(scores)
    if len(colours) != len(tokens):
        raise ValueError("scores must have one entry per token (%d), got "
                         "shape %s" % (len(tokens), _shape(scores)))
    if (isinstance(width, bool) or not isinstance(width, (int, np.integer))
            or width < 1):
        raise ValueError("width must be a positive int, got %r" % (width,))
    _check_font_size(font_size)
    if (isinstance(margin, bool) or not isinstance(margin, (int, np.integer))
            or margin < 0):
        raise ValueError("margin must be an int >= 0, got %r" % (margin,))
    width = int(width)
    font = load_font(max(12, width // 24) if font_size is None
                     else int(font_size))
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
        draw.rectangle([x, y, x + box_width - 1, y + box_height - 1],
                       fill=colour)
        ink = WHITE if sum(colour) < 3 * 128 else BLACK
        draw.text((x + pad, y + pad), _drawable(tokens[index], font),
                  fill=ink, font=font)
    return np.asarray(canvas, np.uint8).copy()


def pad_to_same_size(images: Sequence[np.ndarray]) -> List[np.ndarray]:
    """Pads RGB images with white (at the bottom and right) to the largest
    height and width among them, so they stack into one [N, H, W, 3]
    batch (e.g. for `tf.summary.image`).

    >>> [p.shape for p in pad_to_same_size([np.zeros((2, 3, 3), np.uint8),
    ...                                     np.zeros((4, 1, 3), np.uint8)])]
    [(4, 3, 3), (4, 3, 3)]
    """
    if not images:
        raise ValueError("`images` must not be empty, got images=[].")
    images = [to_uint8(image) for image in images]
    h = max(image.shape[0] for image in images)
    w = max(image.shape[1] for image in images)
    out = []
    for image in images:
        canvas = np.full((h, w, 3), 255, np.uint8)
        canvas[:image.shape[0], :image.shape[1]] = image
        out.append(canvas)
    return out


def grid(images, columns, spacing=4):
    """Tiles images of possibly different sizes row by row on white.

    Each row is as tall as its tallest image and each column as wide as its
    widest; images sit at the top left of their cells.

    Args:
      images: non-empty sequence of [H_i, W_i, 3] / [H_i, W_i, 1] /
        [H_i, W_i] images, float in [0, 1] or uint8.
      columns: positive int; fewer images than columns make one row.
      spacing: white pixels between cells, >= 0.

    Returns:
      uint8 [sum of row heights + spacing * (rows - 1),
      sum of column widths + spacing * (columns' - 1), 3].

    Raises:
      ValueError: bad `images`, `columns` or `spacing`.

    >>> grid([np.zeros((2, 3)), np.zeros((4, 1)), np.zeros((1, 1))],
    ...      columns=2, spacing=1).shape
    (6, 5, 3)
    """
    if (isinstance(columns, bool) or not isinstance(columns, (int, np.integer))
            or columns < 1):
        raise ValueError("columns must be a positive int, got %r"
                         % (columns,))
    if (isinstance(spacing, bool) or not isinstance(spacing, (int, np.integer))
            or spacing < 0):
        raise ValueError("spacing must be an int >= 0, got %r" % (spacing,))
    if isinstance(images, np.ndarray) and images.ndim == 4:
        images = list(images)
    if not isinstance(images, (list, tuple)) or not images:
        raise ValueError("images must be a non-empty list of images, got %r"
                         % (images,))
    tiles = [to_uint8(image) for image in images]
    columns = min(int(columns), len(tiles))
    rows = math.ceil(len(tiles) / columns)
    heights = [max(tile.shape[0] for tile in tiles[r * columns:(r + 1) *
                                                    columns])
               for r in range(rows)]
    widths = [max(tile.shape[1] for tile in tiles[c::columns])
              for c in range(columns)]
    top = np.concatenate([[0], np.cumsum(np.array(heights) + spacing)])
    left = np.concatenate([[0], np.cumsum(np.array(widths) + spacing)])
    out = np.full((sum(heights) + spacing * (rows - 1),
                   sum(widths) + spacing * (columns - 1), 3), 255, np.uint8)
    for index, tile in enumerate(tiles):
        y, x = top[index // columns], left[index % columns]
        out[y:y + tile.shape[0], x:x + tile.shape[1]] = tile
    return out


def save_png(path, image):
    """Writes an image as a PNG file, creating its parent directories.

    Args:
      path: str or os.PathLike of the file to write.
      image: [H, W, 3] / [H, W, 1] / [H, W], float in [0, 1] or uint8.

    Returns:
      The path, as given.

    Raises:
      ValueError: bad `path` or `image`.
    """
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise ValueError("path must be a non-empty str or os.PathLike, got %r"
                         % (path,))
    pixels = to_uint8(image)
    parent = os.path.dirname(os.fspath(path))
    if parent:
        os.makedirs(parent, exist_ok=True)
    Image.fromarray(pixels).save(path, format="PNG")
    return path
