"""Tests of MultiplicativeInteraction against the formula and its structure."""

import itertools
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np

from mi_zoo.layers import MultiplicativeInteraction
from mi_zoo.layers import mi_contraction
from tests import backend
from tests.backend import as_numpy
from tests.layers import references
from tests.layers import test_util

FORMS = ("full", "low_rank", "diagonal", "scalar")
# (x shape, z shape): rank 2, 3, 4 with a broadcast [B, m] context, and
# contexts that match x's leading axes.
SHAPES = (
    ((3, 6), (3, 4)),
    ((3, 5, 6), (3, 4)),
    ((3, 2, 5, 6), (3, 4)),
    ((3, 5, 6), (3, 5, 4)),
    ((3, 2, 5, 6), (3, 2, 5, 4)),
)


def make(form, units=6, dtype="float64", **kwargs):
    if form == "low_rank":
        kwargs.setdefault("rank", 2)
    return MultiplicativeInteraction(units, form=form, dtype=dtype, **kwargs)


def run(layer, x, z, seed=0):
    layer(x, z)
    weights = test_util.random_weights(layer, seed)
    return as_numpy(layer(x, z)), weights


class FormulaTest(parameterized.TestCase):
    @parameterized.product(form=FORMS, shapes=SHAPES)
    def test_matches_float64_reference(self, form, shapes):
        x, z = test_util.inputs(*shapes)
        y, w = run(make(form), x, z)
        expected = references.multiplicative_interaction(form, x, z, w)
        self.assertEqual(y.shape, expected.shape)
        backend.assert_allclose(y, expected, **backend.close())

    @parameterized.product(
        contraction=mi_contraction.CONTRACTIONS, shapes=SHAPES, units=(3, 6, 9)
    )
    def test_every_contraction_order_matches_reference(
        self, contraction, shapes, units
    ):
        x, z = test_util.inputs(*shapes)
        layer = make("full", units=units, contraction=contraction)
        y, w = run(layer, x, z)
        self.assertEqual(layer.contraction, contraction)
        expected = references.multiplicative_interaction("full", x, z, w)
        backend.assert_allclose(y, expected, **backend.close())

    def test_no_bias_and_activation(self):
        x, z = test_util.inputs((4, 6), (4, 3))
        layer = make("full", use_bias=False, activation="relu")
        y, w = run(layer, x, z)
        self.assertNotIn("bias", w)
        expected = np.maximum(
            references.multiplicative_interaction("full", x, z, w), 0.0
        )
        backend.assert_allclose(y, expected, **backend.close())
        self.assertTrue((y == 0).any())

    def test_hypernetwork_view(self):
        # f(x, z) = W'(z) x + b'(z), W' = zᵀW + V, b' = zᵀU + b.
        x, z = test_util.inputs((5, 6), (5, 4))
        y, w = run(make("full", units=3), x, z)
        w_z = np.einsum("bi,ijk->bjk", z, w["kernel"]) + w["input_kernel"]
        b_z = z @ w["context_kernel"] + w["bias"]
        backend.assert_allclose(
            y, np.einsum("bj,bjk->bk", x, w_z) + b_z, **backend.close()
        )

    @parameterized.parameters(
        # The parameter count of each form.
        ("full", 4 * 6 * 5 + 4 * 5 + 6 * 5 + 5, 5),
        ("low_rank", 4 * 2 + 6 * 2 + 2 * 5 + 4 * 5 + 6 * 5 + 5, 5),
        ("diagonal", 4 * 6 + 6 + 4 * 6 + 6, 6),
        ("scalar", 4 + 1 + 4 * 6 + 6, 6),
    )
    def test_parameter_count(self, form, count, units):
        layer = make(form, units=units)
        layer(*test_util.inputs((2, 6), (2, 4)))
        self.assertEqual(layer.count_params(), count)


class StructureTest(parameterized.TestCase):
    """Properties that hold whatever the weights."""

    def bilinear_part(self, layer, x, z):
        """g(x, z) = f(x, z) − f(x, 0) − f(0, z) + f(0, 0)."""
        f = lambda a, b: as_numpy(layer(a, b))
        zero_x, zero_z = np.zeros_like(x), np.zeros_like(z)
        return f(x, z) - f(x, zero_z) - f(zero_x, z) + f(zero_x, zero_z)

    def built(self, form, units=6, seed=0, **kwargs):
        layer = make(form, units=units, **kwargs)
        x, z = test_util.inputs((4, 6), (4, 5))
        layer(x, z)
        test_util.random_weights(layer, seed)
        return layer

    @parameterized.parameters(*FORMS)
    def test_bilinear_part_is_linear_in_each_argument(self, form):
        layer = self.built(form)
        x1, z1 = test_util.inputs((4, 6), (4, 5), seed=2)
        x2, z2 = test_util.inputs((4, 6), (4, 5), seed=3)
        a, b = 1.7, -0.6
        g = lambda x, z: self.bilinear_part(layer, x, z)
        backend.assert_allclose(
            g(a * x1 + b * x2, z1),
            a * g(x1, z1) + b * g(x2, z1),
            **backend.close(rtol=1e-9, atol=1e-9),
        )
        backend.assert_allclose(
            g(x1, a * z1 + b * z2),
            a * g(x1, z1) + b * g(x1, z2),
            **backend.close(rtol=1e-9, atol=1e-9),
        )
        self.assertGreater(np.abs(g(x1, z1)).max(), 1e-3)

    def jacobian_of_bilinear_part(self, layer, z):
        """∂g/∂x at fixed z for one example: [k, n] (g is linear in x)."""
        n = (
            layer.input_kernel.shape[0]
            if layer.form in ("full", "low_rank")
            else layer.kernel.shape[1]
            if (layer.form == "diagonal")
            else layer.context_kernel.shape[1]
        )
        basis = np.eye(n)
        zs = np.repeat(z[:1], n, axis=0)
        return self.bilinear_part(layer, basis, zs).T

    @parameterized.parameters(1, 2, 3)
    def test_low_rank_jacobian_rank_is_at_most_rank(self, rank):
        layer = self.built("low_rank", units=7, rank=rank)
        _, z = test_util.inputs((4, 6), (4, 5), seed=4)
        jac = self.jacobian_of_bilinear_part(layer, z)
        self.assertEqual(jac.shape, (7, 6))
        self.assertEqual(backend.matrix_rank(jac, 1e-8), rank)

    def test_full_jacobian_has_full_rank(self):
        # The full form is not limited: a control for the low-rank test.
        layer = self.built("full", units=7)
        _, z = test_util.inputs((4, 6), (4, 5), seed=4)
        jac = self.jacobian_of_bilinear_part(layer, z)
        self.assertEqual(backend.matrix_rank(jac, 1e-8), 6)

    def test_diagonal_output_depends_only_on_same_feature(self):
        layer = self.built("diagonal")
        x, z = test_util.inputs((4, 6), (4, 5), seed=5)
        base = as_numpy(layer(x, z))
        for j in range(6):
            bumped = x.copy()
            bumped[:, j] += 1.0
            delta = as_numpy(layer(bumped, z)) - base
            others = np.delete(delta, j, axis=1)
            backend.assert_allclose(
                others, 0.0, **backend.close(rtol=1e-7, atol=1e-12)
            )
            self.assertTrue((np.abs(delta[:, j]) > 1e-6).all())

    def test_scalar_bilinear_part_is_parallel_to_x(self):
        layer = self.built("scalar")
        x, z = test_util.inputs((4, 6), (4, 5), seed=6)
        g = self.bilinear_part(layer, x, z)
        cos = np.sum(g * x, -1) / (
            np.linalg.norm(g, axis=-1) * np.linalg.norm(x, axis=-1)
        )
        backend.assert_allclose(np.abs(cos), 1.0, **backend.close(atol=0))

    def test_diagonal_on_feature_map_is_channelwise(self):
        # [B, H, W, C] with a [B, m] context: the same affine map per pixel.
        layer = make("diagonal", units=None)
        x, z = test_util.inputs((2, 3, 4, 6), (2, 5))
        y, _ = run(layer, x, z)
        per_pixel = as_numpy(layer(x[:, 1, 2], z))
        backend.assert_allclose(
            y[:, 1, 2], per_pixel, **backend.close(rtol=1e-12, atol=0)
        )


class ContractionChoiceTest(parameterized.TestCase):
    @parameterized.parameters(
        itertools.product(
            (1, 16, 256), (1, 64, 512), (1, 32, 512), (1, 7, None)
        )
    )
    def test_intermediate_never_exceeds_min_of_outer_and_hypernetwork(
        self, m, n, k, rows
    ):
        choice = mi_contraction.choose_contraction(m, n, k, rows)
        r = 1_000_000 if rows is None else rows  # any large row count
        held = {
            "outer": r * m * n,
            "input_first": r * m * k,
            "context_first": n * k,
        }[choice]
        self.assertLessEqual(held, min(r * m * n, n * k))

    @parameterized.parameters(
        # The benchmark shapes (B, m, n, k) of the foundation issue.
        (32, 256, 256, "outer"),
        (256, 256, 256, "outer"),
        (512, 512, 512, "outer"),
        (16, 128, 128, "outer"),
        (64, 512, 8, "input_first"),
        (64, 8, 512, "outer"),
    )
    def test_choice_for_one_row_per_context(self, m, n, k, expected):
        self.assertEqual(
            mi_contraction.choose_contraction(m, n, k, 1), expected
        )

    def test_many_rows_per_context_uses_the_hypernetwork(self):
        # A question vector against 196 grid cells: build the weights once.
        layer = make("full", units=32)
        layer(*test_util.inputs((2, 14, 14, 16), (2, 8)))
        self.assertEqual(layer.contraction, "context_first")

    def test_unknown_middle_axes_use_the_hypernetwork(self):
        x = keras.Input((None, 16))
        z = keras.Input((8,))
        layer = MultiplicativeInteraction(4)
        layer(x, z)
        self.assertEqual(layer.contraction, "context_first")


class ContextChunksTest(parameterized.TestCase):
    """The "outer" order summed over chunks of the context features."""

    @parameterized.parameters(
        itertools.product(
            (1, 7, 32, 512),
            (1, 64, 4096),
            (1, 512),
            (None, 1, 300, 1_000_000),
        )
    )
    def test_plan(self, m, n, k, rows):
        sizes = mi_contraction.context_chunks(m, n, k, rows)
        floats = mi_contraction.CHUNK_FLOATS
        r = mi_contraction.ASSUMED_ROWS if rows is None else rows
        self.assertEqual(sum(sizes), m)
        self.assertLessEqual(max(sizes) - min(sizes), 1)
        self.assertLessEqual(len(sizes), min(m, mi_contraction.MAX_CHUNKS))
        # One chunk exactly when the whole intermediate fits, or when it is
        # under half the kernel's size (N < k / 2).
        whole = r * m * n <= floats or m == 1 or 2 * r < k
        self.assertEqual(len(sizes) == 1, whole)
        capped = len(sizes) == min(m, mi_contraction.MAX_CHUNKS)
        if len(sizes) > 1 and not capped:
            # Each chunk fits, and one chunk fewer would not.
            self.assertLessEqual(r * max(sizes) * n, floats)
            self.assertGreater(r * -(-m // (len(sizes) - 1)) * n, floats)

    def test_benchmark_shapes(self):
        # (B, m, n, k): 2 MiB chunks of (z ⊗ x) at the MI-layer benchmark
        # shapes, except where the kernel is over twice the intermediate.
        plans = {
            (256, 32, 256, 256): (8,) * 4,
            (256, 256, 256, 256): (8,) * 32,
            (64, 512, 512, 512): (512,),
            (1024, 16, 128, 128): (4,) * 4,
        }
        for (b, m, n, k), sizes in plans.items():
            self.assertEqual(mi_contraction.context_chunks(m, n, k, b), sizes)

    def test_split_points(self):
        self.assertEqual(mi_contraction.split_points((3, 2, 2)), (3, 5))
        self.assertEqual(mi_contraction.split_points((7,)), ())

    @parameterized.product(
        # CHUNK_FLOATS 1: one context feature per chunk (7 chunks); with at
        # most 3 chunks: uneven sizes (3, 2, 2).
        plan=((1, 32, (1,) * 7), (1, 3, (3, 2, 2))),
        shapes=(
            ((3, 6), (3, 7)),
            ((3, 5, 6), (3, 7)),
            ((3, 2, 5, 6), (3, 2, 5, 7)),
        ),
    )
    def test_chunks_match_reference_and_one_chunk(self, plan, shapes):
        floats, most, sizes = plan
        x, z = test_util.inputs(*shapes)
        layer = make("full", units=5, contraction="outer")
        y_one, w = run(layer, x, z)
        kernel_grad = self.kernel_gradient_function(layer)
        grads_one = backend.input_gradients(kernel_grad, x, z, w["kernel"])
        with mock.patch.multiple(
            mi_contraction, CHUNK_FLOATS=floats, MAX_CHUNKS=most
        ):
            self.assertEqual(mi_contraction.context_chunks(7, 6, 5, 3), sizes)
            y = as_numpy(layer(x, z))
            grads = backend.input_gradients(kernel_grad, x, z, w["kernel"])
        expected = references.multiplicative_interaction("full", x, z, w)
        backend.assert_allclose(y, expected, **backend.close())
        close = backend.close(rtol=1e-12, atol=1e-12)
        backend.assert_allclose(y, y_one, **close)
        # Gradients of x, z and W (the kernel's reach every chunk's slice).
        for got, one in zip(grads, grads_one):
            backend.assert_allclose(got, one, **close)
        # d sum(y) / dW[i, j, l] = Σ_rows z_i x_j.
        zb = np.broadcast_to(
            z.reshape(z.shape[:1] + (1,) * (x.ndim - z.ndim) + z.shape[1:]),
            x.shape[:-1] + z.shape[-1:],
        )
        dw = zb.reshape(-1, 7).T @ x.reshape(-1, 6)  # [m, n]
        dw = np.repeat(dw[..., None], 5, axis=-1)  # [m, n, k]
        backend.assert_allclose(grads[2], dw, **backend.close())

    @staticmethod
    def kernel_gradient_function(layer):
        """fn(x, z, kernel) = layer(x, z) with W given: its input gradients
        include W's."""
        index = [v.path for v in layer.trainable_variables].index(
            layer.kernel.path
        )

        def call(x, z, kernel):
            values = list(layer.trainable_variables)
            values[index] = kernel
            y, _ = layer.stateless_call(values, [], x, z)
            return y

        return call


class KerasApiTest(parameterized.TestCase):
    @parameterized.parameters(*FORMS)
    def test_config_round_trip(self, form):
        layer = make(
            form,
            activation="tanh",
            kernel_regularizer="l2",
            bias_initializer="ones",
            name="mi",
        )
        clone = MultiplicativeInteraction.from_config(layer.get_config())
        self.assertEqual(clone.get_config(), layer.get_config())
        for key in (
            "units",
            "form",
            "rank",
            "use_bias",
            "activation",
            "contraction",
            "kernel_initializer",
            "bias_initializer",
            "kernel_regularizer",
            "bias_regularizer",
            "activity_regularizer",
            "kernel_constraint",
            "bias_constraint",
        ):
            self.assertIn(key, layer.get_config())

    @parameterized.product(form=FORMS, shapes=SHAPES)
    def test_compute_output_shape(self, form, shapes):
        layer = make(form)
        x, z = test_util.inputs(*shapes)
        self.assertEqual(
            layer.compute_output_shape(x.shape, z.shape), layer(x, z).shape
        )

    def test_symbolic_call_with_unknown_batch(self):
        x, z = keras.Input((5, 6)), keras.Input((4,))
        y = MultiplicativeInteraction(3, form="low_rank", rank=2)(x, z)
        self.assertEqual(tuple(y.shape), (None, 5, 3))

    def test_builds_lazily(self):
        layer = make("full")
        self.assertFalse(layer.built)
        self.assertEmpty(layer.weights)
        layer(*test_util.inputs((2, 6), (2, 4)))
        self.assertTrue(layer.built)
        self.assertEqual(
            sorted(v.name for v in layer.weights),
            ["bias", "context_kernel", "input_kernel", "kernel"],
        )

    def test_diagonal_and_scalar_start_as_x_plus_context(self):
        # v = 1 at init: with W_d / w zeroed, f = x + zᵀU + b.
        for form in ("diagonal", "scalar"):
            layer = make(form, units=None)
            x, z = test_util.inputs((3, 6), (3, 4))
            layer(x, z)
            layer.kernel.assign(np.zeros(layer.kernel.shape))
            expected = x + z @ as_numpy(layer.context_kernel)
            backend.assert_allclose(
                layer(x, z), expected, **backend.close(rtol=1e-12, atol=0)
            )


class BadInputTest(parameterized.TestCase):
    @parameterized.parameters(
        (dict(units=0), r"`units` must be a positive integer, got units=0"),
        (dict(units=-3), r"got units=-3"),
        (dict(units=2.5), r"got units=2.5"),
        (dict(units=True), r"got units=True"),
        (dict(units=None), r"got units=None"),
        (
            dict(units=4, form="cubic"),
            r"`form` must be one of \('full', 'low_rank', 'diagonal', "
            r"'scalar'\), got form='cubic'",
        ),
        (
            dict(units=4, form="low_rank"),
            r"`rank` must be a positive integer, got rank=None",
        ),
        (dict(units=4, form="low_rank", rank=0), r"got rank=0"),
        (
            dict(units=4, form="full", rank=2),
            r"`rank` is only used by form='low_rank', got rank=2 with "
            r"form='full'",
        ),
        (dict(units=4, form="diagonal", rank=2), r"with form='diagonal'"),
        (
            dict(units=4, contraction="fast"),
            r"`contraction` must be one of .*got contraction='fast'",
        ),
        (
            dict(units=4, form="low_rank", rank=2, contraction="outer"),
            r"`contraction` can only be forced for form='full'",
        ),
        (dict(units=4, use_bias="yes"), r"got use_bias='yes'"),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            MultiplicativeInteraction(**kwargs)

    @parameterized.parameters(
        ((6,), (3, 4), r"input x has shape \(6,\) .* x must have rank >= 2"),
        ((3, 6), (4,), r"context z has shape \(4,\).* z must be \[batch, m\]"),
        (
            (3, 6),
            (5, 4),
            r"shape \(3, 6\) and context z has shape \(5, 4\); "
            r"the batch sizes of x and z differ",
        ),
        ((3, 5, 6), (3, 4, 4), r"the leading axes of x and z differ"),
        ((3, 2, 5, 6), (3, 5, 4), r"z must be \[batch, m\] or rank 4"),
    )
    def test_bad_shapes(self, x_shape, z_shape, message):
        layer = MultiplicativeInteraction(4)
        with self.assertRaisesRegex(ValueError, message):
            layer(np.zeros(x_shape, "float32"), np.zeros(z_shape, "float32"))

    @parameterized.parameters("diagonal", "scalar")
    def test_units_must_equal_input_size(self, form):
        layer = MultiplicativeInteraction(8, form=form)
        with self.assertRaisesRegex(
            ValueError,
            rf"MultiplicativeInteraction\(form='{form}'\) scales x "
            r"feature-wise, so `units` must equal x's last axis: got "
            r"units=8 for x of shape \(3, 6\)",
        ):
            layer(np.zeros((3, 6), "float32"), np.zeros((3, 4), "float32"))

    def test_unknown_feature_size(self):
        with self.assertRaisesRegex(
            ValueError,
            r"last axes of x and z must "
            r"be known",
        ):
            MultiplicativeInteraction(4).build((None, None), (None, 3))


if __name__ == "__main__":
    absltest.main()
