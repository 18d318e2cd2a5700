"""mi_zoo.viz.plots: the dashed line (and the legend entry drawn with it)."""

from absl.testing import absltest
import numpy as np
from PIL import Image
from PIL import ImageDraw

from mi_zoo.viz import plots


def _drawn_columns(points, dash, width=60):
    """The x of every column that the dashed line coloured on row 5."""
    image = Image.new("RGB", (width, 11), "white")
    plots.dashed_line(ImageDraw.Draw(image), points, (0, 0, 0), 1, dash)
    row = np.asarray(image)[5]
    return set(np.flatnonzero(row.min(axis=-1) < 128).tolist())


class DashedLineTest(absltest.TestCase):
    def test_dashes_and_gaps_alternate(self):
        drawn = _drawn_columns([(0, 5), (50, 5)], dash=5)
        # Dashes cover [10k, 10k + 5] (Pillow draws both end pixels), gaps
        # the columns strictly between.
        expected = {x for x in range(50) if x % 10 <= 5}
        self.assertEqual(drawn, expected)

    def test_pattern_goes_on_across_vertices(self):
        straight = _drawn_columns([(0, 5), (50, 5)], dash=5)
        for middle in (3, 7, 12.5):
            with self.subTest(middle=middle):
                split = _drawn_columns([(0, 5), (middle, 5), (50, 5)], dash=5)
                self.assertEqual(split, straight)

    def test_zero_length_segment_draws_nothing_extra(self):
        straight = _drawn_columns([(0, 5), (50, 5)], dash=5)
        repeated = _drawn_columns([(0, 5), (20, 5), (20, 5), (50, 5)], dash=5)
        self.assertEqual(repeated, straight)

    def test_dash_must_be_positive(self):
        image = Image.new("RGB", (10, 10), "white")
        for dash in (0, -2):
            with self.subTest(dash=dash):
                with self.assertRaisesRegex(
                    ValueError,
                    rf"`dash` must be > 0 pixels, got dash={dash}\.$",
                ):
                    plots.dashed_line(
                        ImageDraw.Draw(image),
                        [(0, 0), (9, 0)],
                        "black",
                        1,
                        dash,
                    )

    def test_dashed_legend_entry_leaves_gaps(self):
        solid = Image.new("RGB", (80, 20), "white")
        dashed = Image.new("RGB", (80, 20), "white")
        _, _, font = plots.canvas(80, 20, (0, 0, 0, 0), "")
        plots.legend_entry(ImageDraw.Draw(solid), font, 0, 0, (0, 0, 0), "")
        plots.legend_entry(
            ImageDraw.Draw(dashed), font, 0, 0, (0, 0, 0), "", dash=4
        )
        line_solid = np.asarray(solid)[7, :29].min(axis=-1) < 128
        line_dashed = np.asarray(dashed)[7, :29].min(axis=-1) < 128
        self.assertTrue(line_solid.all())
        self.assertGreater(line_dashed.sum(), 10)
        self.assertLess(line_dashed.sum(), line_solid.sum() - 8)


if __name__ == "__main__":
    absltest.main()
