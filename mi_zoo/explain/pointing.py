"""The pointing game on CLEVR-2D: does a map point at what the question is
about?

Zhang et al., "Top-down Neural Attention by Excitation Backprop", ECCV 2016,
score a saliency map by whether its maximum falls on the annotated object
(a "hit"). CLEVR-2D knows, for every question, the objects its program
reads: `referents(program, scene)` runs the program and collects the
operand of each step that produces the answer (`query_*` of an object,
`count` and `exist` of a set; both sides of a comparison). For "What color
is the large thing left of the red circle?" that is the large thing, not the
red circle.

For a non-negative map over the image and the boxes of the referents:

- `hit`: the map's maximum lies inside a referent's box;
- `mass`: the fraction of the map's total inside the referents' boxes;
- `area`: the fraction of the image the boxes cover — what a uniform map
  scores on mass, and a random point on hit.

Region maps (one weight per box) are scored the same way with the regions
as the pixels: the referent regions' weights over the total, and whether
the heaviest region is a referent.

A random map (i.i.d. uniform values per pixel or region, seeded) is scored
beside the explanations so the table has its chance level measured, not
assumed.
"""

import collections
from typing import Dict
from typing import Iterable
from typing import Mapping
from typing import Sequence

import numpy as np

from mi_zoo.data.clevr_2d import programs

#: Steps whose operand the answer is about.
_ANSWER_STEPS = ("count", "exist")


def _answers_from(step):
    return step in _ANSWER_STEPS or step.startswith("query_")


def referents(program: Sequence[str], scene: Sequence[Mapping]) -> list:
    """Indices of the scene objects the question's answer is computed from.

    Args:
      program: CLEVR-2D program steps (postfix; each branch starts at
        "scene").
      scene: the objects, as `clevr_2d.sample_scene` gives them.

    Returns:
      Sorted object indices; empty when the question is about an empty set
      (e.g. "Are there any red circles?" answered no).

    Raises:
      programs.ProgramError: the program does not run on the scene.
    """
    found, start = set(), None
    for i, step in enumerate(program):
        name = step.split("[")[0]
        if name == "scene":
            start = i
        elif _answers_from(name) and start is not None:
            operand = programs.run(list(program[start:i]), scene)
            found.update(
                operand if isinstance(operand, frozenset) else {int(operand)}
            )
            start = None
    return sorted(found)


def box_mask(boxes, height, width):
    """bool [H, W]: pixels whose centre lies in any box (x1, y1, x2, y2 in
    [0, 1])."""
    ys = (np.arange(height) + 0.5) / height
    xs = (np.arange(width) + 0.5) / width
    mask = np.zeros((height, width), bool)
    for x1, y1, x2, y2 in np.asarray(boxes, np.float64).reshape(-1, 4):
        mask |= ((ys >= y1) & (ys <= y2))[:, None] & ((xs >= x1) & (xs <= x2))[
            None, :
        ]
    return mask


def score_map(heat, inside):
    """{"hit", "mass", "area"} of a non-negative map against a bool mask of
    the same shape (pixels, or regions)."""
    heat = np.asarray(heat, np.float64)
    inside = np.asarray(inside, bool)
    if heat.shape != inside.shape:
        raise ValueError(
            f"The map {heat.shape} and the mask {inside.shape} "
            "must have the same shape."
        )
    if np.any(heat < 0):
        raise ValueError(
            "The map must be non-negative (got a minimum of "
            f"{heat.min():.3g})."
        )
    total = heat.sum()
    return {
        "hit": float(inside.flat[int(np.argmax(heat))]),
        "mass": float(heat[inside].sum() / total) if total > 0 else 0.0,
        "area": float(inside.mean()),
    }


class PointingGame:
    """Accumulates scores per method and question type.

    game = PointingGame(seed=0)
    game.add("hadamard", "query_color", heat, inside)
    game.add_random("query_color", inside)   # the chance level
    game.table()   # {method: {question type: {hit, mass, area, n}}}
    """

    def __init__(self, seed: int = 0):
        self._rng = np.random.default_rng(seed)
        self._scores = collections.defaultdict(
            lambda: collections.defaultdict(list)
        )

    def add(self, method: str, question_type: str, heat, inside):
        self._scores[method][question_type].append(score_map(heat, inside))

    def add_random(self, question_type: str, inside):
        """Scores a map of i.i.d. uniform values as the method "random"."""
        heat = self._rng.random(np.shape(inside))
        self.add("random", question_type, heat, inside)

    def table(self) -> Dict[str, Dict[str, Dict[str, float]]]:
        """{method: {question type or "all": {"hit", "mass", "area", "n"}}}
        with the means over examples."""
        out = {}
        for method, by_type in self._scores.items():
            rows, everything = {}, []
            for qtype in sorted(by_type):
                rows[qtype] = _mean(by_type[qtype])
                everything.extend(by_type[qtype])
            rows["all"] = _mean(everything)
            out[method] = rows
        return out


def _mean(scores: Iterable[Mapping[str, float]]):
    scores = list(scores)
    return {
        "hit": float(np.mean([s["hit"] for s in scores])),
        "mass": float(np.mean([s["mass"] for s in scores])),
        "area": float(np.mean([s["area"] for s in scores])),
        "n": len(scores),
    }


def markdown_table(table, metric: str = "mass") -> str:
    """A question type × method markdown table of one metric, with the
    boxes' area fraction (the uniform map's mass) and the count."""
    methods = sorted(table, key=lambda m: (m == "random", m))
    types = sorted(
        {t for rows in table.values() for t in rows},
        key=lambda t: (t == "all", t),
    )
    first = table[methods[0]]
    lines = [
        "| question type | n | box area | " + " | ".join(methods) + " |",
        "|---|---:|---:|" + "---:|" * len(methods),
    ]
    for qtype in types:
        if qtype not in first:
            continue
        cells = [
            f"{table[m][qtype][metric]:.3f}" if qtype in table[m] else "–"
            for m in methods
        ]
        lines.append(
            f"| {qtype} | {first[qtype]['n']} | "
            f"{first[qtype]['area']:.3f} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)
