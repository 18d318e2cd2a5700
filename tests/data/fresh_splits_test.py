"""`fresh_splits`: Sort-of-CLEVR and CLEVR-2D splits drawn from any seed,
as text, agreeing with the generators' arrays, and their errors."""

from absl.testing import absltest
import numpy as np

from mi_zoo.data import clevr_2d
from mi_zoo.data import fresh_splits
from mi_zoo.data import sort_of_clevr as soc
from mi_zoo.data import vqa_sources


class SortOfClevrTest(absltest.TestCase):
    def test_the_generators_questions_answers_and_types(self):
        split = fresh_splits.fresh_split("sort_of_clevr", 7, 3)
        arrays = soc.generate_arrays(3, 7)
        np.testing.assert_array_equal(split.images, arrays["image"])
        np.testing.assert_array_equal(
            split.image_index, np.repeat([0, 1, 2], 20)
        )
        np.testing.assert_array_equal(
            [soc.tokenize(q) for q in split.questions],
            arrays["question_tokens"].reshape(-1, soc.QUESTION_LENGTH),
        )
        self.assertEqual(
            list(split.answers),
            [soc.ANSWERS[a] for a in arrays["answer"].reshape(-1)],
        )
        families = arrays["question_family"].reshape(-1)
        self.assertEqual(
            list(split.question_types),
            [vqa_sources.SORT_OF_CLEVR_QUESTION_TYPES[f] for f in families],
        )
        self.assertEqual(
            split.type_names, vqa_sources.SORT_OF_CLEVR_QUESTION_TYPES
        )

    def test_seeds(self):
        a = fresh_splits.fresh_split("sort_of_clevr", 100, 2)
        b = fresh_splits.fresh_split("sort_of_clevr", 100, 2)
        c = fresh_splits.fresh_split("sort_of_clevr", 101, 2)
        np.testing.assert_array_equal(a.images, b.images)
        self.assertEqual(a.questions, b.questions)
        self.assertFalse(np.array_equal(a.images, c.images))

    def test_small_config_differs_in_split_sizes_only(self):
        small = fresh_splits.fresh_split(
            "sort_of_clevr", 0, 1, {"config": "small"}
        )
        paper = fresh_splits.fresh_split("sort_of_clevr", 0, 1)
        np.testing.assert_array_equal(small.images, paper.images)
        self.assertEqual(small.questions, paper.questions)


class Clevr2dTest(absltest.TestCase):
    def test_the_generators_examples(self):
        split = fresh_splits.fresh_split("clevr2d", 3, 4, {"config": "small"})
        examples = clevr_2d.generate(4, seed=3)
        np.testing.assert_array_equal(
            split.images, [e["image"] for e in examples]
        )
        np.testing.assert_array_equal(split.image_index, np.arange(4))
        self.assertEqual(
            split.questions, tuple(e["question"] for e in examples)
        )
        self.assertEqual(split.answers, tuple(e["answer"] for e in examples))
        self.assertEqual(
            split.question_types, tuple(e["question_type"] for e in examples)
        )
        self.assertEqual(split.type_names, tuple(clevr_2d.QUESTION_TYPES))


class ErrorsTest(absltest.TestCase):
    def test_errors(self):
        for args, message in (
            (
                ("clevr", 0, 1),
                "Fresh splits are drawn for the generated datasets "
                "(clevr2d, sort_of_clevr) only, got dataset='clevr'.",
            ),
            (
                ("sort_of_clevr", -1, 1),
                "`seed` must be an integer >= 0, got seed=-1.",
            ),
            (
                ("sort_of_clevr", 1.5, 1),
                "`seed` must be an integer >= 0, got seed=1.5.",
            ),
            (
                ("sort_of_clevr", 0, 0),
                "`num_images` must be a positive integer, got num_images=0.",
            ),
            (
                ("sort_of_clevr", 0, 1, {"size": 3}),
                "unknown `options` ['size'] for the 'sort_of_clevr' dataset; "
                "it accepts ['config'], got options={'size': 3}.",
            ),
            (
                ("clevr2d", 0, 1, {"config": "huge"}),
                "`options['config']` must be one of ('default', 'small'), "
                "got options['config']='huge'.",
            ),
        ):
            with self.subTest(args=args):
                with self.assertRaisesWithLiteralMatch(ValueError, message):
                    fresh_splits.fresh_split(*args)


if __name__ == "__main__":
    absltest.main()
