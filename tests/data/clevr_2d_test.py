"""Tests of CLEVR-2D scene sampling, rendering, vocabulary and generation."""

import collections
import os
import tempfile
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from mi_zoo.data import clevr_2d
from mi_zoo.data.clevr_2d import contact_sheet as clevr_2d_contact_sheet


def one_object(shape, material, color="red", size="large"):
    r = clevr_2d.RADIUS[size]
    return [
        {
            "color": color,
            "shape": shape,
            "size": size,
            "material": material,
            "position": (0.5, 0.5),
            "box": [0.5 - r, 0.5 - r, 0.5 + r, 0.5 + r],
        }
    ]


class RenderTest(parameterized.TestCase):
    @parameterized.product(shape=clevr_2d.SHAPES, material=clevr_2d.MATERIALS)
    def test_filled_or_outlined(self, shape, material):
        image = clevr_2d.render(one_object(shape, material), 64)
        self.assertEqual(image.shape, (64, 64, 3))
        self.assertEqual(image.dtype, np.uint8)
        red = np.all(image == clevr_2d.RGB["red"], axis=-1)
        centre = (36, 32) if shape == "triangle" else (32, 32)
        # Rubber is filled; metal shows the background at its centre.
        self.assertEqual(bool(red[centre]), material == "rubber")
        self.assertTrue(red.any())
        ys, xs = np.nonzero(red)
        # Everything drawn lies in the box (in pixels, +-1).
        self.assertGreaterEqual(xs.min(), int(0.38 * 64) - 1)
        self.assertLessEqual(xs.max(), int(0.62 * 64) + 1)
        self.assertGreaterEqual(ys.min(), int(0.38 * 64) - 1)
        self.assertLessEqual(ys.max(), int(0.62 * 64) + 1)

    def test_shapes_differ(self):
        masks = [
            np.all(
                clevr_2d.render(one_object(s, "rubber"), 64)
                == clevr_2d.RGB["red"],
                axis=-1,
            ).sum()
            for s in clevr_2d.SHAPES
        ]
        self.assertGreater(masks[0], masks[1])  # square > circle
        self.assertGreater(masks[1], masks[2])  # circle > triangle

    def test_metal_draws_fewer_pixels(self):
        filled, outline = [
            np.all(
                clevr_2d.render(one_object("circle", m), 128)
                == clevr_2d.RGB["red"],
                -1,
            ).sum()
            for m in ("rubber", "metal")
        ]
        self.assertLess(outline, 0.7 * filled)


class SceneTest(absltest.TestCase):
    def test_non_overlapping_in_range(self):
        rng = np.random.default_rng(0)
        for _ in range(50):
            scene = clevr_2d.sample_scene(rng, 3, 6)
            self.assertBetween(len(scene), 3, 6)
            boxes = np.array([o["box"] for o in scene])
            self.assertTrue(np.all((boxes >= 0) & (boxes <= 1)))
            for i in range(len(scene)):
                for j in range(i):
                    a, b = boxes[i], boxes[j]
                    overlap = (
                        a[0] < b[2]
                        and b[0] < a[2]
                        and a[1] < b[3]
                        and b[1] < a[3]
                    )
                    self.assertFalse(overlap, (a, b))

    def test_impossible_placement(self):
        # Radii too large for any 10 objects to fit.
        with mock.patch.dict(clevr_2d.RADIUS, {"small": 0.3, "large": 0.3}):
            with self.assertRaisesRegex(
                ValueError,
                r"could not place 10 "
                r"non-overlapping objects",
            ):
                clevr_2d.sample_scene(
                    np.random.default_rng(0), 10, 10, max_tries=3
                )


class VocabTest(absltest.TestCase):
    def test_special_ids(self):
        self.assertEqual(clevr_2d.VOCAB[:2], ("<pad>", "<unk>"))
        self.assertEqual(
            list(clevr_2d.encode("What color is the zebra?")),
            [clevr_2d.VOCAB.index(w) for w in ("what", "color", "is", "the")]
            + [1, clevr_2d.VOCAB.index("?")],
        )

    def test_answer_ids(self):
        self.assertEqual(clevr_2d.answer_id("yes"), 0)
        self.assertEqual(clevr_2d.ANSWERS[clevr_2d.answer_id("7")], "7")
        with self.assertRaisesRegex(ValueError, r"unknown answer 'maybe'"):
            clevr_2d.answer_id("maybe")


class GenerateTest(parameterized.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.examples = clevr_2d.generate(1024, seed=3)

    def test_answers_come_from_programs(self):
        for ex in self.examples[:300]:
            self.assertEqual(
                clevr_2d.execute(ex["program"], ex["objects"]), ex["answer"]
            )
            self.assertIn(ex["question_type"], clevr_2d.QUESTION_TYPES)

    def test_tokens_known_and_short(self):
        for ex in self.examples:
            q, c = ex["question_tokens"], clevr_2d.encode(ex["caption"])
            self.assertNotIn(clevr_2d.UNK_ID, q)
            self.assertNotIn(clevr_2d.UNK_ID, c)
            self.assertLessEqual(len(q), clevr_2d.QUESTION_LENGTH)
            self.assertLessEqual(len(c), clevr_2d.CAPTION_LENGTH)

    def test_all_types_and_relations_present(self):
        types = collections.Counter(
            ex["question_type"] for ex in self.examples
        )
        self.assertCountEqual(types, clevr_2d.QUESTION_TYPES)
        steps = {s for ex in self.examples for s in ex["program"]}
        for rel in ("left", "right", "above", "below"):
            self.assertIn(f"relate[{rel}]", steps)

    def test_balanced_answers_per_type(self):
        by_type = collections.defaultdict(collections.Counter)
        for ex in self.examples:
            by_type[ex["question_type"]][ex["answer"]] += 1
        for qtype, counts in by_type.items():
            mean = sum(counts.values()) / len(counts)
            self.assertLessEqual(
                max(counts.values()), 1.25 * mean + 2, (qtype, counts)
            )
            if set(counts) == {"yes", "no"}:
                share = counts["yes"] / sum(counts.values())
                self.assertBetween(share, 0.4, 0.6)

    def test_caption(self):
        caption = self.examples[0]["caption"]
        self.assertStartsWith(caption, "From left to right there is a ")
        for o in self.examples[0]["objects"]:
            self.assertIn(
                f"{o['size']} {o['color']} {o['material']} {o['shape']}",
                caption,
            )

    def test_seeded(self):
        a = clevr_2d.generate(5, seed=1, image_size=32)
        b = clevr_2d.generate(5, seed=1, image_size=32)
        c = clevr_2d.generate(5, seed=2, image_size=32)
        self.assertEqual(a[0]["image"].shape, (32, 32, 3))
        self.assertEqual(
            [e["question"] for e in a], [e["question"] for e in b]
        )
        np.testing.assert_array_equal(a[4]["image"], b[4]["image"])
        self.assertNotEqual(
            [e["question"] for e in a], [e["question"] for e in c]
        )

    def test_workers_do_not_change_output(self):
        with mock.patch.object(clevr_2d, "CHUNK_SIZE", 4):
            one = clevr_2d.generate(10, seed=0, image_size=32)
            two = clevr_2d.generate(10, seed=0, image_size=32, num_workers=2)
        self.assertEqual(
            [e["program"] for e in one], [e["program"] for e in two]
        )

    @parameterized.named_parameters(
        ("num_examples", dict(num_examples=0), r"num_examples=0"),
        ("seed", dict(seed=-1), r"seed=-1"),
        ("image_size", dict(image_size=8), r"image_size=8"),
        (
            "order",
            dict(min_objects=5, max_objects=4),
            r"min_objects=5, max_objects=4",
        ),
        ("too_many", dict(max_objects=11), r"max_objects=11"),
        ("workers", dict(num_workers=0), r"num_workers=0"),
    )
    def test_bad_arguments(self, kwargs, message):
        args = dict(num_examples=2)
        args.update(kwargs)
        with self.assertRaisesRegex(ValueError, message):
            clevr_2d.generate(**args)


class ContactSheetTest(absltest.TestCase):
    def test_writes_png(self):
        path = os.path.join(tempfile.mkdtemp(), "sheet.png")
        clevr_2d_contact_sheet.main(
            [f"--output={path}", "--num_images=5", "--image_size=32"]
        )
        with open(path, "rb") as f:
            self.assertEqual(f.read(4), b"\x89PNG")
        sheet = clevr_2d_contact_sheet.contact_sheet(
            clevr_2d.generate(5, seed=0, image_size=32)
        )
        tile = clevr_2d_contact_sheet.TILE
        self.assertEqual(
            sheet.size,
            (4 * tile, 2 * (tile + clevr_2d_contact_sheet.TEXT_HEIGHT)),
        )

    def test_no_examples(self):
        with self.assertRaisesRegex(ValueError, r"at least one example"):
            clevr_2d_contact_sheet.contact_sheet([])


if __name__ == "__main__":
    absltest.main()
