"""Tests of MultimodalResidual (MRN) against the paper and its structure."""

import doctest

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.fusion import MultimodalResidual
from mi_zoo.fusion import multimodal_residual as mrn_module
from tests import backend
from tests.backend import as_numpy
from tests.fusion import mlb_references as references
from tests.layers import test_util

# (q shape, v shape): global features (the paper), q against S regions,
# matching leading axes, q per position against one v.
SHAPES = (
    ((3, 6), (3, 4)),
    ((3, 6), (3, 5, 4)),
    ((3, 5, 6), (3, 5, 4)),
    ((3, 5, 6), (3, 4)),
)


def make(units=5, num_layers=2, dtype="float64", **kwargs):
    return MultimodalResidual(
        units, num_layers=num_layers, dtype=dtype, **kwargs
    )


def run(layer, q, v, seed=0, **kwargs):
    layer(q, v)
    weights = test_util.random_weights(layer, seed, scale=0.4)
    return as_numpy(layer(q, v, **kwargs)), weights


class FormulaTest(parameterized.TestCase):
    @parameterized.product(
        shapes=SHAPES, num_layers=(1, 3), shortcut=("linear", "identity")
    )
    def test_matches_float64_reference(self, shapes, num_layers, shortcut):
        q, v = test_util.inputs(*shapes)
        layer = make(num_layers=num_layers, shortcut=shortcut)
        h, w = run(layer, q, v)
        expected = references.mrn(q, v, w, num_layers)
        self.assertEqual(h.shape, expected.shape)
        backend.assert_allclose(h, expected, **backend.close())

    @parameterized.parameters(
        (dict(hidden_units=3),),
        (dict(activation="relu"),),
        (dict(use_bias=False),),
        (dict(units=6, shortcut="identity"),),
    )
    def test_variants(self, kwargs):
        q, v = test_util.inputs((4, 6), (4, 4))
        layer = make(num_layers=2, **kwargs)
        h, w = run(layer, q, v)
        expected = references.mrn(
            q, v, w, 2, activation=kwargs.get("activation", "tanh")
        )
        backend.assert_allclose(h, expected, **backend.close())

    @parameterized.parameters(1, 2, 3)
    def test_matches_the_papers_unrolled_form(self, num_layers):
        # H_L = W_q' q + Σ_l W_{F_l} F_l(H_{l-1}, v) (linear shortcuts).
        q, v = test_util.inputs((4, 6), (4, 4), seed=2)
        layer = make(num_layers=num_layers, use_bias=False)
        h, w = run(layer, q, v)
        backend.assert_allclose(
            h, references.mrn_unrolled(q, v, w, num_layers), **backend.close()
        )

    @parameterized.parameters(
        # Block l with input size a (n = 6 for l = 1, else d = 5), v size
        # m = 4, hidden h: a·d + d + m·h + h + h·d + d (+ a·d + d shortcut).
        (
            dict(num_layers=1),
            (6 * 5 + 5) + (4 * 4 + 4) + (4 * 5 + 5) + (6 * 5 + 5),
        ),
        (
            dict(num_layers=3),
            (6 * 5 + 5 + 20 + 25 + 6 * 5 + 5)
            + 2 * (5 * 5 + 5 + 20 + 25 + 5 * 5 + 5),
        ),
        (
            dict(num_layers=3, hidden_units=2),
            (6 * 5 + 5 + 4 * 2 + 2 + 2 * 5 + 5 + 6 * 5 + 5)
            + 2 * (5 * 5 + 5 + 4 * 2 + 2 + 2 * 5 + 5 + 5 * 5 + 5),
        ),
        # Identity shortcuts: a projection in block 1 only (n != d).
        (
            dict(num_layers=3, shortcut="identity"),
            (6 * 5 + 5 + 20 + 25 + 6 * 5 + 5) + 2 * (5 * 5 + 5 + 20 + 25),
        ),
        (
            dict(num_layers=2, units=6, shortcut="identity"),
            2 * (6 * 6 + 6 + 20 + 4 * 6 + 6),
        ),
        (
            dict(num_layers=2, use_bias=False),
            (6 * 5 + 16 + 20 + 6 * 5) + (5 * 5 + 16 + 20 + 5 * 5),
        ),
    )
    def test_parameter_count(self, kwargs, count):
        layer = make(**kwargs)
        layer(*test_util.inputs((2, 6), (2, 4)))
        self.assertEqual(layer.count_params(), count)


class StructureTest(parameterized.TestCase):
    """Properties that hold whatever the weights."""

    def test_identity_shortcuts_pass_q_when_the_visual_path_is_zero(self):
        # σ(0) = 0 for tanh: with W_2 = 0, b_2 = 0, every F_l is zero and
        # identity shortcuts give H_L = q.
        q, v = test_util.inputs((3, 5), (3, 4), seed=3)
        layer = make(units=5, num_layers=3, shortcut="identity")
        run(layer, q, v)
        for l in (1, 2, 3):
            for name in (f"visual_kernel_{l}", f"visual_bias_{l}"):
                weight = next(w for w in layer.weights if w.name == name)
                weight.assign(np.zeros(weight.shape))
        backend.assert_allclose(layer(q, v), q, rtol=0, atol=0)

    def test_each_block_has_its_own_weights(self):
        layer = make(units=5, num_layers=3)
        run(layer, *test_util.inputs((2, 6), (2, 4)))
        names = [w.name for w in layer.weights]
        self.assertLen(names, 3 * 8)
        self.assertLen(set(names), len(names))
        self.assertLen({id(w) for w in layer.weights}, 3 * 8)
        # Changing block 2 changes the output, block by block.
        q, v = test_util.inputs((2, 6), (2, 4), seed=4)
        before = as_numpy(layer(q, v))
        kernel = next(
            w for w in layer.weights if w.name == "question_kernel_2"
        )
        kernel.assign(as_numpy(kernel) + 1.0)
        self.assertFalse(np.allclose(as_numpy(layer(q, v)), before))

    def test_residual_is_multiplicative_in_the_two_branches(self):
        # One block, linear shortcut: H_1 − S_1(q) = σ(W_qᵀq+b_q) ∘ g(v).
        layer = make(num_layers=1)
        q, v = test_util.inputs((4, 6), (4, 4), seed=5)
        h, w = run(layer, q, v)
        residual = h - (q @ w["shortcut_kernel_1"] + w["shortcut_bias_1"])
        gq = np.tanh(q @ w["question_kernel_1"] + w["question_bias_1"])
        ratio = residual / gq  # g(v), the visual branch: independent of q
        q2, _ = test_util.inputs((4, 6), (4, 4), seed=6)
        h2 = as_numpy(layer(q2, v))
        residual2 = h2 - (q2 @ w["shortcut_kernel_1"] + w["shortcut_bias_1"])
        gq2 = np.tanh(q2 @ w["question_kernel_1"] + w["question_bias_1"])
        # A ratio of differences: it loses about two digits more than the
        # outputs.
        backend.assert_allclose(
            residual2 / gq2, ratio, **backend.close(rtol=1e-8, atol=0)
        )

    @parameterized.parameters(((3, 6), (3, 5, 4)), ((3, 5, 6), (3, 4)))
    def test_broadcast_equals_calling_per_position(self, q_shape, v_shape):
        layer = make(num_layers=2)
        q, v = test_util.inputs(q_shape, v_shape)
        h, _ = run(layer, q, v)
        if len(q_shape) == 2:
            per = [as_numpy(layer(q, v[:, i])) for i in range(5)]
        else:
            per = [as_numpy(layer(q[:, i], v)) for i in range(5)]
        backend.assert_allclose(
            h, np.stack(per, 1), **backend.close(rtol=1e-12, atol=0)
        )


class DropoutTest(parameterized.TestCase):
    def test_inference_ignores_dropout_and_training_uses_it(self):
        q, v = test_util.inputs((4, 6), (4, 4))
        layer = make(dropout=0.5)
        h, w = run(layer, q, v)
        backend.assert_allclose(
            h, references.mrn(q, v, w, 2), **backend.close()
        )
        self.assertFalse(np.allclose(as_numpy(layer(q, v, training=True)), h))

    def test_dropout_leaves_the_shortcut_alone(self):
        # One block: where the residual is dropped, H_1 = S_1(q) exactly.
        q, v = test_util.inputs((50, 6), (50, 4))
        layer = make(num_layers=1, dropout=0.5)
        _, w = run(layer, q, v)
        h = as_numpy(layer(q, v, training=True))
        shortcut = q @ w["shortcut_kernel_1"] + w["shortcut_bias_1"]
        dropped = np.isclose(h, shortcut, **backend.close(rtol=0, atol=1e-14))
        self.assertBetween(dropped.mean(), 0.6, 0.9)  # 1 − (1 − r)² = 0.75


class KerasApiTest(parameterized.TestCase):
    def test_config_round_trip(self):
        layer = make(
            7,
            num_layers=3,
            hidden_units=9,
            activation="relu",
            shortcut="identity",
            dropout=0.2,
            bias_regularizer="l1",
            name="mrn",
        )
        config = layer.get_config()
        clone = MultimodalResidual.from_config(config)
        self.assertEqual(clone.get_config(), config)
        for key in (
            "units",
            "num_layers",
            "hidden_units",
            "activation",
            "shortcut",
            "dropout",
            "use_bias",
            "kernel_initializer",
            "bias_initializer",
            "kernel_regularizer",
            "bias_regularizer",
            "activity_regularizer",
            "kernel_constraint",
            "bias_constraint",
        ):
            self.assertIn(key, config)
        self.assertEqual(
            (
                config["units"],
                config["num_layers"],
                config["hidden_units"],
                config["shortcut"],
                config["dropout"],
            ),
            (7, 3, 9, "identity", 0.2),
        )

    @parameterized.product(shapes=SHAPES, num_layers=(1, 2))
    def test_compute_output_shape(self, shapes, num_layers):
        layer = make(num_layers=num_layers)
        q, v = test_util.inputs(*shapes)
        self.assertEqual(
            layer.compute_output_shape(q.shape, v.shape), layer(q, v).shape
        )

    def test_symbolic_call_with_unknown_batch(self):
        q, v = keras.Input((6,)), keras.Input((None, 4))
        h = MultimodalResidual(5, num_layers=2)(q, v)
        self.assertEqual(tuple(h.shape), (None, None, 5))

    def test_builds_lazily(self):
        layer = make(num_layers=2)
        self.assertFalse(layer.built)
        self.assertEmpty(layer.weights)
        layer(*test_util.inputs((2, 6), (2, 4)))
        self.assertTrue(layer.built)

    def test_docstring_example(self):
        result = doctest.testmod(mrn_module)
        self.assertGreater(result.attempted, 0)
        self.assertEqual(result.failed, 0)


class BadInputTest(parameterized.TestCase):
    @parameterized.parameters(
        (dict(units=0), r"`units` must be a positive integer, got units=0"),
        (dict(units=None), r"got units=None"),
        (
            dict(units=4, num_layers=0),
            r"`num_layers` must be a positive integer, got num_layers=0",
        ),
        (dict(units=4, num_layers=2.0), r"got num_layers=2.0"),
        (
            dict(units=4, hidden_units=0),
            r"`hidden_units` must be a positive integer, got hidden_units=0",
        ),
        (
            dict(units=4, shortcut="none"),
            r"`shortcut` must be one of \('linear', 'identity'\), got "
            r"shortcut='none'",
        ),
        (
            dict(units=4, dropout=1),
            r"`dropout` must be a number in \[0, 1\), "
            r"got dropout=1",
        ),
        (dict(units=4, use_bias=0), r"got use_bias=0"),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            MultimodalResidual(**kwargs)

    def test_unknown_argument(self):
        with self.assertRaisesRegex(
            ValueError,
            r"Unrecognized keyword arguments passed to "
            r"MultimodalResidual: \{'layers': 2\}",
        ):
            MultimodalResidual(4, layers=2)

    @parameterized.parameters(
        (
            (6,),
            (3, 4),
            r"MultimodalResidual: q has shape \(6,\) and v has "
            r"shape \(3, 4\); q must have rank >= 2",
        ),
        ((3, 6), (5, 4), r"the batch sizes of q and v differ"),
        ((3, 5, 6), (3, 2, 4), r"the leading axes of q and v differ"),
        (
            (3, 2, 5, 6),
            (3, 5, 4),
            r"inputs of different ranks need the "
            r"lower-rank one to be \[batch, features\]",
        ),
    )
    def test_bad_shapes(self, q_shape, v_shape, message):
        layer = MultimodalResidual(4)
        with self.assertRaisesRegex(ValueError, message):
            layer(np.zeros(q_shape, "float32"), np.zeros(v_shape, "float32"))
        with self.assertRaisesRegex(ValueError, message):
            layer.compute_output_shape(q_shape, v_shape)

    def test_unknown_feature_size(self):
        with self.assertRaisesRegex(
            ValueError, r"the last axes of q and v must be known"
        ):
            MultimodalResidual(4).build((None, 6), (None, None))


if __name__ == "__main__":
    absltest.main()
