"""The shipped presets: each reproduces its documented accuracy on its
documented fresh split, and the Sort-of-CLEVR presets answer questions
about images that this test draws itself with PIL (not with mi_zoo's
renderer) and saves as PNG files, as a user's images would be."""

import os
import tempfile

from absl.testing import absltest
import numpy as np
from PIL import Image
from PIL import ImageDraw

from mi_zoo.core import presets
from mi_zoo.data import sort_of_clevr as soc
from mi_zoo.predict import Predictor
from mi_zoo.predict import evaluation

#: The documented accuracy is reproduced to half a point.
TOLERANCE = 0.005
SIZE, HALF = 75, 5  # Sort-of-CLEVR's image side and object half-size.
NUM_DRAWN = 40


def draw_scenes(folder, count, seed=0):
    """PNG files of `count` scenes of six objects (one per Sort-of-CLEVR
    colour, a square or a circle each, boxes apart) drawn with PIL, and
    per file the (colour, shape, centre x, centre y) of its objects."""
    rng = np.random.default_rng(seed)
    scenes = []
    for k in range(count):
        centres = []
        while len(centres) < len(soc.COLOURS):
            c = rng.integers(HALF, SIZE - HALF, 2)
            if all(np.abs(c - d).max() > 2 * HALF + 1 for d in centres):
                centres.append(c)
        image = Image.new("RGB", (SIZE, SIZE), (soc.BACKGROUND,) * 3)
        draw = ImageDraw.Draw(image)
        objects = []
        for colour, (x, y) in enumerate(centres):
            shape = soc.SHAPES[rng.integers(2)]
            box = [x - HALF, y - HALF, x + HALF, y + HALF]
            fill = tuple(int(v) for v in soc.PALETTE[colour])
            if shape == "square":
                draw.rectangle(box, fill=fill)
            else:
                draw.ellipse(box, fill=fill)
            objects.append((soc.COLOURS[colour], shape, int(x), int(y)))
        path = os.path.join(folder, f"scene_{k}.png")
        image.save(path)
        scenes.append((path, objects))
    return scenes


def non_relational_questions(scenes):
    """(path, question, answer, family) of every object of every scene."""
    rows = []
    for path, objects in scenes:
        for colour, shape, x, y in objects:
            rows += [
                (
                    path,
                    f"what is the shape of the {colour} object ?",
                    shape,
                    "shape",
                ),
                (
                    path,
                    f"is the {colour} object on the left ?",
                    "yes" if x < SIZE / 2 else "no",
                    "left",
                ),
                (
                    path,
                    f"is the {colour} object on the top ?",
                    "yes" if y < SIZE / 2 else "no",
                    "top",
                ),
            ]
    return rows


class ShippedPresetsTest(absltest.TestCase):
    def test_documented_accuracy(self):
        for name in presets.list_presets():
            with self.subTest(preset=name):
                directory = presets.preset_dir(name)
                metadata = presets.read_metadata(directory)
                split = metadata["split"]
                result = evaluation.evaluate_directory(
                    directory, split["seed"], split["num_images"]
                )
                self.assertEqual(result["questions"], split["questions"])
                self.assertEqual(result["dataset"], split["dataset"])
                self.assertAlmostEqual(
                    result["overall"],
                    metadata["accuracy"]["overall"],
                    delta=TOLERANCE,
                )
                self.assertEqual(
                    list(result["by_type"]),
                    list(metadata["accuracy"]["by_type"]),
                )

    def test_questions_about_images_drawn_with_pil(self):
        sort_of_clevr = [
            name
            for name in presets.list_presets()
            if presets.read_config(presets.preset_dir(name))["dataset"]
            == "sort_of_clevr"
        ]
        self.assertNotEmpty(sort_of_clevr)
        folder = tempfile.mkdtemp()
        rows = non_relational_questions(draw_scenes(folder, NUM_DRAWN))
        for name in sort_of_clevr:
            with self.subTest(preset=name):
                predictor = Predictor.from_preset(name)
                metadata = presets.read_metadata(presets.preset_dir(name))
                answers = predictor.predict_batch(
                    [r[0] for r in rows], [r[1] for r in rows], top_k=1
                )
                right = np.array(
                    [got[0][0] == r[2] for got, r in zip(answers, rows)]
                )
                families = np.array([r[3] for r in rows])
                for family in ("shape", "left", "top"):
                    # Each family's documented rate (the larger split), less
                    # 4 binomial standard errors of the 240 drawn questions;
                    # and always better than chance (0.5) by a margin.
                    rate = metadata["report"]["by_type"][
                        f"non_relational/{family}"
                    ]
                    n = np.sum(families == family)
                    floor = rate - 4 * np.sqrt(rate * (1 - rate) / n)
                    got = np.mean(right[families == family])
                    self.assertGreater(got, max(floor, 0.55), family)


if __name__ == "__main__":
    absltest.main()
