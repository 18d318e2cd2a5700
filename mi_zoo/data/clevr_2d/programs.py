"""CLEVR-2D functional programs: the interpreter, question templates and the
answer balancer.

A program is a list of steps in postfix order, CLEVR style, run on a stack:

    ["scene", "filter_color[red]", "filter_shape[circle]", "unique",
     "relate[left]", "filter_size[large]", "unique", "query_color"]

is "What color is the large thing left of the red circle?". Steps:

  scene                               -> set of all objects
  filter_<attr>[value]   set          -> set
  relate[left|right|above|below] obj  -> set of the other objects that lie
                                         left of / right of / above / below
                                         it (by centre; y grows downwards)
  unique                 set          -> obj (error unless exactly one)
  count                  set          -> int
  exist                  set          -> yes / no
  query_<attr>           obj          -> value
  equal_<attr>           value value  -> yes / no
  equal_integer, less_than, greater_than   int int -> yes / no

The answer comes only from `execute`; the templates build a program and its
text together. Reference: Johnson et al., "CLEVR: A Diagnostic Dataset for
Compositional Language and Elementary Visual Reasoning", CVPR 2017.

    python -m pytest tests/data/clevr_2d_programs_test.py -q
"""

import collections
import re

ATTRIBUTES = collections.OrderedDict(
    [
        ("size", ("small", "large")),
        (
            "color",
            (
                "gray",
                "red",
                "blue",
                "green",
                "brown",
                "purple",
                "cyan",
                "yellow",
            ),
        ),
        ("material", ("rubber", "metal")),
        ("shape", ("square", "circle", "triangle")),
    ]
)
COLORS = ATTRIBUTES["color"]
SHAPES = ATTRIBUTES["shape"]
SIZES = ATTRIBUTES["size"]
MATERIALS = ATTRIBUTES["material"]
RELATIONS = ("left", "right", "above", "below")
RELATION_WORDS = {
    "left": "left of",
    "right": "right of",
    "above": "above",
    "below": "below",
}
MAX_COUNT = 10
ANSWERS = (
    ("yes", "no")
    + tuple(str(i) for i in range(MAX_COUNT + 1))
    + COLORS
    + SHAPES
    + SIZES
    + MATERIALS
)
QUESTION_TYPES = (
    "exist",
    "count",
    "query_color",
    "query_shape",
    "query_size",
    "query_material",
    "equal_color",
    "equal_shape",
    "equal_size",
    "equal_material",
    "equal_integer",
    "less_than",
    "greater_than",
)

# {S}: a set ("red things left of the blue circle"), {R}: an object reference
# ("large thing left of the red circle"), {N}: a singular noun phrase.
TEMPLATES = {
    "exist": ("Are there any {S}?", "Is there a {N}?"),
    "count": ("How many {S} are there?", "What number of {S} are there?"),
    "query_color": ("What color is the {R}?", "The {R} has what color?"),
    "query_shape": ("What shape is the {R}?", "The {R} has what shape?"),
    "query_size": ("What size is the {R}?", "How big is the {R}?"),
    "query_material": (
        "What material is the {R}?",
        "What is the {R} made of?",
    ),
    "equal_integer": (
        "Are there the same number of {S} and {S2}?",
        "Is the number of {S} the same as the number of {S2}?",
    ),
    "less_than": (
        "Are there fewer {S} than {S2}?",
        "Is the number of {S} less than the number of {S2}?",
    ),
    "greater_than": (
        "Are there more {S} than {S2}?",
        "Is the number of {S} greater than the number of {S2}?",
    ),
}
for _attr in ATTRIBUTES:
    TEMPLATES["equal_" + _attr] = (
        "Does the {R} have the same %s as the {R2}?" % _attr,
        "Is the {R} the same %s as the {R2}?" % _attr,
    )
NOUN_WORDS = ("thing", "things") + tuple(s + "s" for s in SHAPES)

_STEP_RE = re.compile(r"^([a-z_]+)(?:\[([a-z0-9]+)\])?$")


class ProgramError(ValueError):
    """A program that is malformed or has no answer on a scene."""


class _Obj(int):
    """An object index (distinct from a count on the stack)."""


def _parse(step):
    match = _STEP_RE.match(step) if isinstance(step, str) else None
    if not match:
        raise ProgramError(f"malformed program step {step!r}.")
    return match.group(1), match.group(2)


def _pop(stack, kind, step):
    if not stack:
        raise ProgramError(f"step {step!r} has no input on the stack.")
    value = stack.pop()
    ok = {
        "set": lambda v: isinstance(v, frozenset),
        "obj": lambda v: isinstance(v, _Obj),
        "int": lambda v: type(v) is int,  # pylint: disable=unidiomatic-typecheck
        "value": lambda v: isinstance(v, str),
    }[kind](value)
    if not ok:
        raise ProgramError(f"step {step!r} expects a {kind}, got {value!r}.")
    return value


def _yes(flag):
    return "yes" if flag else "no"


def run(program, scene):
    """Runs a program (or a prefix of one) and returns the top of the stack:
    a frozenset of object indices, an object index, an int or a string.

    Raises:
      ProgramError: on a malformed step, a type mismatch, `unique` on a set
        that does not hold exactly one object, a count above MAX_COUNT, or a
        program that does not leave exactly one value.
    """
    stack = []
    for step in program:
        name, arg = _parse(step)
        if name == "scene":
            stack.append(frozenset(range(len(scene))))
        elif name.startswith("filter_"):
            attr = name[len("filter_") :]
            if attr not in ATTRIBUTES or arg not in ATTRIBUTES[attr]:
                raise ProgramError(f"unknown filter {step!r}.")
            objs = _pop(stack, "set", step)
            stack.append(frozenset(i for i in objs if scene[i][attr] == arg))
        elif name == "relate":
            if arg not in RELATIONS:
                raise ProgramError(
                    f"unknown relation in {step!r}; expected "
                    f"one of {RELATIONS}."
                )
            o = _pop(stack, "obj", step)
            axis = 0 if arg in ("left", "right") else 1
            sign = -1 if arg in ("left", "above") else 1
            ref = scene[o]["position"][axis]
            stack.append(
                frozenset(
                    i
                    for i in range(len(scene))
                    if i != o and sign * (scene[i]["position"][axis] - ref) > 0
                )
            )
        elif name == "unique":
            objs = _pop(stack, "set", step)
            if len(objs) != 1:
                raise ProgramError(f"`unique` got {len(objs)} objects.")
            stack.append(_Obj(next(iter(objs))))
        elif name == "count":
            n = len(_pop(stack, "set", step))
            if n > MAX_COUNT:
                raise ProgramError(
                    f"count {n} is above MAX_COUNT={MAX_COUNT}."
                )
            stack.append(n)
        elif name == "exist":
            stack.append(_yes(_pop(stack, "set", step)))
        elif name.startswith("query_") and name[6:] in ATTRIBUTES:
            stack.append(scene[_pop(stack, "obj", step)][name[6:]])
        elif name.startswith("equal_") and name[6:] in ATTRIBUTES:
            b, a = _pop(stack, "value", step), _pop(stack, "value", step)
            stack.append(_yes(a == b))
        elif name in ("equal_integer", "less_than", "greater_than"):
            b, a = _pop(stack, "int", step), _pop(stack, "int", step)
            stack.append(
                _yes(
                    {
                        "equal_integer": a == b,
                        "less_than": a < b,
                        "greater_than": a > b,
                    }[name]
                )
            )
        else:
            raise ProgramError(f"unknown program step {step!r}.")
    if len(stack) != 1:
        raise ProgramError(
            f"program {program!r} does not leave exactly one "
            f"value (stack: {stack!r})."
        )
    return stack[0]


def execute(program, scene):
    """Runs a program on a scene and returns its answer (a string of ANSWERS).

    Args:
      program: list of steps (see the module docstring).
      scene: list of objects, dicts with "color", "shape", "size",
        "material" and "position" (x, y centre in [0, 1], y downwards).

    Returns:
      The answer string.

    Raises:
      ProgramError: as `run`, or when the program ends in a set or an object
        rather than an answer.
    """
    out = run(program, scene)
    if isinstance(out, (frozenset, _Obj)):
        raise ProgramError(
            f"program {program!r} ends in a set or an object, not an answer."
        )
    return str(out)


def noun_phrase(filters, plural=False):
    """ "large red metal circle(s)" / "thing(s)" from {attr: value}."""
    words = [filters[a] for a in ("size", "color", "material") if a in filters]
    noun = filters.get("shape", "thing")
    return " ".join(words + [noun + ("s" if plural else "")])


def _filter_steps(filters):
    return [f"filter_{a}[{v}]" for a, v in filters.items()]


def _random_filters(rng, scene, exclude=(), p=0.5, obj=None):
    """Attribute filters with values read from `obj` or a random object each."""
    filters = collections.OrderedDict()
    for attr, values in ATTRIBUTES.items():
        if attr in exclude or rng.random() >= p:
            continue
        if obj is not None:
            filters[attr] = obj[attr]
        elif rng.random() < 0.75:
            filters[attr] = scene[rng.integers(len(scene))][attr]
        else:
            filters[attr] = values[rng.integers(len(values))]
    return filters


def sample_reference(rng, scene, exclude=(), relation_p=0.3):
    """A program and text for one object ("large thing left of the red
    circle"); it may fail to be unique, which `execute` then reports."""
    if len(scene) >= 2 and rng.random() < relation_p:
        anchor_prog, anchor_text = sample_reference(rng, scene, (), 0.0)
        rel = RELATIONS[rng.integers(len(RELATIONS))]
        prog = anchor_prog + [f"relate[{rel}]"]
        try:
            # Describe an object of the related set, so the filters can match.
            candidates = sorted(run(prog, scene))
        except ProgramError:
            candidates = []
        obj = (
            scene[candidates[rng.integers(len(candidates))]]
            if candidates
            else None
        )
        filters = _random_filters(rng, scene, exclude, 0.5, obj)
        text = (
            f"{noun_phrase(filters)} {RELATION_WORDS[rel]} the {anchor_text}"
        )
        return prog + _filter_steps(filters) + ["unique"], text
    obj = scene[rng.integers(len(scene))]
    filters = _random_filters(rng, scene, exclude, 0.6, obj)
    return ["scene"] + _filter_steps(filters) + ["unique"], noun_phrase(
        filters
    )


def sample_set(rng, scene, relation_p=0.3):
    """A set program and its plural text ("red things left of the cube")."""
    if len(scene) >= 2 and rng.random() < relation_p:
        anchor_prog, anchor_text = sample_reference(rng, scene, (), 0.0)
        rel = RELATIONS[rng.integers(len(RELATIONS))]
        filters = _random_filters(rng, scene, (), 0.4)
        text = (
            f"{noun_phrase(filters, True)} {RELATION_WORDS[rel]} the "
            f"{anchor_text}"
        )
        return (
            anchor_prog + [f"relate[{rel}]"] + _filter_steps(filters),
            text,
        )
    filters = _random_filters(rng, scene, (), 0.5)
    return ["scene"] + _filter_steps(filters), noun_phrase(filters, True)


def sample_question(rng, scene, question_type):
    """Samples one question of a type; returns (text, program).

    The program may have no answer on the scene (a non-unique reference);
    the caller executes it and rejects those.
    """
    if question_type not in QUESTION_TYPES:
        raise ValueError(
            f"`question_type` must be one of {QUESTION_TYPES}, "
            f"got question_type={question_type!r}."
        )
    template = TEMPLATES[question_type][
        rng.integers(len(TEMPLATES[question_type]))
    ]
    if question_type == "exist":
        prog, text = sample_set(rng, scene)
        if "{N}" in template:  # singular: "Is there a red circle ...?"
            text = _singular(text)
        return template.format(S=text, N=text), prog + ["exist"]
    if question_type == "count":
        prog, text = sample_set(rng, scene)
        return template.format(S=text), prog + ["count"]
    if question_type.startswith("query_"):
        attr = question_type[6:]
        prog, text = sample_reference(rng, scene, exclude=(attr,))
        return template.format(R=text), prog + [question_type]
    if question_type.startswith("equal_") and question_type[6:] in ATTRIBUTES:
        attr = question_type[6:]
        prog1, text1 = sample_reference(rng, scene, exclude=(attr,))
        prog2, text2 = sample_reference(rng, scene, exclude=(attr,))
        return (
            template.format(R=text1, R2=text2),
            prog1
            + [f"query_{attr}"]
            + prog2
            + [f"query_{attr}", question_type],
        )
    if question_type in ("equal_integer", "less_than", "greater_than"):
        prog1, text1 = sample_set(rng, scene)
        prog2, text2 = sample_set(rng, scene)
        return (
            template.format(S=text1, S2=text2),
            prog1 + ["count"] + prog2 + ["count", question_type],
        )
    raise AssertionError(question_type)  # Unreachable.


def _singular(plural_text):
    """ "red things left of the blue circle" -> "red thing left of the ..."."""
    words = plural_text.split(" ")
    for i, w in enumerate(words):  # The first noun is the set's own noun.
        if w in NOUN_WORDS:
            words[i] = w[:-1]
            break
    return " ".join(words)


class AnswerBalancer:
    """Rejection rule that keeps any answer from dominating a question type.

    Within a type, with counts c(a) of the answers accepted so far and
    mean = (sum of c) / (number of distinct answers seen), a new answer a is
    accepted iff c(a) < tolerance * mean + slack. An answer never seen is
    always accepted, so rare answers are never starved; a frequent one waits
    until the others catch up. The largest share of any answer is thus at
    most about tolerance / (number of answers) (+ slack).
    """

    def __init__(self, tolerance=1.1, slack=1):
        self.tolerance = tolerance
        self.slack = slack
        self.counts = collections.defaultdict(collections.Counter)

    def accept(self, question_type, answer):
        """Records and returns True iff `answer` may be used for the type."""
        counts = self.counts[question_type]
        if counts:
            mean = sum(counts.values()) / len(counts)
            if counts[answer] >= self.tolerance * mean + self.slack:
                return False
        counts[answer] += 1
        return True
