"""CLEVR-2D: a 2-D shapes world with CLEVR's attributes and question types.

Scenes hold 3-6 (configurable) non-overlapping objects with a colour (8), a
shape (square, circle, triangle), a size (small, large) and a material:
rubber is drawn filled, metal is drawn as a thick outline with the background
showing through. Each example is one scene, one question of one of the 13
CLEVR question types (`QUESTION_TYPES`), its functional program (see
`mi_zoo.data.clevr_2d.programs`), the answer obtained by executing that
program, and a caption listing the objects from left to right plus one
vertical relation.

Answers are balanced within each question type by rejection sampling
(`programs.AnswerBalancer`, run per chunk of `CHUNK_SIZE` examples;
the question type is drawn uniformly). Generation is seeded: chunk k of a
call with seed s uses `np.random.default_rng([s, k])`, so the output does not
depend on the number of worker processes.

Default image size: 64x64 (small enough that 50k images are 600 MB of
uint8; a metal outline is then 2 px thick).

    python -c "from mi_zoo.data import clevr_2d; \
print(clevr_2d.generate(4, seed=0)[0]['question'])"
    python -m mi_zoo.data.clevr_2d --num_examples=50000 --num_workers=2

Reference: Johnson et al., "CLEVR: A Diagnostic Dataset for Compositional
Language and Elementary Visual Reasoning", CVPR 2017.
"""

import multiprocessing
import re
import time

import numpy as np

from mi_zoo.core import validation
from mi_zoo.data.clevr_2d import programs

ATTRIBUTES = programs.ATTRIBUTES
COLORS = programs.COLORS
SHAPES = programs.SHAPES
SIZES = programs.SIZES
MATERIALS = programs.MATERIALS
ANSWERS = programs.ANSWERS
QUESTION_TYPES = programs.QUESTION_TYPES
ProgramError = programs.ProgramError
execute = programs.execute

DEFAULT_IMAGE_SIZE = 64
DEFAULT_MIN_OBJECTS = 3
DEFAULT_MAX_OBJECTS = 6
CHUNK_SIZE = 1024
QUESTION_LENGTH = 40  # Tokens; the longest template fills about 32.
CAPTION_LENGTH = 96  # Tokens for up to MAX_COUNT objects.
# CLEVR's colours (RGB); background a mid-light gray.
RGB = {
    "gray": (87, 87, 87),
    "red": (173, 35, 35),
    "blue": (42, 75, 215),
    "green": (29, 105, 20),
    "brown": (129, 74, 25),
    "purple": (129, 38, 192),
    "cyan": (41, 208, 208),
    "yellow": (255, 238, 51),
}
BACKGROUND = (190, 190, 190)
# Half-extent of an object's box, in units of the image side.
RADIUS = {"small": 0.07, "large": 0.12}
MIN_CENTRE_GAP = 0.03  # Centres differ by at least this in x and in y.
CAPTION_TEMPLATES = (
    "From left to right there is {objects}.",
    "The {a} is above the {b}.",
)

PAD_ID, UNK_ID = 0, 1
_TOKEN_RE = re.compile(r"[a-z0-9]+|[?.,]")


def tokenize(text):
    """Lower-cases and splits into words and punctuation (? . ,)."""
    return _TOKEN_RE.findall(text.lower())


def _build_vocab():
    words = set()
    for templates in programs.TEMPLATES.values():
        for t in templates:
            words.update(tokenize(re.sub(r"\{\w+\}", " ", t)))
    for t in CAPTION_TEMPLATES:
        words.update(tokenize(re.sub(r"\{\w+\}", " ", t)))
    for values in ATTRIBUTES.values():
        words.update(values)
    words.update(programs.NOUN_WORDS + ("a", "and", ","))
    for rel in programs.RELATION_WORDS.values():
        words.update(tokenize(rel))
    return ("<pad>", "<unk>") + tuple(sorted(words))


VOCAB = _build_vocab()
_WORD_IDS = {w: i for i, w in enumerate(VOCAB)}
_ANSWER_IDS = {a: i for i, a in enumerate(ANSWERS)}


def encode(text):
    """Token ids of a question or caption (0 padding, 1 unknown word)."""
    return np.array(
        [_WORD_IDS.get(w, UNK_ID) for w in tokenize(text)], np.int32
    )


def answer_id(answer):
    """Index of an answer string in ANSWERS."""
    if answer not in _ANSWER_IDS:
        raise ValueError(
            f"unknown answer {answer!r}; the answer vocabulary is {ANSWERS}."
        )
    return _ANSWER_IDS[answer]


def _check_config(image_size, min_objects, max_objects):
    validation.check_positive_int("image_size", image_size)
    if image_size < 16:
        raise ValueError(
            f"`image_size` must be at least 16, got image_size={image_size!r}."
        )
    validation.check_positive_int("min_objects", min_objects)
    validation.check_positive_int("max_objects", max_objects)
    if not min_objects <= max_objects <= programs.MAX_COUNT:
        raise ValueError(
            f"need 1 <= min_objects <= max_objects <= {programs.MAX_COUNT}, "
            f"got min_objects={min_objects!r}, max_objects={max_objects!r}."
        )


def sample_scene(
    rng,
    min_objects=DEFAULT_MIN_OBJECTS,
    max_objects=DEFAULT_MAX_OBJECTS,
    max_tries=200,
):
    """Samples non-overlapping objects with attributes, centres and boxes.

    Returns:
      A list of dicts: "color", "shape", "size", "material" (strings),
      "position" (x, y centre in [0, 1], y downwards) and "box"
      [x1, y1, x2, y2] normalised to [0, 1].

    Raises:
      ValueError: if the objects cannot be placed in `max_tries` attempts.
    """
    n = int(rng.integers(min_objects, max_objects + 1))
    for _ in range(max_tries):
        objects = []
        for _ in range(n):
            obj = {a: v[rng.integers(len(v))] for a, v in ATTRIBUTES.items()}
            r = RADIUS[obj["size"]]
            for _ in range(50):
                x, y = rng.uniform(r, 1 - r, size=2)
                if all(
                    abs(x - o["position"][0]) >= r + RADIUS[o["size"]] + 0.01
                    or abs(y - o["position"][1])
                    >= r + RADIUS[o["size"]] + 0.01
                    for o in objects
                ) and all(
                    abs(x - o["position"][0]) >= MIN_CENTRE_GAP
                    and abs(y - o["position"][1]) >= MIN_CENTRE_GAP
                    for o in objects
                ):
                    break
            else:
                break
            obj["position"] = (float(x), float(y))
            obj["box"] = [
                float(x - r),
                float(y - r),
                float(x + r),
                float(y + r),
            ]
            objects.append(obj)
        if len(objects) == n:
            return objects
    raise ValueError(
        f"could not place {n} non-overlapping objects in "
        f"{max_tries} tries; lower max_objects={max_objects}."
    )


def _shape_masks(shape, dx, dy, r, t):
    """Filled mask and inset (by thickness t) mask of a shape."""
    if shape == "square":
        f = np.maximum(np.abs(dx), np.abs(dy))
        return f <= r, f <= r - t
    if shape == "circle":
        f = np.hypot(dx, dy)
        return f <= r, f <= r - t
    # Triangle: apex (0, -r), base corners (+-r, r); sides 2|dx| - dy = r.
    side = 2 * np.abs(dx) - dy
    return (
        (dy <= r) & (side <= r),
        (dy <= r - t) & (side <= r - np.sqrt(5.0) * t),
    )


def render(scene, image_size=DEFAULT_IMAGE_SIZE):
    """Draws a scene as a uint8 [S, S, 3] image (vectorised over pixels).

    Rubber objects are filled; metal objects are an outline of thickness
    max(2 px, 0.03 of the side).
    """
    image = np.empty((image_size, image_size, 3), np.uint8)
    image[:] = BACKGROUND
    centres = (np.arange(image_size, dtype=np.float32) + 0.5) / image_size
    t = max(2.0 / image_size, 0.03)
    for obj in scene:
        x1, y1, x2, y2 = obj["box"]
        # Only the pixels of the box (plus one) are tested.
        c0, c1 = max(int(x1 * image_size) - 1, 0), int(x2 * image_size) + 2
        r0, r1 = max(int(y1 * image_size) - 1, 0), int(y2 * image_size) + 2
        dx = centres[None, c0:c1] - obj["position"][0]
        dy = centres[r0:r1, None] - obj["position"][1]
        filled, inner = _shape_masks(
            obj["shape"], dx, dy, RADIUS[obj["size"]], t
        )
        mask = filled & ~inner if obj["material"] == "metal" else filled
        image[r0:r1, c0:c1][mask] = RGB[obj["color"]]
    return image


def _describe(obj):
    return " ".join(obj[a] for a in ("size", "color", "material", "shape"))


def caption(scene, rng):
    """ "From left to right there is a small red rubber circle, ... and a
    large blue metal square. The ... is above the ...."."""
    descs = [
        "a " + _describe(o)
        for o in sorted(scene, key=lambda o: o["position"][0])
    ]
    listed = (
        descs[0]
        if len(descs) == 1
        else ", ".join(descs[:-1]) + " and " + descs[-1]
    )
    text = CAPTION_TEMPLATES[0].format(objects=listed)
    if len(scene) >= 2:
        i, j = rng.choice(len(scene), size=2, replace=False)
        a, b = sorted((scene[i], scene[j]), key=lambda o: o["position"][1])
        text += " " + CAPTION_TEMPLATES[1].format(
            a=_describe(a), b=_describe(b)
        )
    return text


def _generate_chunk(args):
    seed, chunk, num, image_size, min_objects, max_objects = args
    rng = np.random.default_rng([seed, chunk])
    balancer = programs.AnswerBalancer()
    examples = []
    while len(examples) < num:
        scene = sample_scene(rng, min_objects, max_objects)
        qtype = QUESTION_TYPES[rng.integers(len(QUESTION_TYPES))]
        for _ in range(30):
            text, program = programs.sample_question(rng, scene, qtype)
            try:
                answer = programs.execute(program, scene)
            except ProgramError:
                continue
            if balancer.accept(qtype, answer):
                break
        else:
            continue  # New scene and type.
        examples.append(
            {
                "image": render(scene, image_size),
                "question": text,
                "question_tokens": encode(text),
                "answer": answer,
                "question_type": qtype,
                "program": program,
                "objects": scene,
                "caption": caption(scene, rng),
            }
        )
    return examples


def generate(
    num_examples,
    seed=0,
    image_size=DEFAULT_IMAGE_SIZE,
    min_objects=DEFAULT_MIN_OBJECTS,
    max_objects=DEFAULT_MAX_OBJECTS,
    num_workers=1,
):
    """Generates CLEVR-2D examples.

    Args:
      num_examples: how many examples.
      seed: integer seed; the same arguments give the same examples whatever
        `num_workers` is.
      image_size: S, images are [S, S, 3] uint8.
      min_objects, max_objects: object count range per scene (<= 10).
      num_workers: processes over chunks of CHUNK_SIZE examples.

    Returns:
      A list of dicts with "image", "question", "question_tokens" (int32
      ids), "answer" (a string of ANSWERS), "question_type", "program" (list
      of step strings), "objects" (the scene, see `sample_scene`) and
      "caption".
    """
    validation.check_positive_int("num_examples", num_examples)
    validation.check_positive_int("num_workers", num_workers)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(
            f"`seed` must be a non-negative integer, got seed={seed!r}."
        )
    _check_config(image_size, min_objects, max_objects)
    jobs = [
        (
            seed,
            k,
            min(CHUNK_SIZE, num_examples - start),
            image_size,
            min_objects,
            max_objects,
        )
        for k, start in enumerate(range(0, num_examples, CHUNK_SIZE))
    ]
    if num_workers == 1 or len(jobs) == 1:
        chunks = map(_generate_chunk, jobs)
    else:
        # Fork (on Linux) so workers need not re-import TensorFlow; they run
        # NumPy only.
        method = (
            "fork"
            if "fork" in multiprocessing.get_all_start_methods()
            else "spawn"
        )
        with multiprocessing.get_context(method).Pool(num_workers) as pool:
            chunks = pool.map(_generate_chunk, jobs)
    return [ex for chunk in chunks for ex in chunk]


def main(argv=None):
    """Measures generation speed: --num_examples, --num_workers, --seed."""
    import argparse  # pylint: disable=import-outside-toplevel

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--num_examples", type=int, default=50000)
    parser.add_argument("--num_workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image_size", type=int, default=DEFAULT_IMAGE_SIZE)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    examples = generate(
        args.num_examples,
        args.seed,
        args.image_size,
        num_workers=args.num_workers,
    )
    seconds = time.perf_counter() - start
    print(
        f"{len(examples)} examples in {seconds:.1f} s: "
        f"{len(examples) / seconds:.0f} examples/s "
        f"({args.num_workers} workers, {args.image_size} px)"
    )


if __name__ == "__main__":
    main()
