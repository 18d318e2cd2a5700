"""Tests of the NumPy + Pillow figures of mi_zoo.viz (once
mi_zoo.explain.figures)."""

import os
import tempfile
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
from PIL import Image
from PIL import ImageFont

from mi_zoo import explain
from mi_zoo import viz


def _random_image(height, width, seed=0):
    return (
        np.random.default_rng(seed)
        .uniform(0.2, 0.8, (height, width, 3))
        .astype(np.float32)
    )


class ToUint8Test(parameterized.TestCase):
    def test_scales_rounds_and_clips_floats(self):
        image = np.array([[-0.5, 0.0, 0.5, 1.0, 2.0, np.nan]])
        out = viz.to_uint8(image)
        self.assertEqual(out.dtype, np.uint8)
        self.assertEqual(out.shape, (1, 6, 3))
        np.testing.assert_array_equal(out[0, :, 0], [0, 0, 128, 255, 255, 0])

    @parameterized.parameters(np.float16, np.float32, np.float64)
    def test_any_float_dtype(self, dtype):
        image = np.full((2, 3, 3), 0.25, dtype)
        np.testing.assert_array_equal(viz.to_uint8(image), 64)

    @parameterized.parameters((4, 5), (4, 5, 1))
    def test_grey_becomes_three_equal_channels(self, *shape):
        grey = np.arange(20, dtype=np.uint8).reshape(shape)
        out = viz.to_uint8(grey)
        self.assertEqual(out.shape, (4, 5, 3))
        for channel in range(3):
            np.testing.assert_array_equal(
                out[..., channel], grey.reshape(4, 5)
            )

    def test_uint8_is_copied_unchanged(self):
        image = (
            np.random.default_rng(0)
            .integers(0, 256, (3, 4, 3))
            .astype(np.uint8)
        )
        out = viz.to_uint8(image)
        np.testing.assert_array_equal(out, image)
        self.assertFalse(np.shares_memory(out, image))

    @parameterized.parameters(
        (np.zeros((2, 3, 3, 3)), r"image must be .*got shape \(2, 3, 3, 3\)"),
        (np.zeros((2, 3, 4)), r"image must be .*got shape \(2, 3, 4\)"),
        (np.zeros((5,)), r"image must be .*got shape \(5,\)"),
        (
            np.zeros((0, 3, 3)),
            r"image must not be empty, got shape \(0, 3, 3\)",
        ),
        (
            np.zeros((2, 2, 3), np.int32),
            r"image must be float in \[0, 1\] or uint8, got dtype int32",
        ),
    )
    def test_bad_images(self, image, message):
        with self.assertRaisesRegex(ValueError, message):
            viz.to_uint8(image)


class ColormapTest(parameterized.TestCase):
    def test_jet_runs_from_blue_to_red(self):
        colours = viz.apply_colormap(np.array([0.0, 0.5, 1.0]), "jet")
        np.testing.assert_array_equal(
            colours, [[0, 0, 128], [128, 255, 128], [128, 0, 0]]
        )

    @parameterized.parameters("coolwarm", "diverging")
    def test_coolwarm_is_blue_grey_red(self, name):
        low, middle, high = viz.apply_colormap(
            np.array([0.0, 0.5, 1.0]), name
        ).astype(int)
        self.assertGreater(low[2], low[0] + 100)
        self.assertEqual(middle[0], middle[1])
        self.assertEqual(middle[1], middle[2])
        self.assertGreater(high[0], high[2] + 100)

    def test_gray_and_clipping(self):
        np.testing.assert_array_equal(
            viz.apply_colormap(np.array([-1.0, 0.5, 3.0]), "gray"),
            [[0, 0, 0], [128, 128, 128], [255, 255, 255]],
        )

    def test_unknown_colormap(self):
        with self.assertRaisesRegex(
            ValueError, r"colormap must be one of .*'viridis'"
        ):
            viz.apply_colormap(np.zeros(3), "viridis")


class HeatmapOverlayTest(parameterized.TestCase):
    def test_alpha_zero_returns_the_image_exactly(self):
        image = (
            np.random.default_rng(1)
            .integers(0, 256, (40, 50, 3))
            .astype(np.uint8)
        )
        heat = np.random.default_rng(2).normal(size=(7, 7))
        np.testing.assert_array_equal(
            viz.heatmap_overlay(image, heat, alpha=0.0), image
        )
        float_image = _random_image(40, 50)
        np.testing.assert_array_equal(
            viz.heatmap_overlay(float_image, heat, alpha=0),
            viz.to_uint8(float_image),
        )

    @parameterized.parameters("jet", "coolwarm")
    def test_alpha_one_is_the_pure_colormap(self, colormap):
        image = _random_image(48, 64)
        heat = np.random.default_rng(3).normal(size=(6, 8))
        out = viz.heatmap_overlay(image, heat, alpha=1.0, colormap=colormap)
        np.testing.assert_array_equal(
            out, viz.apply_colormap(viz.upsample_heat(heat, 48, 64), colormap)
        )
        self.assertEqual(out.shape, (48, 64, 3))

    def test_half_alpha_is_the_average(self):
        image = np.zeros((8, 8, 3), np.uint8)
        heat = np.full((8, 8), 2.0)
        heat[0, 0] = 0.0  # Normalised: 1 everywhere but one pixel.
        out = viz.heatmap_overlay(image, heat, alpha=0.5)
        np.testing.assert_array_equal(out[4, 4], [64, 0, 0])  # jet(1) / 2

    def test_single_hot_cell_lands_in_its_quadrant(self):
        heat = np.zeros((14, 14))
        heat[2, 11] = 1.0  # Upper right.
        upsampled = viz.upsample_heat(heat, 224, 224)
        row, col = np.unravel_index(np.argmax(upsampled), upsampled.shape)
        # Cell (2, 11) covers rows 32..47 and columns 176..191.
        self.assertBetween(row, 32, 47)
        self.assertBetween(col, 176, 191)
        out = viz.heatmap_overlay(
            _random_image(224, 224) * 0.3, heat, alpha=0.7
        )
        red = out[..., 0].astype(int)
        row, col = np.unravel_index(np.argmax(red), red.shape)
        self.assertLess(row, 112)
        self.assertGreaterEqual(col, 112)
        hot = (out[..., 0].astype(int) - out[..., 2]) > 100
        self.assertTrue(hot.any())
        rows, cols = np.nonzero(hot)
        self.assertLess(rows.max(), 112)
        self.assertGreaterEqual(cols.min(), 112)

    def test_coolwarm_hot_cell_is_red_elsewhere_blue(self):
        heat = np.zeros((4, 4))
        heat[3, 0] = 5.0  # Lower left.
        out = viz.heatmap_overlay(
            np.zeros((64, 64, 3)), heat, alpha=1.0, colormap="coolwarm"
        ).astype(int)
        self.assertGreater(out[56, 8, 0], out[56, 8, 2] + 100)
        self.assertGreater(out[8, 56, 2], out[8, 56, 0] + 50)

    def test_non_square_image_and_per_pixel_map(self):
        heat = np.random.default_rng(4).uniform(size=(30, 50))
        upsampled = viz.upsample_heat(heat, 30, 50)
        np.testing.assert_allclose(
            upsampled,
            (heat - heat.min()) / (heat.max() - heat.min()),
            rtol=1e-6,
        )
        out = viz.heatmap_overlay(_random_image(30, 50), heat)
        self.assertEqual(out.shape, (30, 50, 3))

    @parameterized.parameters(0.0, 3.5, -2.0)
    def test_constant_heat_has_no_nan(self, value):
        heat = np.full((14, 14), value)
        normalized = viz.normalize_heat(heat)
        np.testing.assert_array_equal(normalized, 0.0)
        image = np.zeros((20, 20, 3), np.uint8)
        out = viz.heatmap_overlay(image, heat, alpha=1.0)
        np.testing.assert_array_equal(
            out, np.broadcast_to(viz.apply_colormap(0.0), (20, 20, 3))
        )

    def test_non_finite_heat_entries(self):
        heat = np.array([[np.nan, 1.0], [np.inf, 3.0]])
        normalized = viz.normalize_heat(heat)
        self.assertTrue(np.all(np.isfinite(normalized)))
        np.testing.assert_array_equal(normalized, [[0.0, 0.0], [0.0, 1.0]])
        np.testing.assert_array_equal(
            viz.normalize_heat(np.full((2, 2), np.nan)), 0.0
        )

    @parameterized.parameters(
        (dict(alpha=1.5), r"alpha must be a number in \[0, 1\], got 1.5"),
        (dict(alpha=-0.1), r"alpha must be a number in \[0, 1\], got -0.1"),
        (dict(alpha="0.5"), r"alpha must be a number in \[0, 1\], got '0.5'"),
        (dict(alpha=float("nan")), r"alpha must be .*got nan"),
        (dict(colormap="viridis"), r"colormap must be one of .*'viridis'"),
        (
            dict(heat=np.zeros((2, 2, 1))),
            r"heat must be a non-empty 2-D map \[h, w\], got shape \(2, 2, 1\)",
        ),
        (dict(heat=np.zeros((0, 3))), r"heat must be .*got shape \(0, 3\)"),
        (dict(image=np.zeros((4, 4, 2))), r"image must be .*\(4, 4, 2\)"),
    )
    def test_bad_arguments(self, kwargs, message):
        arguments = dict(image=np.zeros((4, 4, 3)), heat=np.zeros((2, 2)))
        arguments.update(kwargs)
        with self.assertRaisesRegex(ValueError, message):
            viz.heatmap_overlay(**arguments)

    @parameterized.parameters(
        (0, 4, r"height must be a positive int, got 0"),
        (4, 2.5, r"width must be a positive int, got 2.5"),
    )
    def test_bad_upsample_size(self, height, width, message):
        with self.assertRaisesRegex(ValueError, message):
            viz.upsample_heat(np.zeros((2, 2)), height, width)


class BoxOverlayTest(parameterized.TestCase):
    image = np.full((100, 100, 3), 128, np.uint8)
    boxes = np.array(
        [
            [0.1, 0.1, 0.3, 0.3],  # heavy
            [0.6, 0.6, 0.9, 0.9],  # light
            [0.4, 0.0, 0.5, 0.2],  # weight 0
            [0.0, 0.0, 0.0, 0.0],  # padding, even with a weight
            [0.0, 0.0, 0.0, 0.0],  # padding
        ]
    )
    weights = np.array([1.0, 0.25, 0.0, 0.7, 0.0])

    def test_changes_only_positive_weight_boxes(self):
        out = viz.box_overlay(self.image, self.boxes, self.weights)
        changed = np.any(out != self.image, axis=-1)
        expected = np.zeros((100, 100), bool)
        expected[10:30, 10:30] = True
        expected[60:90, 60:90] = True
        np.testing.assert_array_equal(changed, expected)

    def test_heavier_box_changes_more(self):
        out = viz.box_overlay(self.image, self.boxes, self.weights)
        change = np.abs(out.astype(int) - self.image).sum(-1)
        heavy = change[14:26, 14:26]  # Interiors, inside the outlines.
        light = change[64:86, 64:86]
        self.assertGreater(heavy.min(), light.max())
        self.assertGreater(light.min(), 0)
        # The outline is stronger than the fill.
        self.assertGreater(change[10, 20], change[20, 20])

    def test_pixel_format_matches_normalized(self):
        image = _random_image(50, 80)
        normalized = np.array([[0.1, 0.2, 0.5, 0.6], [0.5, 0.0, 1.0, 1.0]])
        pixels = normalized * np.array([80, 50, 80, 50])
        np.testing.assert_array_equal(
            viz.box_overlay(image, normalized, [0.5, 1.0]),
            viz.box_overlay(
                image, pixels, [0.5, 1.0], box_format="xyxy_pixels"
            ),
        )

    def test_weights_are_relative_to_the_max(self):
        a = viz.box_overlay(self.image, self.boxes[:2], [1.0, 0.25])
        b = viz.box_overlay(self.image, self.boxes[:2], [8.0, 2.0])
        np.testing.assert_array_equal(a, b)

    @parameterized.parameters(
        (np.zeros((0, 4)), np.zeros((0,))),
        ([[0.1, 0.1, 0.5, 0.5]], [0.0]),
        ([[0.0, 0.0, 0.0, 0.0]], [1.0]),
        ([[0.2, 0.2, 0.2, 0.5]], [1.0]),  # Empty in pixels.
    )
    def test_nothing_to_draw_returns_the_image(self, boxes, weights):
        np.testing.assert_array_equal(
            viz.box_overlay(self.image, boxes, weights), self.image
        )

    def test_boxes_are_clipped_to_the_image(self):
        out = viz.box_overlay(self.image, [[-0.5, 0.5, 2.0, 1.5]], [1.0])
        changed = np.any(out != self.image, axis=-1)
        self.assertTrue(changed[50:].all())
        self.assertFalse(changed[:50].any())

    @parameterized.parameters(
        (dict(box_format="yxyx"), r"box_format must be one of .*'yxyx'"),
        (dict(boxes=np.zeros(4)), r"boxes must be \[R, 4\], got shape \(4,\)"),
        (
            dict(boxes=np.zeros((2, 3))),
            r"boxes must be \[R, 4\], got shape \(2, 3\)",
        ),
        (
            dict(weights=np.ones(3)),
            r"weights must be \[R\] = \[2\] like boxes, got shape \(3,\)",
        ),
        (
            dict(weights=[1.0, -1.0]),
            r"weights must be finite and >= 0, got \[1.0, -1.0\]",
        ),
        (dict(weights=[1.0, np.nan]), r"weights must be finite .*nan"),
        (
            dict(boxes=[[0.1, 0.1, 0.5, 0.5], [0.1, np.inf, 0.2, 0.3]]),
            r"boxes must be finite, got .*inf",
        ),
        (
            dict(boxes=[[0.1, 0.1, 0.5, 0.5], [0.6, 0.1, 0.2, 0.3]]),
            r"boxes must have x2 >= x1 and y2 >= y1, got row 1 = "
            r"\[0.6, 0.1, 0.2, 0.3\]",
        ),
        (
            dict(color=(255, 0)),
            r"color must be 3 numbers in \[0, 255\], got "
            r"\(255, 0\)",
        ),
        (dict(color=(300, 0, 0)), r"color must be .*\(300, 0, 0\)"),
        (
            dict(max_opacity=2),
            r"max_opacity must be a number in \[0, 1\], "
            r"got 2",
        ),
        (dict(outline_width=-1), r"outline_width must be an int >= 0, got -1"),
    )
    def test_bad_arguments(self, kwargs, message):
        arguments = dict(
            image=self.image, boxes=self.boxes[:2], weights=[1.0, 0.5]
        )
        arguments.update(kwargs)
        with self.assertRaisesRegex(ValueError, message):
            viz.box_overlay(**arguments)


class CaptionPanelTest(parameterized.TestCase):
    def setUp(self):
        super().setUp()
        viz.load_font.cache_clear()

    @parameterized.parameters((32, 6), (75, 3), (192, 1))
    def test_small_images_are_upscaled_nearest(self, size, factor):
        image = _random_image(size, size)
        out = viz.caption_panel(
            image, ["Q: what colour is the cube", "pred: red  true: blue"]
        )
        side = size * factor
        self.assertGreaterEqual(side, viz.MIN_SHORT_SIDE)
        self.assertEqual(out.shape[1], side)
        self.assertGreater(out.shape[0], side)
        expected = np.repeat(
            np.repeat(viz.to_uint8(image), factor, 0), factor, 1
        )
        np.testing.assert_array_equal(out[:side], expected)

    def test_panel_holds_dark_text_on_white(self):
        image = np.full((200, 260, 3), 255, np.uint8)
        out = viz.caption_panel(image, ["pred: red  true: blue"])
        self.assertEqual(out.shape[1], 260)  # Not upscaled.
        panel = out[200:]
        self.assertTrue((panel.min(-1) < 100).any())  # Text.
        self.assertGreater((panel == 255).all(-1).mean(), 0.7)  # White.
        blank = viz.caption_panel(image, [""])
        self.assertFalse((blank[200:] < 100).any())

    def test_long_lines_wrap(self):
        image = np.zeros((192, 192, 3), np.uint8)
        short = viz.caption_panel(image, ["Q: what"])
        long = viz.caption_panel(
            image, ["Q: " + " ".join(["what colour is the cube"] * 6)]
        )
        self.assertEqual(long.shape[1], 192)
        self.assertGreater(long.shape[0], short.shape[0] + 20)
        unbroken = viz.caption_panel(image, ["x" * 200])
        self.assertGreater(unbroken.shape[0], short.shape[0] + 20)

    def test_string_lines_and_newlines(self):
        image = np.zeros((192, 192, 3), np.uint8)
        one = viz.caption_panel(image, "first\nsecond")
        two = viz.caption_panel(image, ["first", "second"])
        np.testing.assert_array_equal(one, two)

    def test_no_lines_is_the_upscaled_image(self):
        out = viz.caption_panel(np.zeros((32, 32)), [])
        np.testing.assert_array_equal(out, np.zeros((192, 192, 3)))

    def test_wider_figure_centres_the_image(self):
        image = np.zeros((192, 192, 3), np.uint8)
        out = viz.caption_panel(image, ["a"], width=300)
        self.assertEqual(out.shape[1], 300)
        np.testing.assert_array_equal(out[:192, 54:246], 0)
        np.testing.assert_array_equal(out[:192, :54], 255)
        np.testing.assert_array_equal(out[:192, 246:], 255)

    def test_font_size_changes_the_panel(self):
        image = np.zeros((192, 192, 3), np.uint8)
        small = viz.caption_panel(image, ["abc"], font_size=10)
        large = viz.caption_panel(image, ["abc"], font_size=30)
        self.assertGreater(large.shape[0], small.shape[0])

    def test_old_pillow_without_font_size(self):
        original = ImageFont.load_default

        def load_default(**kwargs):
            if kwargs:
                raise TypeError("load_default() got an unexpected keyword")
            return original()

        with mock.patch.object(ImageFont, "load_default", load_default):
            viz.load_font.cache_clear()
            out = viz.caption_panel(
                np.zeros((192, 192, 3), np.uint8), ["pred: red"], font_size=20
            )
        viz.load_font.cache_clear()
        self.assertTrue((out[192:].min(-1) < 100).any())

    def test_bitmap_font_non_latin_text(self):
        # Pillow's bitmap font encodes latin-1 only.
        bitmap = getattr(
            ImageFont, "load_default_imagefont", ImageFont.load_default
        )()
        with mock.patch.object(
            viz.text, "load_font", lambda size=None: bitmap
        ):
            out = viz.caption_panel(
                np.zeros((192, 192, 3), np.uint8), ["Q: 立方体 colour?"]
            )
        self.assertGreater(out.shape[0], 192)

    @parameterized.parameters(
        (dict(lines=5), r"lines must be a str or a sequence of str, got 5"),
        (
            dict(lines=["a", 2]),
            r"lines must be a str or a sequence of str, got \['a', 2\]",
        ),
        (
            dict(width=100),
            r"width must be an int >= the image width 192 .*"
            r"got 100",
        ),
        (dict(width=250.0), r"width must be an int .*got 250.0"),
        (
            dict(font_size=0),
            r"font_size must be a positive int or None, "
            r"got 0",
        ),
        (dict(margin=-1), r"margin must be an int >= 0, got -1"),
        (
            dict(image=np.zeros((3, 3, 3, 3))),
            r"image must be .*\(3, 3, 3, 3\)",
        ),
    )
    def test_bad_arguments(self, kwargs, message):
        arguments = dict(image=np.zeros((32, 32, 3)), lines=["a"])
        arguments.update(kwargs)
        with self.assertRaisesRegex(ValueError, message):
            viz.caption_panel(**arguments)


class TokenScoresPanelTest(parameterized.TestCase):
    @staticmethod
    def _reddish(panel):
        p = panel.astype(int)
        return (p[..., 0] > 150) & (p[..., 1] < 100) & (p[..., 2] < 100)

    @staticmethod
    def _bluish(panel):
        p = panel.astype(int)
        return (p[..., 2] > 150) & (p[..., 0] < 100) & (p[..., 1] < 150)

    def test_positive_red_negative_blue(self):
        panel = viz.token_scores_panel(["good", "bad"], [1.0, -1.0], width=300)
        self.assertEqual(panel.dtype, np.uint8)
        self.assertEqual(panel.shape[1], 300)
        red = np.nonzero(self._reddish(panel))[1]
        blue = np.nonzero(self._bluish(panel))[1]
        self.assertGreater(red.size, 50)
        self.assertGreater(blue.size, 50)
        self.assertLess(red.max(), blue.min())  # "good" is left of "bad".

    def test_zero_scores_are_white(self):
        panel = viz.token_scores_panel(["what", "colour"], [0.0, 0.0])
        self.assertFalse(self._reddish(panel).any())
        self.assertFalse(self._bluish(panel).any())
        # Only greys (black text anti-aliased on white).
        np.testing.assert_array_equal(panel[..., 0], panel[..., 2])
        self.assertTrue((panel.min(-1) < 100).any())

    def test_intensity_follows_the_score(self):
        colours = viz.score_colors([1.0, 0.5, 0.0, -0.5, -1.0]).astype(int)
        np.testing.assert_array_equal(colours[2], [255, 255, 255])
        # Larger |score|: further from white.
        distance = (255 - colours).sum(-1)
        self.assertGreater(distance[0], distance[1])
        self.assertGreater(distance[1], 0)
        self.assertGreater(distance[4], distance[3])
        self.assertGreater(colours[1, 0], colours[1, 2])
        self.assertGreater(colours[3, 2], colours[3, 0])
        np.testing.assert_array_equal(
            viz.score_colors([3.0, -1.5]), colours[[0, 3]]
        )

    def test_background_colour_of_each_word(self):
        panel = viz.token_scores_panel(
            ["aa", "bb"], [0.5, -1.0], width=200, margin=6
        )
        expected = viz.score_colors([0.5, -1.0])
        # The top-left corner of each word box is background.
        np.testing.assert_array_equal(panel[7, 7], expected[0])
        self.assertTrue(np.any(np.all(panel[7] == expected[1], axis=-1)))

    def test_words_wrap(self):
        tokens = ["what", "colour", "is", "the", "cube", "behind", "it"]
        scores = np.linspace(-1, 1, len(tokens))
        wide = viz.token_scores_panel(tokens, scores, width=1000, font_size=14)
        narrow = viz.token_scores_panel(
            tokens, scores, width=120, font_size=14
        )
        self.assertEqual(narrow.shape[1], 120)
        self.assertGreater(narrow.shape[0], 2 * wide.shape[0])

    def test_no_tokens(self):
        panel = viz.token_scores_panel([], [], width=50)
        self.assertEqual(panel.shape[1], 50)
        np.testing.assert_array_equal(panel, 255)

    @parameterized.parameters(
        (
            dict(tokens="what colour"),
            r"tokens must be a sequence of str, got 'what colour'",
        ),
        (dict(tokens=["a", 1]), r"tokens must be a sequence of str"),
        (
            dict(scores=[1.0]),
            r"scores must have one entry per token \(2\), got shape \(1,\)",
        ),
        (dict(scores=[1.0, np.nan]), r"scores must be a finite 1-D array"),
        (
            dict(scores=[[1.0, 2.0]]),
            r"scores must be a finite 1-D array .*"
            r"\[\[1.0, 2.0\]\]",
        ),
        (dict(width=0), r"width must be a positive int, got 0"),
        (dict(font_size=-3), r"font_size must be .*got -3"),
        (dict(margin=1.5), r"margin must be an int >= 0, got 1.5"),
    )
    def test_bad_arguments(self, kwargs, message):
        arguments = dict(tokens=["a", "b"], scores=[1.0, -1.0])
        arguments.update(kwargs)
        with self.assertRaisesRegex(ValueError, message):
            viz.token_scores_panel(**arguments)


class GridTest(parameterized.TestCase):
    def test_sizes_placement_and_white_padding(self):
        a = np.zeros((10, 20, 3), np.uint8)
        b = np.full((30, 5, 3), 50, np.uint8)
        c = np.full((8, 8), 0.4)  # Grey float.
        out = viz.grid([a, b, c], columns=2, spacing=3)
        # Rows: max(10, 30) + 3 + 8; columns: max(20, 8) + 3 + 5.
        self.assertEqual(out.shape, (41, 28, 3))
        np.testing.assert_array_equal(out[:10, :20], a)
        np.testing.assert_array_equal(out[:30, 23:28], b)
        np.testing.assert_array_equal(out[33:41, :8], 102)
        np.testing.assert_array_equal(out[10:30, :20], 255)
        np.testing.assert_array_equal(out[:, 20:23], 255)
        np.testing.assert_array_equal(out[33:, 8:], 255)

    def test_more_columns_than_images(self):
        out = viz.grid([np.zeros((4, 4, 3))] * 2, columns=5, spacing=0)
        self.assertEqual(out.shape, (4, 8, 3))

    def test_batch_array(self):
        out = viz.grid(np.zeros((6, 4, 5, 3)), columns=3, spacing=1)
        self.assertEqual(out.shape, (9, 17, 3))

    @parameterized.parameters(
        (dict(columns=0), r"columns must be a positive int, got 0"),
        (dict(columns=1.5), r"columns must be a positive int, got 1.5"),
        (dict(spacing=-1), r"spacing must be an int >= 0, got -1"),
        (
            dict(images=[]),
            r"images must be a non-empty list of images, "
            r"got \[\]",
        ),
        (dict(images=[np.zeros((2, 2, 5))]), r"image must be .*\(2, 2, 5\)"),
    )
    def test_bad_arguments(self, kwargs, message):
        arguments = dict(images=[np.zeros((2, 2, 3))], columns=1)
        arguments.update(kwargs)
        with self.assertRaisesRegex(ValueError, message):
            viz.grid(**arguments)


class SavePngTest(absltest.TestCase):
    def test_round_trip(self):
        image = (
            np.random.default_rng(5)
            .integers(0, 256, (13, 17, 3))
            .astype(np.uint8)
        )
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "a", "b", "figure.png")
            self.assertEqual(viz.save_png(path, image), path)
            with Image.open(path) as saved:
                self.assertEqual(saved.format, "PNG")
                self.assertEqual(saved.mode, "RGB")
                np.testing.assert_array_equal(np.asarray(saved), image)

    def test_float_grey_in_current_directory(self):
        with tempfile.TemporaryDirectory() as directory:
            cwd = os.getcwd()
            os.chdir(directory)
            try:
                viz.save_png("grey.png", np.full((3, 4), 1.0))
                with Image.open("grey.png") as saved:
                    np.testing.assert_array_equal(np.asarray(saved), 255)
            finally:
                os.chdir(cwd)

    def test_bad_arguments(self):
        with self.assertRaisesRegex(
            ValueError,
            r"path must be a non-empty "
            r"str or os.PathLike, got None",
        ):
            viz.save_png(None, np.zeros((2, 2, 3)))
        with self.assertRaisesRegex(ValueError, r"path must be .*got ''"):
            viz.save_png("", np.zeros((2, 2, 3)))
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "x.png")
            with self.assertRaisesRegex(ValueError, r"image must be .*\(2,\)"):
                viz.save_png(path, np.zeros(2))
            self.assertFalse(os.path.exists(path))


class PackageTest(absltest.TestCase):
    def test_exports(self):
        for name in explain.__all__:
            self.assertTrue(hasattr(explain, name), name)
        self.assertIs(explain.heatmap_overlay, viz.heatmap_overlay)
        self.assertIn("token_scores_panel", explain.__all__)


if __name__ == "__main__":
    absltest.main()
