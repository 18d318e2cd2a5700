"""Tests of the CLEVR-2D program interpreter, templates and balancer on
hand-built scenes with known answers."""

import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from mi_zoo.data.clevr_2d import programs


def obj(color, shape, size, material, x, y):
    return {
        "color": color,
        "shape": shape,
        "size": size,
        "material": material,
        "position": (x, y),
    }


# Left to right: red circle, blue square (top), large gray triangle (bottom),
# small red square.
SCENE = [
    obj("red", "circle", "large", "rubber", 0.1, 0.5),
    obj("blue", "square", "small", "metal", 0.4, 0.2),
    obj("gray", "triangle", "large", "metal", 0.6, 0.8),
    obj("red", "square", "small", "rubber", 0.9, 0.5),
]
RED_CIRCLE = ["scene", "filter_color[red]", "filter_shape[circle]", "unique"]


class ExecuteTest(parameterized.TestCase):
    @parameterized.named_parameters(
        ("exist_yes", ["scene", "filter_shape[triangle]", "exist"], "yes"),
        ("exist_no", ["scene", "filter_color[green]", "exist"], "no"),
        ("count", ["scene", "filter_color[red]", "count"], "2"),
        ("count_zero", ["scene", "filter_color[cyan]", "count"], "0"),
        ("count_all", ["scene", "count"], "4"),
        (
            "query_color",
            ["scene", "filter_shape[triangle]", "unique", "query_color"],
            "gray",
        ),
        (
            "query_shape",
            ["scene", "filter_color[blue]", "unique", "query_shape"],
            "square",
        ),
        ("query_size", RED_CIRCLE + ["query_size"], "large"),
        (
            "query_material",
            ["scene", "filter_color[blue]", "unique", "query_material"],
            "metal",
        ),
        # "What color is the large thing right of the red circle?"
        (
            "relate_right",
            RED_CIRCLE
            + ["relate[right]", "filter_size[large]", "unique", "query_color"],
            "gray",
        ),
        (
            "relate_left",
            ["scene", "filter_color[gray]", "unique", "relate[left]", "count"],
            "2",
        ),
        (
            "relate_above",
            [
                "scene",
                "filter_color[gray]",
                "unique",
                "relate[above]",
                "count",
            ],
            "3",
        ),
        (
            "relate_below",
            [
                "scene",
                "filter_color[blue]",
                "unique",
                "relate[below]",
                "filter_shape[square]",
                "unique",
                "query_color",
            ],
            "red",
        ),
        (
            "equal_color_yes",
            RED_CIRCLE
            + [
                "query_color",
                "scene",
                "filter_shape[square]",
                "filter_size[small]",
                "filter_material[rubber]",
                "unique",
                "query_color",
                "equal_color",
            ],
            "yes",
        ),
        (
            "equal_shape_no",
            RED_CIRCLE
            + ["query_shape"]
            + RED_CIRCLE
            + [
                "relate[right]",
                "filter_color[gray]",
                "unique",
                "query_shape",
                "equal_shape",
            ],
            "no",
        ),
        (
            "equal_size",
            [
                "scene",
                "filter_color[blue]",
                "unique",
                "query_size",
                "scene",
                "filter_shape[triangle]",
                "unique",
                "query_size",
                "equal_size",
            ],
            "no",
        ),
        (
            "equal_material",
            [
                "scene",
                "filter_color[blue]",
                "unique",
                "query_material",
                "scene",
                "filter_shape[triangle]",
                "unique",
                "query_material",
                "equal_material",
            ],
            "yes",
        ),
        (
            "equal_integer",
            [
                "scene",
                "filter_color[red]",
                "count",
                "scene",
                "filter_shape[square]",
                "count",
                "equal_integer",
            ],
            "yes",
        ),
        (
            "less_than",
            [
                "scene",
                "filter_material[metal]",
                "count",
                "scene",
                "count",
                "less_than",
            ],
            "yes",
        ),
        (
            "greater_than",
            [
                "scene",
                "filter_material[metal]",
                "count",
                "scene",
                "count",
                "greater_than",
            ],
            "no",
        ),
    )
    def test_known_answers(self, program, answer):
        self.assertEqual(programs.execute(program, SCENE), answer)

    @parameterized.named_parameters(
        (
            "not_unique",
            ["scene", "filter_color[red]", "unique", "query_shape"],
            r"`unique` got 2 objects",
        ),
        (
            "empty_unique",
            ["scene", "filter_color[cyan]", "unique"],
            r"`unique` got 0 objects",
        ),
        ("unknown_step", ["scene", "jump"], r"unknown program step 'jump'"),
        (
            "malformed",
            ["scene", "filter_color[red"],
            r"malformed program step 'filter_color\[red'",
        ),
        (
            "unknown_value",
            ["scene", "filter_color[pink]", "count"],
            r"unknown filter 'filter_color\[pink\]'",
        ),
        (
            "unknown_relation",
            RED_CIRCLE + ["relate[near]"],
            r"unknown relation in 'relate\[near\]'",
        ),
        (
            "type_mismatch",
            ["scene", "query_color"],
            r"'query_color' expects a obj",
        ),
        ("empty_stack", ["count"], r"'count' has no input on the stack"),
        ("ends_in_set", ["scene"], r"ends in a set or an object"),
        (
            "two_values",
            ["scene", "count", "scene", "count"],
            r"does not leave exactly one value",
        ),
    )
    def test_errors(self, program, message):
        with self.assertRaisesRegex(programs.ProgramError, message):
            programs.execute(program, SCENE)

    def test_count_above_max(self):
        scene = [
            obj("red", "circle", "small", "rubber", i / 12, i / 12)
            for i in range(11)
        ]
        with self.assertRaisesRegex(
            programs.ProgramError, r"count 11 is above MAX_COUNT=10"
        ):
            programs.execute(["scene", "count"], scene)


class TemplateTest(parameterized.TestCase):
    def test_noun_phrase(self):
        self.assertEqual(
            programs.noun_phrase(
                {"shape": "circle", "color": "red", "size": "large"}
            ),
            "large red circle",
        )
        self.assertEqual(
            programs.noun_phrase({"material": "metal"}, True), "metal things"
        )

    @parameterized.parameters(*programs.QUESTION_TYPES)
    def test_sampled_questions_execute(self, question_type):
        rng = np.random.default_rng(0)
        answered = 0
        for _ in range(40):
            text, program = programs.sample_question(rng, SCENE, question_type)
            self.assertTrue(text.endswith("?"), text)
            try:
                answer = programs.execute(program, SCENE)
            except programs.ProgramError:
                continue
            answered += 1
            self.assertIn(answer, programs.ANSWERS)
        self.assertGreater(answered, 5)

    def test_unknown_question_type(self):
        with self.assertRaisesRegex(ValueError, r"question_type='why'"):
            programs.sample_question(np.random.default_rng(0), SCENE, "why")

    def test_all_types_have_templates(self):
        self.assertCountEqual(programs.TEMPLATES, programs.QUESTION_TYPES)
        self.assertLen(programs.ANSWERS, 28)
        self.assertLen(set(programs.ANSWERS), 28)


class BalancerTest(absltest.TestCase):
    def test_skewed_stream_is_balanced(self):
        rng = np.random.default_rng(0)
        balancer = programs.AnswerBalancer()
        kept = collections.Counter()
        for _ in range(5000):
            answer = "yes" if rng.random() < 0.9 else "no"
            if balancer.accept("exist", answer):
                kept[answer] += 1
        share = kept["yes"] / sum(kept.values())
        self.assertLess(share, 0.57)
        self.assertGreater(kept["no"], 400)

    def test_new_answer_always_accepted(self):
        balancer = programs.AnswerBalancer()
        balancer.accept("count", "2")
        for _ in range(10):
            balancer.accept("count", "1")
        self.assertFalse(balancer.accept("count", "1"))
        self.assertTrue(balancer.accept("count", "7"))


if __name__ == "__main__":
    absltest.main()
