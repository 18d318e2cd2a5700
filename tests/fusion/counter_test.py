"""Tests of Counter, the counting module of Zhang et al. (ICLR 2018)."""

import doctest
import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.fusion import Counter
from mi_zoo.fusion import counter as counter_module
from tests import backend
from tests.backend import as_numpy
from tests.fusion import counter_references as refs
from tests.layers import test_util


def random_boxes(rng, shape):
    """Random (x1, y1, x2, y2) boxes in [0, 1] that overlap at random."""
    corner = rng.uniform(0, 0.7, size=shape + (2,))
    size = rng.uniform(0.05, 0.5, size=shape + (2,))
    return np.concatenate([corner, corner + size], axis=-1)


def grid_boxes(count):
    """`count` disjoint boxes (cells of a row), [count, 4]."""
    return np.array([[i, 0.0, i + 0.5, 0.5] for i in range(count)]) / count


def built(objects=4, pieces=5, seed=0, phi=6, **kwargs):
    """A float64 Counter with random f_1 .. f_8; returns (layer, weights)."""
    layer = Counter(objects, pieces, dtype="float64", **kwargs)
    layer.build((None, phi, 4), (None, phi))
    if seed is not None:
        test_util.random_weights(layer, seed)
    return layer, as_numpy(layer.functions)


def call(layer, boxes, attention, box_mask=None):
    return as_numpy(layer(boxes, attention, box_mask=box_mask))


class FormulaTest(parameterized.TestCase):
    @parameterized.product(
        objects=(3, 6, 10), from_logits=(True, False), masked=(False, True)
    )
    def test_matches_float64_reference(self, objects, from_logits, masked):
        rng = np.random.default_rng(objects)
        boxes = random_boxes(rng, (3, 6))
        attention = rng.normal(size=(3, 6)) * 2
        if not from_logits:
            attention = rng.uniform(size=(3, 6))
        mask = rng.uniform(size=(3, 6)) < 0.7 if masked else None
        layer, functions = built(objects, from_logits=from_logits)
        got = call(layer, boxes, attention, mask)
        want = refs.counter(
            boxes, attention, functions, objects, from_logits, mask
        )
        self.assertEqual(got.shape, (3, objects + 1))
        backend.assert_allclose(got, want, **backend.close(atol=1e-12))

    def test_piecewise_linear_matches_the_paper_form(self):
        rng = np.random.default_rng(1)
        v = rng.normal(size=7)
        x = np.concatenate([rng.uniform(size=50), np.arange(8) / 7, [0, 1]])
        got = as_numpy(counter_module.piecewise_linear(v, x))
        want = [refs.piecewise(v, t) for t in x]
        backend.assert_allclose(got, want, **backend.close(atol=1e-14))

    def test_piecewise_linear_is_monotone_from_zero_to_one(self):
        # Any weights: f(0) = 0, f(1) = 1, nondecreasing; ones: identity.
        rng = np.random.default_rng(2)
        x = np.linspace(0.0, 1.0, 101)
        for v in (rng.normal(size=16), rng.normal(size=3), np.ones(16)):
            f = as_numpy(counter_module.piecewise_linear(v, x))
            self.assertAlmostEqual(f[0], 0.0, places=12)
            self.assertAlmostEqual(f[-1], 1.0, places=12)
            self.assertTrue(np.all(np.diff(f) >= -1e-12))
        backend.assert_allclose(
            counter_module.piecewise_linear(np.ones(16), x),
            x,
            **backend.close(atol=1e-14),
        )

    def test_box_iou(self):
        rng = np.random.default_rng(3)
        boxes = random_boxes(rng, (2, 5))
        got = as_numpy(counter_module.box_iou(boxes))
        want = [
            [[refs.iou(b[i], b[j]) for j in range(5)] for i in range(5)]
            for b in boxes
        ]
        backend.assert_allclose(got, want, **backend.close(atol=1e-14))


class CountingTest(parameterized.TestCase):
    """The paper's guarantees, which hold whatever the weights of f_i."""

    @parameterized.product(seed=(None, 0, 1), attended=(0, 1, 3, 5))
    def test_counts_disjoint_boxes_with_01_attention(self, seed, attended):
        # seed None: the identity f_i of the initialisation.
        layer, _ = built(objects=6, seed=seed, phi=8, from_logits=False)
        rng = np.random.default_rng(attended)
        a = np.zeros(8)
        a[rng.permutation(8)[:attended]] = 1.0
        boxes = grid_boxes(8)[rng.permutation(8)]
        got = call(layer, boxes[None], a[None])
        backend.assert_allclose(
            got[0], np.eye(7)[attended], **backend.close(rtol=0, atol=1e-9)
        )

    @parameterized.parameters((None,), (0,), (4,))
    def test_copies_of_a_box_count_once(self, seed):
        # Three objects, the first seen 3 times and the second twice.
        layer, _ = built(objects=8, seed=seed, phi=8, from_logits=False)
        cells = grid_boxes(4)
        boxes = cells[[0, 0, 0, 1, 1, 2, 3, 3]]
        a = np.array([1, 1, 1, 1, 1, 1, 0, 0], float)
        got = call(layer, boxes[None], a[None])
        backend.assert_allclose(
            got[0], np.eye(9)[3], **backend.close(rtol=0, atol=1e-9)
        )

    def test_invariant_to_the_order_of_the_boxes(self):
        layer, _ = built(objects=5, seed=5, phi=7)
        rng = np.random.default_rng(6)
        boxes, a = random_boxes(rng, (2, 7)), rng.normal(size=(2, 7))
        order = rng.permutation(7)
        backend.assert_allclose(
            call(layer, boxes[:, order], a[:, order]),
            call(layer, boxes, a),
            **backend.close(rtol=1e-12, atol=1e-12),
        )

    def test_ties_go_to_the_lower_index(self):
        # Two boxes tie at the cut of the top 2: the first one is kept.
        layer, functions = built(objects=2, seed=16, phi=4, from_logits=False)
        # Box 0 overlaps box 1, box 2 is apart: the choice matters.
        boxes = np.array(
            [
                [
                    [0, 0, 0.5, 0.5],
                    [0.1, 0.1, 0.6, 0.6],
                    [0.7, 0.7, 0.9, 0.9],
                    [0, 0.6, 0.2, 0.8],
                ]
            ]
        )
        a = np.array([[0.3, 0.9, 0.3, 0.1]])
        got = call(layer, boxes, a)
        backend.assert_allclose(
            got,
            refs.counter(boxes[:, :2], a[:, :2], functions, 2, False),
            **backend.close(atol=1e-12),
        )
        self.assertFalse(
            np.allclose(
                got,
                refs.counter(boxes[:, 1:3], a[:, 1:3], functions, 2, False),
            )
        )

    def test_keeps_the_boxes_with_the_highest_attention(self):
        # Boxes outside the top `objects` do not change the count.
        layer, _ = built(objects=3, seed=7, phi=6)
        rng = np.random.default_rng(8)
        boxes, a = random_boxes(rng, (2, 6)), rng.normal(size=(2, 6))
        top = np.argsort(-a, axis=1)[:, :3]
        other = call(layer, boxes, a)
        moved = boxes.copy()
        for b in range(2):
            rest = np.setdiff1d(np.arange(6), top[b])
            moved[b, rest] = random_boxes(rng, (3,))
        backend.assert_allclose(
            call(layer, moved, a),
            other,
            **backend.close(rtol=1e-12, atol=1e-12),
        )

    def test_masked_boxes_have_zero_weight(self):
        layer, _ = built(objects=4, seed=9, phi=6)
        rng = np.random.default_rng(10)
        boxes, a = random_boxes(rng, (2, 6)), rng.normal(size=(2, 6))
        mask = np.array([[1, 1, 0, 1, 0, 1], [0, 0, 0, 0, 0, 0]], bool)
        backend.assert_allclose(
            call(layer, boxes, np.where(mask, a, 3.0), mask),
            call(layer, boxes, np.where(mask, a, -1e3)),  # sigmoid: 0
            **backend.close(rtol=1e-12, atol=1e-12),
        )

    def test_fewer_boxes_than_objects(self):
        layer, functions = built(objects=10, seed=11, phi=3)
        rng = np.random.default_rng(12)
        boxes, a = random_boxes(rng, (2, 3)), rng.normal(size=(2, 3))
        backend.assert_allclose(
            call(layer, boxes, a),
            refs.counter(boxes, a, functions, 10),
            **backend.close(atol=1e-12),
        )

    def test_gradients_reach_the_attention(self):
        layer, _ = built(objects=4, seed=13, phi=6)
        rng = np.random.default_rng(14)
        boxes, a = random_boxes(rng, (2, 6)), rng.normal(size=(2, 6))
        (grad,) = backend.input_gradients(
            lambda t: layer(boxes, t) * keras.ops.arange(5.0, dtype=t.dtype), a
        )
        self.assertTrue(np.all(np.isfinite(grad)))
        self.assertGreater(np.abs(grad).sum(), 0.0)


class KerasApiTest(parameterized.TestCase):
    def test_parameter_count(self):
        layer, _ = built(objects=10, pieces=16)
        self.assertEqual(layer.count_params(), 8 * 16)

    def test_config_round_trip(self):
        layer = Counter(7, pieces=9, from_logits=False, name="count")
        config = layer.get_config()
        clone = Counter.from_config(config)
        self.assertEqual(clone.get_config(), config)
        for key in ("objects", "pieces", "from_logits"):
            self.assertIn(key, config)
        self.assertEqual((clone.objects, clone.pieces), (7, 9))

    def test_keras_file_round_trip_and_fit(self):
        rng = np.random.default_rng(15)
        boxes = random_boxes(rng, (8, 6)).astype("float32")
        a = rng.normal(size=(8, 6)).astype("float32")
        inputs = [keras.Input((6, 4)), keras.Input((6,))]
        counts = Counter(4, name="count")(*inputs)
        model = keras.Model(inputs, keras.layers.Dense(2)(counts))
        model.compile("sgd", "mse")
        before = as_numpy(model.get_layer("count").functions).copy()
        model.fit([boxes, a], np.ones((8, 2)), epochs=1, verbose=0)
        self.assertFalse(
            np.allclose(as_numpy(model.get_layer("count").functions), before)
        )
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "counter.keras")
            model.save(path)
            clone = keras.models.load_model(path)
        backend.assert_array_equal(
            clone.predict([boxes, a], verbose=0),
            model.predict([boxes, a], verbose=0),
        )

    def test_compute_output_shape(self):
        self.assertEqual(
            Counter(5).compute_output_shape((None, 9, 4), (None, 9)),
            (None, 6),
        )
        out = Counter(5)(keras.Input((9, 4)), keras.Input((9,)))
        self.assertEqual(tuple(out.shape), (None, 6))

    def test_docstring_example(self):
        result = doctest.testmod(counter_module)
        self.assertGreater(result.attempted, 0)
        self.assertEqual(result.failed, 0)


class BadInputTest(parameterized.TestCase):
    @parameterized.parameters(
        (
            dict(objects=0),
            r"`objects` must be a positive integer, got objects=0\.",
        ),
        (
            dict(pieces=2.5),
            r"`pieces` must be a positive integer, got pieces=2\.5\.",
        ),
        (
            dict(from_logits="yes"),
            r"`from_logits` must be a bool, got from_logits='yes'\.",
        ),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            Counter(**kwargs)

    @parameterized.parameters(
        ((2, 5, 3), (2, 5)),
        ((2, 5, 4), (2, 4)),
        ((2, 5, 4), (2, 5, 1)),
    )
    def test_bad_shapes(self, boxes_shape, attention_shape):
        with self.assertRaisesRegex(
            ValueError,
            r"Counter: boxes must be \[batch, boxes, 4\] and attention "
            r"\[batch, boxes\], got boxes of shape "
            + f"{boxes_shape}".replace("(", r"\(").replace(")", r"\)")
            + r" and attention of shape "
            + f"{attention_shape}".replace("(", r"\(").replace(")", r"\)")
            + r"\.",
        ):
            Counter(3)(np.zeros(boxes_shape), np.zeros(attention_shape))


if __name__ == "__main__":
    absltest.main()
