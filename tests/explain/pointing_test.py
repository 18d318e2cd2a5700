"""Referents of CLEVR-2D programs and the pointing-game scores."""

from absl.testing import absltest
import numpy as np

from mi_zoo.explain import pointing


def _obj(color, shape, x, y, size="small", material="rubber"):
    r = 0.1
    return {
        "color": color,
        "shape": shape,
        "size": size,
        "material": material,
        "position": (x, y),
        "box": (x - r, y - r, x + r, y + r),
    }


SCENE = [
    _obj("red", "circle", 0.2, 0.5),
    _obj("blue", "square", 0.5, 0.5),
    _obj("blue", "circle", 0.8, 0.2, size="large"),
]


class ReferentsTest(absltest.TestCase):
    def test_query_through_a_relation_names_the_final_object(self):
        # "What shape is the large thing right of the blue square?"
        program = [
            "scene",
            "filter_color[blue]",
            "filter_shape[square]",
            "unique",
            "relate[right]",
            "filter_size[large]",
            "unique",
            "query_shape",
        ]
        self.assertEqual(pointing.referents(program, SCENE), [2])

    def test_count_exist_and_comparisons(self):
        count = ["scene", "filter_color[blue]", "count"]
        self.assertEqual(pointing.referents(count, SCENE), [1, 2])
        nothing = ["scene", "filter_color[green]", "exist"]
        self.assertEqual(pointing.referents(nothing, SCENE), [])
        equal = [
            "scene",
            "filter_color[red]",
            "unique",
            "query_shape",
            "scene",
            "filter_size[large]",
            "unique",
            "query_shape",
            "equal_shape",
        ]
        self.assertEqual(pointing.referents(equal, SCENE), [0, 2])
        more = [
            "scene",
            "filter_shape[circle]",
            "count",
            "scene",
            "filter_shape[square]",
            "count",
            "greater_than",
        ]
        self.assertEqual(pointing.referents(more, SCENE), [0, 1, 2])


class ScoresTest(absltest.TestCase):
    def test_box_mask(self):
        mask = pointing.box_mask([[0.0, 0.0, 0.5, 0.25]], 4, 4)
        np.testing.assert_array_equal(mask, [[1, 1, 0, 0]] + [[0] * 4] * 3)

    def test_hit_mass_area(self):
        inside = np.zeros((4, 4), bool)
        inside[0, :2] = True
        heat = np.ones((4, 4))
        heat[0, 0] = 5.0
        self.assertEqual(
            pointing.score_map(heat, inside),
            {"hit": 1.0, "mass": 6.0 / 20.0, "area": 2 / 16},
        )
        heat[3, 3] = 9.0
        self.assertEqual(pointing.score_map(heat, inside)["hit"], 0.0)

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, "non-negative"):
            pointing.score_map(-np.ones((2, 2)), np.ones((2, 2), bool))
        with self.assertRaisesRegex(ValueError, r"\(2, 2\) and the mask"):
            pointing.score_map(np.ones((2, 2)), np.ones((3,), bool))

    def test_game_table_and_random_chance(self):
        game = pointing.PointingGame(seed=0)
        inside = np.zeros((10, 10), bool)
        inside[:2] = True  # 20% of the image.
        for _ in range(200):
            game.add("perfect", "count", inside.astype(float), inside)
            game.add_random("count", inside)
        table = game.table()
        self.assertEqual(table["perfect"]["count"]["mass"], 1.0)
        self.assertEqual(table["perfect"]["all"]["n"], 200)
        self.assertAlmostEqual(
            table["random"]["count"]["mass"], 0.2, delta=0.01
        )
        self.assertAlmostEqual(
            table["random"]["count"]["hit"], 0.2, delta=0.07
        )
        text = pointing.markdown_table(table, "mass")
        self.assertIn("| count | 200 | 0.200 | 1.000 | 0.2", text)
        self.assertTrue(text.splitlines()[-1].startswith("| all |"))


if __name__ == "__main__":
    absltest.main()
