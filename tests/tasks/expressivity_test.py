"""The expressivity task: target formulas, exact MI solutions set by hand,
parameter counts and bad arguments (the width search:
tests/experiments/expressivity_search_test.py)."""

from absl.testing import absltest
import numpy as np

from mi_zoo.tasks import expressivity


def _sample(d, n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal((n, d))


class TargetTest(absltest.TestCase):
    def test_formulas_against_float64_numpy(self):
        x, z = _sample(5)
        w = np.random.default_rng(1).standard_normal((5, 5))
        expected = {
            "sum": x + z,
            "dot": np.array([[xi @ zi] for xi, zi in zip(x, z)]),
            "elementwise": x * z,
            "bilinear": np.array([[xi @ w @ zi] for xi, zi in zip(x, z)]),
        }
        self.assertCountEqual(expressivity.TARGETS.names(), expected)
        for name, want in expected.items():
            with self.subTest(name):
                target = expressivity.get_target(name)
                got = target.numpy(x, z, w)
                self.assertEqual(got.dtype, np.float64)
                self.assertEqual(got.shape[1], target.output_dim(5))
                np.testing.assert_allclose(got, want, rtol=1e-12)

    def test_data_is_seeded_and_bilinear_w_scaled(self):
        a = expressivity.ExpressivityTask(
            "bilinear", 6, "mlp", 4, train_examples=32, eval_examples=4096
        )
        b = expressivity.ExpressivityTask(
            "bilinear", 6, "mlp", 4, train_examples=32, eval_examples=4096
        )
        np.testing.assert_array_equal(a.train[1], b.train[1])
        np.testing.assert_array_equal(a.params, b.params)
        # Train and eval are distinct draws.
        self.assertFalse(
            np.allclose(a.train[0]["x"][:32], a.eval[0]["x"][:32])
        )
        # Var xᵀWz = ‖W‖²_F, d on average with W ~ N(0, 1/d) (as xᵀz's).
        self.assertAlmostEqual(
            a.target_variance / np.sum(a.params**2), 1, delta=0.1
        )


class ExactMiSolutionTest(absltest.TestCase):
    """One MI layer represents these targets exactly (weights set by
    hand): zᵀWx + zᵀU + Vx + b with the right W."""

    def _check(self, name, model_kind, width, weights):
        d = 4
        task = expressivity.ExpressivityTask(
            name, d, model_kind, width, train_examples=8, eval_examples=256
        )
        model = task.build_model()
        layer = model.get_layer("mi")
        for v in layer.weights:
            v.assign(np.zeros(v.shape, np.float32))
        for attr, value in weights(d, task.params).items():
            getattr(layer, attr).assign(np.asarray(value, np.float32))
        mse = task.evaluate(model, 64)["mse"]
        self.assertLess(mse, 1e-10)

    def test_full_dot(self):
        self._check(
            "dot", "mi_full", 1, lambda d, p: {"kernel": np.eye(d)[:, :, None]}
        )

    def test_full_bilinear(self):
        # The layer computes Σ z_i W[i, j] x_j; the target xᵀ W z.
        self._check(
            "bilinear", "mi_full", 1, lambda d, p: {"kernel": p.T[:, :, None]}
        )

    def test_full_elementwise(self):
        kernel = lambda d: np.einsum("ij,jk->ijk", np.eye(d), np.eye(d))
        self._check(
            "elementwise", "mi_full", 1, lambda d, p: {"kernel": kernel(d)}
        )

    def test_full_sum(self):
        self._check(
            "sum",
            "mi_full",
            1,
            lambda d, p: {
                "context_kernel": np.eye(d),
                "input_kernel": np.eye(d),
            },
        )

    def test_low_rank_dot_rank_d(self):
        self._check(
            "dot",
            "mi_low_rank",
            4,
            lambda d, p: {
                "context_factor": np.eye(d),
                "input_factor": np.eye(d),
                "output_factor": np.ones((d, 1)),
            },
        )

    def test_low_rank_bilinear_rank_d(self):
        # Σ_r (zᵀA)_r (xᵀB)_r = xᵀ B Aᵀ z = xᵀ W z with B = W, A = I.
        self._check(
            "bilinear",
            "mi_low_rank",
            4,
            lambda d, p: {
                "context_factor": np.eye(d),
                "input_factor": p,
                "output_factor": np.ones((d, 1)),
            },
        )


class ParameterCountTest(absltest.TestCase):
    def test_closed_form_equals_keras(self):
        for model in expressivity.MODELS.names():
            for target, d, width in (
                ("dot", 3, 5),
                ("sum", 4, 2),
                ("elementwise", 2, 7),
            ):
                with self.subTest(model=model, target=target):
                    task = expressivity.ExpressivityTask(
                        target,
                        d,
                        model,
                        width,
                        train_examples=4,
                        eval_examples=4,
                    )
                    self.assertEqual(
                        task.build_model().count_params(), task.parameters
                    )

    def test_known_values(self):
        # MLP: 2d·h + h + h·k + k; full MI: d²k + 2dk + k.
        self.assertEqual(
            expressivity.parameter_count("mlp", 8, 1, 64),
            16 * 64 + 64 + 64 + 1,
        )
        self.assertEqual(
            expressivity.parameter_count("mi_full", 8, 1, 1), 64 + 16 + 1
        )
        self.assertEqual(
            expressivity.parameter_count("mi_low_rank", 8, 1, 3),
            16 * 3 + 3 + 16 + 1,
        )


class BadArgumentsTest(absltest.TestCase):
    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, "target function 'cube'"):
            expressivity.ExpressivityTask("cube", 2, "mlp")
        with self.assertRaisesRegex(ValueError, "expressivity model 'cnn'"):
            expressivity.ExpressivityTask("dot", 2, "cnn")
        with self.assertRaisesRegex(ValueError, "input_dim"):
            expressivity.ExpressivityTask("dot", 0, "mlp")


if __name__ == "__main__":
    absltest.main()
