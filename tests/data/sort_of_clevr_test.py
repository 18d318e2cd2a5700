"""Tests of the Sort-of-CLEVR generator against brute-force references."""

import collections
import contextlib
import io
import itertools
import math
import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
from PIL import Image

from mi_zoo.data import sort_of_clevr as soc
from mi_zoo.data.sort_of_clevr import contact_sheet


def brute_force_answer(objects, colour, family, image_size):
    """The answer from the scene with explicit loops and math.dist.

    Closest excludes the object itself; ties go to the lowest colour index
    (the common implementation's list.index); the count includes the object.
    """
    colours = [int(c) for c in objects["colour"]]
    shapes = [soc.SHAPES[int(s)] for s in objects["shape"]]
    centres = [tuple(int(v) for v in c) for c in objects["centre"]]
    me = colours.index(colour)
    shape_answer = {"square": "square", "circle": "circle"}
    if family == 0:
        return shape_answer[shapes[me]]
    if family == 1:
        return "yes" if centres[me][0] < image_size / 2 else "no"
    if family == 2:
        return "yes" if centres[me][1] < image_size / 2 else "no"
    others = sorted(range(len(colours)), key=lambda k: colours[k])
    dists = {k: math.dist(centres[me], centres[k]) for k in others}
    if family == 3:
        best = None
        for k in others:
            if k != me and (best is None or dists[k] < dists[best]):
                best = k
        return shape_answer[shapes[best]]
    if family == 4:
        best = None
        for k in others:
            if best is None or dists[k] > dists[best]:
                best = k
        return shape_answer[shapes[best]]
    count = sum(1 for s in shapes if s == shapes[me])
    return str(count)


def examples(num_images=4, seed=0, **kwargs):
    return list(soc.generate(num_images, seed, **kwargs))


class GeneratorTest(parameterized.TestCase):
    def test_shapes_and_dtypes(self):
        ex = examples(1, questions_per_image=2)[0]
        self.assertEqual(ex["image"].shape, (75, 75, 3))
        self.assertEqual(ex["image"].dtype, np.uint8)
        self.assertEqual(ex["question_vector"].shape, (11,))
        self.assertEqual(ex["question_tokens"].shape, (13,))
        self.assertEqual(ex["objects"]["centre"].shape, (6, 2))
        self.assertEqual(ex["objects"]["box"].shape, (6, 4))
        self.assertLen(soc.ANSWERS, 10)
        self.assertEqual(soc.VOCAB[soc.PAD_ID], "<pad>")

    def test_deterministic_given_seed(self):
        a = examples(5, seed=3)
        b = list(soc.generate(5, 3, chunk_size=2))  # chunking does not matter
        c = examples(5, seed=4)
        self.assertLen(a, 5 * 20)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x["image"], y["image"])
            np.testing.assert_array_equal(
                x["question_tokens"], y["question_tokens"]
            )
            self.assertEqual(x["answer"], y["answer"])
        self.assertFalse(np.array_equal(a[0]["image"], c[0]["image"]))
        # Image i does not depend on how many images are generated.
        prefix = soc.generate_arrays(2, 3)
        np.testing.assert_array_equal(prefix["image"][1], a[20]["image"])

    @parameterized.parameters((75, 6), (64, 4), (32, 2), (128, 6))
    def test_objects_in_bounds_distinct_and_disjoint(
        self, image_size, num_objects
    ):
        a = soc.generate_arrays(50, 0, image_size, num_objects, 2)
        s = soc.default_object_size(image_size)
        for n in range(50):
            colours = a["colour"][n]
            self.assertLen(set(colours.tolist()), num_objects)
            boxes = []
            for x, y in a["centre"][n]:
                self.assertTrue(0 <= x - s and x + s < image_size)
                self.assertTrue(0 <= y - s and y + s < image_size)
                boxes.append((x - s, y - s, x + s, y + s))
            for p, q in itertools.combinations(boxes, 2):
                disjoint = (
                    p[2] < q[0] or q[2] < p[0] or p[3] < q[1] or q[3] < p[1]
                )
                self.assertTrue(disjoint, (p, q))
        # Pixel check: every object's full box has only its colour or white.
        for n in range(50):
            for c, (x, y) in zip(a["colour"][n], a["centre"][n]):
                patch = a["image"][n, y - s : y + s + 1, x - s : x + s + 1]
                flat = {tuple(p) for p in patch.reshape(-1, 3).tolist()}
                self.assertLessEqual(
                    flat, {tuple(soc.PALETTE[c].tolist()), (255, 255, 255)}
                )

    def test_default_object_size_is_the_papers(self):
        self.assertEqual(soc.default_object_size(75), 5)

    @parameterized.parameters((75, 6, 0), (75, 6, 1), (60, 3, 2))
    def test_answers_match_brute_force(self, image_size, num_objects, seed):
        count = 0
        for ex in soc.generate(30, seed, image_size, num_objects, 20):
            colour, family = soc.decode_question_vector(ex["question_vector"])
            self.assertEqual(family, ex["question_subtype"])
            self.assertEqual(family // 3, ex["question_type"])
            expected = brute_force_answer(
                ex["objects"], colour, family, image_size
            )
            self.assertEqual(
                soc.ANSWERS[ex["answer"]], expected, ex["question"]
            )
            count += 1
        self.assertEqual(count, 600)

    def test_half_of_the_questions_are_relational(self):
        a = soc.generate_arrays(3, 0, questions_per_image=20)
        np.testing.assert_array_equal(a["question_type"][:, :10], 0)
        np.testing.assert_array_equal(a["question_type"][:, 10:], 1)
        odd = soc.generate_arrays(1, 0, questions_per_image=3)
        np.testing.assert_array_equal(odd["question_type"][0], [0, 0, 1])

    def test_rendered_pixels_match_colour_and_shape(self):
        a = soc.generate_arrays(40, 1)
        s = 5
        white = np.array([255, 255, 255])
        seen = set()
        for n in range(40):
            image = a["image"][n]
            for c, shape, (x, y) in zip(
                a["colour"][n], a["shape"][n], a["centre"][n]
            ):
                colour = soc.PALETTE[c]
                np.testing.assert_array_equal(image[y, x], colour)
                np.testing.assert_array_equal(image[y, x + s], colour)
                np.testing.assert_array_equal(image[y - s, x], colour)
                for dx, dy in itertools.product((-s, s), (-s, s)):
                    corner = image[y + dy, x + dx]
                    if soc.SHAPES[shape] == "square":
                        np.testing.assert_array_equal(corner, colour)
                    else:
                        np.testing.assert_array_equal(corner, white)
                seen.add(soc.SHAPES[shape])
        self.assertEqual(seen, {"square", "circle"})

    def test_palette_is_the_papers_colours(self):
        named = dict(zip(soc.COLOURS, soc.PALETTE.tolist()))
        self.assertEqual(named["red"], [255, 0, 0])
        self.assertEqual(named["blue"], [0, 0, 255])
        self.assertEqual(named["yellow"], [255, 255, 0])
        self.assertLen({tuple(p) for p in soc.PALETTE.tolist()}, 6)

    def test_boxes(self):
        boxes = soc.object_boxes([[10, 20]], 5, 75)
        np.testing.assert_allclose(
            boxes, [[15 / 75, 5 / 75, 26 / 75, 16 / 75]]
        )

    def test_question_vector_round_trip(self):
        for colour, family in itertools.product(range(6), range(6)):
            v = soc.encode_question_vector(colour, family)
            self.assertEqual(v.sum(), 3)
            self.assertEqual(v[6 + family // 3], 1)
            self.assertEqual(v[8 + family % 3], 1)
            self.assertEqual(soc.decode_question_vector(v), (colour, family))
            text = soc.question_text(colour, family)
            self.assertIn(soc.COLOURS[colour], text)
            self.assertEqual(soc.detokenize(soc.tokenize(text)), text)

    def test_tokens_match_the_text(self):
        for ex in examples(2):
            self.assertEqual(
                soc.detokenize(ex["question_tokens"]), ex["question"]
            )
            self.assertEqual(
                ex["question_tokens"][-1] == 0,
                len(ex["question"].split()) < 13,
            )

    @parameterized.parameters(
        ([1, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0], "colour bits"),
        ([1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0], "question type bits"),
        ([1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0], "subtype bits"),
        ([1, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0], "11 zeros and ones"),
        ([1, 0, 0], "11 zeros and ones"),
    )
    def test_bad_question_vector(self, vector, message):
        with self.assertRaisesRegex(ValueError, message):
            soc.decode_question_vector(vector)

    def test_unknown_word(self):
        with self.assertRaisesRegex(
            ValueError,
            r"outside the Sort-of-CLEVR "
            r"vocabulary: \['purple'\]",
        ):
            soc.tokenize("is the purple object on the top ?")
        with self.assertRaisesRegex(ValueError, "more than length=3"):
            soc.tokenize("is the red object", length=3)

    def test_answer_distribution_not_degenerate(self):
        a = soc.generate_arrays(500, 0)
        answers = a["answer"].reshape(-1)
        families = a["question_family"].reshape(-1)
        for family, allowed in enumerate(
            [(2, 3), (0, 1), (0, 1), (2, 3), (2, 3), range(4, 10)]
        ):
            counts = collections.Counter(answers[families == family].tolist())
            self.assertContainsSubset(counts, allowed)
            freq = np.array([counts[k] for k in allowed]) / sum(
                counts.values()
            )
            if family < 5:  # binary answers: neither side above 75 %
                self.assertLess(freq.max(), 0.75, (family, counts))
                self.assertGreater(freq.min(), 0.25, (family, counts))
            else:  # counts: every value 1..6 occurs, the mode below 40 %
                self.assertLess(freq.max(), 0.4, counts)
                self.assertGreater(freq.min(), 0.0, counts)
        self.assertGreater(len(set(answers.tolist())), 9)
        # Question families are about equally frequent.
        self.assertLess(np.bincount(families).std() / len(families) * 6, 0.15)

    @parameterized.parameters(
        (
            dict(num_images=-1),
            r"`num_images` must be an integer >= 0, got "
            r"num_images=-1",
        ),
        (dict(seed=-2), r"`seed` must be an integer >= 0, got seed=-2"),
        (
            dict(num_objects=7),
            r"`num_objects` must be an integer in \[2, 6\]"
            r", got num_objects=7",
        ),
        (dict(num_objects=1), r"num_objects=1"),
        (dict(questions_per_image=0), r"questions_per_image=0"),
        (
            dict(image_size=8, object_size=4),
            r"`object_size` must be smaller "
            r"than image_size / 2, got object_size=4 for image_size=8",
        ),
        (
            dict(image_size=20, object_size=4),
            r"Could not place num_objects=6 "
            r"disjoint objects of object_size=4 in an image of image_size=20",
        ),
        (dict(image_size=True), r"image_size=True"),
    )
    def test_bad_arguments(self, kwargs, message):
        args = dict(num_images=2, seed=0)
        args.update(kwargs)
        num_images, seed = args.pop("num_images"), args.pop("seed")
        with self.assertRaisesRegex(ValueError, message):
            soc.generate_arrays(num_images, seed, **args)

    def test_question_about_missing_colour(self):
        scene = soc.make_scene(np.random.default_rng(0), num_objects=2)
        missing = sorted(set(range(6)) - set(scene["colour"].tolist()))[0]
        with self.assertRaisesRegex(
            ValueError, "not all in the scene's colours"
        ):
            soc.answer_questions(scene, [missing], [0])

    def test_render_rejects_bad_shapes(self):
        with self.assertRaisesRegex(
            ValueError,
            r"render expects centres "
            r"\[N, K, 2\]",
        ):
            soc.render(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 3)))


class ContactSheetTest(absltest.TestCase):
    def test_writes_a_png(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "sheet.png")
            contact_sheet.main(
                [
                    f"--output={path}",
                    "--num_images=3",
                    "--questions_per_image=4",
                ]
            )
            with Image.open(path) as image:
                self.assertEqual(image.format, "PNG")
                self.assertEqual(image.mode, "RGB")
                self.assertGreaterEqual(image.height, 3 * 150)
                pixels = np.asarray(image)
            # The first tile is the first image, scaled by 2.
            first = soc.generate_arrays(1, 0, questions_per_image=4)["image"]
            np.testing.assert_array_equal(
                pixels[6 : 6 + 150 : 2, 6 : 6 + 150 : 2], first[0]
            )

    def assert_usage_error(self, argv, message):
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            with self.assertRaises(SystemExit) as exit_:
                contact_sheet.main(argv)
        self.assertEqual(exit_.exception.code, 2)
        self.assertRegex(stderr.getvalue(), message)

    def test_rejects_extra_arguments(self):
        self.assert_usage_error(
            ["--output=x.png", "oops"], r"unrecognized arguments: oops"
        )

    def test_needs_an_output(self):
        self.assert_usage_error(
            [],
            r"the following arguments are required: "
            r"--output",
        )

    def test_rejects_bad_values(self):
        self.assert_usage_error(
            ["--output=x.png", "--num_images=0"],
            r"--num_images: must be an integer >= 1, "
            r"got 0",
        )
        self.assert_usage_error(
            ["--output=x.png", "--num_objects=7"],
            r"--num_objects must be at most 6, got 7",
        )


if __name__ == "__main__":
    absltest.main()
