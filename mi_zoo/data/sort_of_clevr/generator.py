r"""Sort-of-CLEVR: a generated visual question answering set, in pure NumPy.

The set of Santoro et al., "A simple neural network module for relational
reasoning", NeurIPS 2017 (https://arxiv.org/abs/1706.01427), Sec. 4.2 and
App. D, generated as the paper's public generator does (the common
implementation, github.com/kimhc6028/relational-networks,
`sort_of_clevr_generator.py`, in its original 11-bit form):

  * 75×75 RGB images, white background, 6 objects, one of each colour red,
    green, blue, orange, gray, yellow (`COLOURS`, RGB values in `PALETTE`),
    each a square (filled, side 2·size+1 pixels) or a circle (radius size),
    size 5 at 75 px; centres drawn uniformly from [size, image_size − size).
  * Questions on one object X named by its colour: non-relational
    ("what is the shape of X", "is X on the left", "is X on the top") and
    relational ("what is the shape of the object closest to X", "... furthest
    from X", "how many objects have the same shape as X"), colour and subtype
    uniform and independent. The paper asks 10 of each kind per image
    (`questions_per_image=20`).
  * The question as the paper's 11-bit vector: bits 0–5 the colour one-hot
    (in `COLOURS` order), bit 6 non-relational, bit 7 relational, bits 8–10
    the subtype one-hot; and as token ids of `VOCAB` (0 = padding), padded to
    `QUESTION_LENGTH`.
  * Answers are ids in `ANSWERS` = (yes, no, square, circle, 1, 2, 3, 4, 5,
    6), the common implementation's list (it names the square "rectangle").

Exact conventions (they follow the common implementation unless said):

  * A centre is (x, y) = (column, row). "On the left" is x < image_size / 2,
    "on the top" is y < image_size / 2 (answer yes, else no).
  * Closest / furthest compare squared Euclidean distances of the integer
    centres; the queried object is excluded from "closest"; ties go to the
    object with the lowest colour index (as `list.index(min(...))` does).
  * "How many objects have the same shape as X" counts X itself, so the
    answer is in 1..num_objects (the common implementation's
    `answer = count + 4` with `count` starting at −1).
  * Deviation: objects never overlap. The common implementation only keeps
    centres at Euclidean distance ≥ 2·size, which lets two squares overlap
    diagonally; here the inclusive pixel boxes [c − size, c + size] of any two
    objects are disjoint (Chebyshev distance of centres > 2·size).
  * Circles are the pixels with dx² + dy² ≤ size · (size + 1), i.e. within
    size + ½ of the centre (cv2.circle's raster differs by a few edge pixels);
    the square's corner pixel (dx = dy = size) is always outside
    (`circle_limit`).
  * Every image has its own random stream, `np.random.default_rng([seed,
    image_index])`, so image i is the same whatever `num_images`, batch size
    or process split.

Usage:

    from mi_zoo.data import sort_of_clevr
    for example in sort_of_clevr.generate(num_images=10, seed=0):
        ...  # example["image"], example["question_tokens"], example["answer"]

    arrays = sort_of_clevr.generate_arrays(num_images=10_000, seed=0)

Speed: `python -m mi_zoo.data.sort_of_clevr --num_images=2500` prints the
examples per second of `generate` (see `_benchmark`).

>>> ex = next(generate(num_images=1, seed=0, questions_per_image=2))
>>> ex["image"].shape, ex["question_vector"].shape, ex["question_tokens"].shape
((75, 75, 3), (11,), (13,))
>>> ANSWERS[4:]
('1', '2', '3', '4', '5', '6')
>>> question_text(colour=0, family=3)
'what is the shape of the object closest to the red object ?'
"""

import time
from typing import Dict
from typing import Iterator
from typing import Optional
from typing import Tuple

import numpy as np

COLOURS = ("red", "green", "blue", "orange", "gray", "yellow")
# RGB; the common implementation's BGR cv2 colours, reordered.
PALETTE = np.array(
    [
        (255, 0, 0),
        (0, 255, 0),
        (0, 0, 255),
        (255, 156, 0),
        (128, 128, 128),
        (255, 255, 0),
    ],
    dtype=np.uint8,
)
BACKGROUND = 255
SHAPES = ("square", "circle")
ANSWERS = ("yes", "no", "square", "circle", "1", "2", "3", "4", "5", "6")
YES, NO, SQUARE, CIRCLE = 0, 1, 2, 3
COUNT_OFFSET = 3  # answer id of the count n is COUNT_OFFSET + n.

QUESTION_TYPES = ("non_relational", "relational")
# Question families: index = 3 * question type + subtype (the vector's 3 bits).
QUESTION_FAMILIES = (
    "shape",
    "left",
    "top",
    "closest_shape",
    "furthest_shape",
    "count",
)
_TEMPLATES = (
    "what is the shape of the {} object ?",
    "is the {} object on the left ?",
    "is the {} object on the top ?",
    "what is the shape of the object closest to the {} object ?",
    "what is the shape of the object furthest from the {} object ?",
    "how many objects have the same shape as the {} object ?",
)
VOCAB = (
    ("<pad>", "what", "is", "the", "shape", "of")
    + COLOURS
    + (
        "object",
        "?",
        "on",
        "left",
        "top",
        "closest",
        "to",
        "furthest",
        "from",
        "how",
        "many",
        "objects",
        "have",
        "same",
        "as",
    )
)
PAD_ID = 0
QUESTION_LENGTH = 13
QUESTION_VECTOR_SIZE = 11

DEFAULT_IMAGE_SIZE = 75
DEFAULT_NUM_OBJECTS = 6
DEFAULT_QUESTIONS_PER_IMAGE = 20
_PAPER_OBJECT_SIZE = 5  # half-size at 75 px.
_RENDER_BATCH = 256
_RESTARTS = 20  # scene attempts before giving up
_BLOCKS = 100  # blocks of 16 candidate centres per attempt

_TOKEN_IDS = {word: i for i, word in enumerate(VOCAB)}


def _check_int(name, value, low, high=None):
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or value < low
        or (high is not None and value > high)
    ):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(
            f"`{name}` must be an integer {bound}, got {name}={value!r}."
        )


def default_object_size(image_size: int) -> int:
    """The half-size of an object: 5 px at 75 px, scaled with the image.

    Args:
      image_size: side of the square image in pixels.

    Returns:
      max(1, round(5 · image_size / 75)).
    """
    return max(
        1, int(round(_PAPER_OBJECT_SIZE * image_size / DEFAULT_IMAGE_SIZE))
    )


def _check_geometry(image_size, num_objects, object_size):
    _check_int("image_size", image_size, 1)
    _check_int("num_objects", num_objects, 2, len(COLOURS))
    if object_size is None:
        object_size = default_object_size(image_size)
    _check_int("object_size", object_size, 1)
    # Centres come from [s, image_size - s); disjoint boxes need the room for
    # num_objects cells of side 2s + 1 in a row or column at least.
    if image_size - 2 * object_size < 1:
        raise ValueError(
            f"`object_size` must be smaller than image_size / 2, got "
            f"object_size={object_size!r} for image_size={image_size!r}."
        )
    return int(image_size), int(num_objects), int(object_size)


# ------------------------------------------------------------------ questions
def question_text(colour: int, family: int) -> str:
    """The English question of a family about the object of a colour.

    Args:
      colour: index in `COLOURS`.
      family: index in `QUESTION_FAMILIES`.

    Returns:
      The question, words and "?" separated by single spaces.
    """
    _check_int("colour", colour, 0, len(COLOURS) - 1)
    _check_int("family", family, 0, len(QUESTION_FAMILIES) - 1)
    return _TEMPLATES[family].format(COLOURS[colour])


def tokenize(text: str, length: int = QUESTION_LENGTH) -> np.ndarray:
    """Token ids of a question in `VOCAB`, padded with 0 to `length`.

    Args:
      text: words separated by spaces, e.g. "is the red object on the top ?".
      length: padded length T.

    Returns:
      int32 [length].

    Raises:
      ValueError: on a word outside `VOCAB` or a question longer than length.
    """
    words = text.split()
    unknown = [w for w in words if w not in _TOKEN_IDS or w == VOCAB[PAD_ID]]
    if unknown:
        raise ValueError(
            f"Question {text!r} has words outside the "
            f"Sort-of-CLEVR vocabulary: {unknown}."
        )
    if len(words) > length:
        raise ValueError(
            f"Question {text!r} has {len(words)} tokens, more "
            f"than length={length}."
        )
    ids = np.zeros(length, np.int32)
    ids[: len(words)] = [_TOKEN_IDS[w] for w in words]
    return ids


def detokenize(ids) -> str:
    """The question of token ids (padding dropped); inverse of `tokenize`."""
    return " ".join(VOCAB[int(i)] for i in np.asarray(ids) if i != PAD_ID)


def encode_question_vector(colour: int, family: int) -> np.ndarray:
    """The paper's 11-bit question vector.

    Args:
      colour: index in `COLOURS` (bits 0–5, one-hot).
      family: index in `QUESTION_FAMILIES`; family // 3 is the question type
        (bit 6 non-relational, bit 7 relational), family % 3 the subtype
        (bits 8–10, one-hot).

    Returns:
      int32 [11] of zeros and ones.
    """
    _check_int("colour", colour, 0, len(COLOURS) - 1)
    _check_int("family", family, 0, len(QUESTION_FAMILIES) - 1)
    vector = np.zeros(QUESTION_VECTOR_SIZE, np.int32)
    vector[colour] = 1
    vector[6 + family // 3] = 1
    vector[8 + family % 3] = 1
    return vector


def decode_question_vector(vector) -> Tuple[int, int]:
    """(colour, family) of an 11-bit question vector.

    Args:
      vector: [11] of zeros and ones, as `encode_question_vector` makes.

    Returns:
      (colour index, family index).

    Raises:
      ValueError: unless the vector has 11 entries, all 0 or 1, with exactly
        one bit set in each of its three one-hot groups.
    """
    v = np.asarray(vector)
    if v.shape != (QUESTION_VECTOR_SIZE,) or not np.isin(v, (0, 1)).all():
        raise ValueError(
            f"A question vector must be 11 zeros and ones, got {v.tolist()!r}."
        )
    groups = (("colour", v[:6]), ("question type", v[6:8]), ("subtype", v[8:]))
    for name, bits in groups:
        if bits.sum() != 1:
            raise ValueError(
                f"Question vector {v.tolist()!r}: the {name} "
                f"bits {bits.tolist()} are not one-hot."
            )
    return int(v[:6].argmax()), 3 * int(v[6:8].argmax()) + int(v[8:].argmax())


# Lookup tables indexed [family, colour].
_VECTORS = np.stack(
    [
        np.stack([encode_question_vector(c, f) for c in range(len(COLOURS))])
        for f in range(len(QUESTION_FAMILIES))
    ]
)
_TOKENS = np.stack(
    [
        np.stack([tokenize(question_text(c, f)) for c in range(len(COLOURS))])
        for f in range(len(QUESTION_FAMILIES))
    ]
)


# --------------------------------------------------------------------- scenes
def circle_limit(object_size: int) -> int:
    """A pixel is in a circle of radius s when dx² + dy² ≤ this.

    Args:
      object_size: the radius s.

    Returns:
      s · (s + 1) (within s + ½ of the centre, a round raster), or 1 for s = 1
      so that the circle (a plus sign) still leaves the square's corners out.
    """
    return object_size * (object_size + 1) if object_size > 1 else 1


def make_scene(
    rng: np.random.Generator,
    image_size: int = DEFAULT_IMAGE_SIZE,
    num_objects: int = DEFAULT_NUM_OBJECTS,
    object_size: Optional[int] = None,
) -> Dict[str, np.ndarray]:
    """Draws one scene: a distinct colour, a shape and a centre per object.

    With 6 objects object k has colour k (`COLOURS[k]`); with fewer, the
    colours are a random subset, in increasing order. Centres are drawn uniformly from
    [size, image_size − size)² and redrawn until the object's pixel box is
    disjoint from those already placed.

    Args:
      rng: the random stream.
      image_size: side of the image in pixels.
      num_objects: 2..6 objects.
      object_size: half-size in pixels (None: `default_object_size`).

    Returns:
      {"colour": int32 [K], "shape": int32 [K] (index in `SHAPES`),
       "centre": int32 [K, 2] as (x, y)}.

    Raises:
      ValueError: on bad arguments, or when the objects do not fit.
    """
    image_size, num_objects, size = _check_geometry(
        image_size, num_objects, object_size
    )
    for _ in range(_RESTARTS):
        centres = np.zeros((num_objects, 2), np.int64)
        placed = 0
        # Draw candidates in blocks; keep the first that fits each object.
        for _ in range(_BLOCKS):
            candidates = rng.integers(size, image_size - size, size=(16, 2))
            for c in candidates:
                if (
                    placed == 0
                    or (
                        np.abs(centres[:placed] - c).max(axis=1) > 2 * size
                    ).all()
                ):
                    centres[placed] = c
                    placed += 1
                    if placed == num_objects:
                        break
            if placed == num_objects:
                break
        if placed == num_objects:
            shapes = (rng.random(num_objects) >= 0.5).astype(np.int32)
            if num_objects == len(COLOURS):
                colours = np.arange(num_objects)
            else:
                colours = np.sort(
                    rng.choice(len(COLOURS), num_objects, replace=False)
                )
            return {
                "colour": colours.astype(np.int32),
                "shape": shapes,
                "centre": centres.astype(np.int32),
            }
    raise ValueError(
        f"Could not place num_objects={num_objects} disjoint objects of "
        f"object_size={size} in an image of image_size={image_size}."
    )


def object_boxes(centres, object_size: int, image_size: int) -> np.ndarray:
    """Normalised boxes [ymin, xmin, ymax, xmax] of the objects' pixels.

    Args:
      centres: int [..., 2] as (x, y).
      object_size: half-size in pixels.
      image_size: side of the image.

    Returns:
      float32 [..., 4] in [0, 1] (the TFDS `BBoxFeature` convention): pixel
      rows cy − s .. cy + s inclusive give ymin = (cy − s) / H and
      ymax = (cy + s + 1) / H.
    """
    c = np.asarray(centres, np.float64)
    x, y = c[..., 0], c[..., 1]
    s = object_size
    boxes = np.stack([y - s, x - s, y + s + 1, x + s + 1], axis=-1)
    return (boxes / image_size).astype(np.float32)


def render(
    centres,
    shapes,
    colours,
    image_size: int = DEFAULT_IMAGE_SIZE,
    object_size: Optional[int] = None,
) -> np.ndarray:
    """Draws a batch of scenes with array operations (no per-pixel loops).

    Args:
      centres: int [N, K, 2] as (x, y).
      shapes: int [N, K], indices in `SHAPES`.
      colours: int [N, K], indices in `COLOURS`.
      image_size: side of the images.
      object_size: half-size in pixels (None: `default_object_size`).

    Returns:
      uint8 [N, image_size, image_size, 3]; white where no object is.
    """
    if object_size is None:
        object_size = default_object_size(image_size)
    centres = np.asarray(centres)
    shapes = np.asarray(shapes)
    colours = np.asarray(colours)
    if (
        centres.ndim != 3
        or centres.shape[-1] != 2
        or shapes.shape != centres.shape[:2]
        or colours.shape != centres.shape[:2]
    ):
        raise ValueError(
            f"render expects centres [N, K, 2] and shapes, colours [N, K], got "
            f"shapes {centres.shape}, {shapes.shape}, {colours.shape}."
        )
    n = centres.shape[0]
    images = np.full((n, image_size, image_size, 3), BACKGROUND, np.uint8)
    axis = np.arange(image_size, dtype=np.int32)
    for start in range(0, n, _RENDER_BATCH):
        sl = slice(start, start + _RENDER_BATCH)
        dx = axis[None, None, None, :] - centres[sl, :, 0, None, None]
        dy = axis[None, None, :, None] - centres[sl, :, 1, None, None]
        square = (np.abs(dx) <= object_size) & (np.abs(dy) <= object_size)
        circle = dx * dx + dy * dy <= circle_limit(object_size)
        is_square = (shapes[sl] == 0)[:, :, None, None]
        masks = np.where(is_square, square, circle)  # [n, K, H, W]
        covered = masks.any(axis=1)
        which = masks.argmax(axis=1)  # the (only) object covering a pixel
        colour = np.take_along_axis(
            colours[sl], which.reshape(len(which), -1), axis=1
        ).reshape(which.shape)
        images[sl] = np.where(covered[..., None], PALETTE[colour], BACKGROUND)
    return images


def answer_questions(
    scene: Dict[str, np.ndarray],
    colours,
    families,
    image_size: int = DEFAULT_IMAGE_SIZE,
) -> np.ndarray:
    """Answer ids of questions about one scene.

    Args:
      scene: as `make_scene` returns.
      colours: int [Q], the colour each question names.
      families: int [Q], indices in `QUESTION_FAMILIES`.
      image_size: side of the image (for left / top).

    Returns:
      int32 [Q], indices in `ANSWERS` (conventions in the module docstring).
    """
    centres = scene["centre"].astype(np.int64)
    shapes = scene["shape"]
    # Object k has colour scene["colour"][k]; find the object of each colour.
    index_of = np.full(len(COLOURS), -1)
    index_of[scene["colour"]] = np.arange(len(centres))
    obj = index_of[np.asarray(colours)]
    if (obj < 0).any():
        raise ValueError(
            f"Questions name colours {np.asarray(colours)} not "
            f"all in the scene's colours {scene['colour']}."
        )
    d2 = ((centres[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    closest = np.where(
        np.eye(len(centres), dtype=bool), np.iinfo(np.int64).max, d2
    ).argmin(axis=1)
    furthest = d2.argmax(axis=1)
    same = (shapes[:, None] == shapes[None, :]).sum(axis=1)
    per_family = np.stack(
        [
            SQUARE + shapes,
            np.where(centres[:, 0] < image_size / 2, YES, NO),
            np.where(centres[:, 1] < image_size / 2, YES, NO),
            SQUARE + shapes[closest],
            SQUARE + shapes[furthest],
            COUNT_OFFSET + same,
        ]
    )  # [families, K]
    return per_family[np.asarray(families), obj].astype(np.int32)


def make_questions(
    rng: np.random.Generator,
    scene: Dict[str, np.ndarray],
    questions_per_image: int = DEFAULT_QUESTIONS_PER_IMAGE,
    image_size: int = DEFAULT_IMAGE_SIZE,
) -> Dict[str, np.ndarray]:
    """Draws the questions of one image and answers them.

    The first ceil(Q / 2) questions are non-relational, the others relational
    (the paper: 10 + 10); each draws its colour among the scene's objects and
    its subtype uniformly.

    Args:
      rng: the random stream.
      scene: as `make_scene` returns.
      questions_per_image: Q.
      image_size: side of the image.

    Returns:
      {"colour", "family", "question_type", "answer": int32 [Q],
       "question_vector": int32 [Q, 11], "question_tokens": int32 [Q, 13]}.
    """
    _check_int("questions_per_image", questions_per_image, 1)
    q = int(questions_per_image)
    kinds = (np.arange(q) >= (q + 1) // 2).astype(np.int32)
    colours = scene["colour"][rng.integers(0, len(scene["colour"]), size=q)]
    families = (3 * kinds + rng.integers(0, 3, size=q)).astype(np.int32)
    return {
        "colour": colours.astype(np.int32),
        "family": families,
        "question_type": kinds,
        "answer": answer_questions(scene, colours, families, image_size),
        "question_vector": _VECTORS[families, colours],
        "question_tokens": _TOKENS[families, colours],
    }


def generate_arrays(
    num_images: int,
    seed: int,
    image_size: int = DEFAULT_IMAGE_SIZE,
    num_objects: int = DEFAULT_NUM_OBJECTS,
    questions_per_image: int = DEFAULT_QUESTIONS_PER_IMAGE,
    object_size: Optional[int] = None,
    first_image: int = 0,
) -> Dict[str, np.ndarray]:
    """Generates images and questions as arrays (each image stored once).

    Args:
      num_images: N.
      seed: non-negative int; image i draws from default_rng([seed, i]).
      image_size: side of the images (75 in the paper).
      num_objects: K, 2..6 (6 in the paper).
      questions_per_image: Q (20 in the paper: 10 non-relational, 10
        relational).
      object_size: half-size in pixels (None: 5 at 75 px, scaled).
      first_image: index of the first image (to generate a range of a set).

    Returns:
      {"image": uint8 [N, H, W, 3],
       "colour", "shape": int32 [N, K], "centre": int32 [N, K, 2],
       "box": float32 [N, K, 4],
       "question_colour", "question_family", "question_type", "answer":
         int32 [N, Q],
       "question_vector": int32 [N, Q, 11],
       "question_tokens": int32 [N, Q, 13]}.

    Raises:
      ValueError: on a bad argument, naming it.
    """
    _check_int("num_images", num_images, 0)
    _check_int("seed", seed, 0)
    _check_int("first_image", first_image, 0)
    _check_int("questions_per_image", questions_per_image, 1)
    image_size, num_objects, size = _check_geometry(
        image_size, num_objects, object_size
    )
    scenes, questions = [], []
    for i in range(first_image, first_image + num_images):
        rng = np.random.default_rng([int(seed), i])
        scene = make_scene(rng, image_size, num_objects, size)
        scenes.append(scene)
        questions.append(
            make_questions(rng, scene, questions_per_image, image_size)
        )
    k, q = num_objects, questions_per_image

    def stack(items, key, shape, dtype):
        if not items:
            return np.zeros((0,) + shape, dtype)
        return np.stack([item[key] for item in items]).astype(dtype)

    out = {
        "colour": stack(scenes, "colour", (k,), np.int32),
        "shape": stack(scenes, "shape", (k,), np.int32),
        "centre": stack(scenes, "centre", (k, 2), np.int32),
        "question_colour": stack(questions, "colour", (q,), np.int32),
        "question_family": stack(questions, "family", (q,), np.int32),
        "question_type": stack(questions, "question_type", (q,), np.int32),
        "answer": stack(questions, "answer", (q,), np.int32),
        "question_vector": stack(
            questions, "question_vector", (q, QUESTION_VECTOR_SIZE), np.int32
        ),
        "question_tokens": stack(
            questions, "question_tokens", (q, QUESTION_LENGTH), np.int32
        ),
    }
    out["box"] = object_boxes(out["centre"], size, image_size)
    out["image"] = render(
        out["centre"], out["shape"], out["colour"], image_size, size
    )
    return out


def generate(
    num_images: int,
    seed: int,
    image_size: int = DEFAULT_IMAGE_SIZE,
    num_objects: int = DEFAULT_NUM_OBJECTS,
    questions_per_image: int = DEFAULT_QUESTIONS_PER_IMAGE,
    object_size: Optional[int] = None,
    chunk_size: int = _RENDER_BATCH,
) -> Iterator[Dict]:
    """Yields one example per (image, question), image by image.

    Args:
      num_images: N; N · Q examples are yielded.
      seed: non-negative int; image i draws from default_rng([seed, i]), so
        the examples do not depend on chunk_size.
      image_size: side of the images (75 in the paper).
      num_objects: 2..6 (6 in the paper).
      questions_per_image: Q (20 in the paper; the first ceil(Q / 2)
        non-relational).
      object_size: half-size in pixels (None: 5 at 75 px, scaled).
      chunk_size: images generated and rendered together.

    Yields:
      {"image": uint8 [H, W, 3], "question": str,
       "question_vector": int32 [11], "question_tokens": int32 [13],
       "answer": int (in `ANSWERS`), "question_type": int (in
       `QUESTION_TYPES`), "question_subtype": int (in `QUESTION_FAMILIES`),
       "image_index": int, "question_index": int,
       "objects": {"colour": int32 [K], "shape": int32 [K],
                   "centre": int32 [K, 2] (x, y), "box": float32 [K, 4]}}.
    """
    _check_int("num_images", num_images, 0)
    _check_int("chunk_size", chunk_size, 1)
    for start in range(0, num_images, chunk_size):
        count = min(chunk_size, num_images - start)
        a = generate_arrays(
            count,
            seed,
            image_size,
            num_objects,
            questions_per_image,
            object_size,
            first_image=start,
        )
        for n in range(count):
            objects = {
                key: a[key][n] for key in ("colour", "shape", "centre", "box")
            }
            for j in range(questions_per_image):
                yield {
                    "image": a["image"][n],
                    "question": question_text(
                        int(a["question_colour"][n, j]),
                        int(a["question_family"][n, j]),
                    ),
                    "question_vector": a["question_vector"][n, j],
                    "question_tokens": a["question_tokens"][n, j],
                    "answer": int(a["answer"][n, j]),
                    "question_type": int(a["question_type"][n, j]),
                    "question_subtype": int(a["question_family"][n, j]),
                    "image_index": start + n,
                    "question_index": j,
                    "objects": objects,
                }


def _benchmark(num_images: int = 2500, seed: int = 0) -> float:
    """Returns the examples per second of `generate` (20 per image)."""
    begin = time.perf_counter()
    count = sum(1 for _ in generate(num_images, seed))
    return count / (time.perf_counter() - begin)


def main(argv=None):
    """Prints the speed of `generate`; `argv` as sys.argv (--num_images=N)."""
    import sys

    argv = sys.argv if argv is None else argv
    n = int(argv[1].split("=")[-1]) if len(argv) > 1 else 2500
    rate = _benchmark(n)
    print(
        f"{n * DEFAULT_QUESTIONS_PER_IMAGE} examples ({n} images): "
        f"{rate:.0f} examples/s"
    )


if __name__ == "__main__":
    main()
