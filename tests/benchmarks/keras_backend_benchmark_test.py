"""The Keras-backend benchmark: its backend choice, a tiny run's rows under
the test's backend, and that importing it imports no TensorFlow (.ci/backends
runs it with --quick under JAX and PyTorch, where TensorFlow is absent)."""

import math
import subprocess
import sys

from absl.testing import absltest
import keras
import numpy as np

from benchmarks import keras_backend_benchmark as bench
from benchmarks import mi_layer_benchmark
from benchmarks import mi_layer_shapes

BACKEND = keras.backend.backend()


class ChooseBackendTest(absltest.TestCase):
    def test_flag_then_environment_then_jax(self):
        env = {"KERAS_BACKEND": "torch"}
        found = lambda name: object()  # noqa: E731 (every package present)
        self.assertEqual(
            bench.choose_backend("tensorflow", env, found), "tensorflow"
        )
        self.assertEqual(bench.choose_backend(None, env, found), "torch")
        self.assertEqual(bench.choose_backend(None, {}, found), "jax")

    def test_unknown_environment_backend(self):
        with self.assertRaisesRegex(
            ValueError,
            r"^KERAS_BACKEND must be one of jax, torch, tensorflow, got "
            r"'numpy'\.$",
        ):
            bench.choose_backend(None, {"KERAS_BACKEND": "numpy"})

    def test_backend_not_installed(self):
        with self.assertRaisesRegex(
            ValueError,
            r"^--backend=jax needs the jax package, which is not installed "
            r"here \(pip install jax\), got 'jax'\.$",
        ):
            bench.choose_backend("jax", {}, find_spec=lambda name: None)

    def test_keras_imported_under_another_backend(self):
        other = "jax" if BACKEND != "jax" else "torch"
        with self.assertRaisesRegex(
            ValueError,
            rf"^Keras was imported before with backend '{BACKEND}'; run in "
            rf"a fresh process for --backend={other}, got '{other}'\.$",
        ):
            bench.Runner(other)


class RunTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.runner = bench.Runner(BACKEND)

    def test_quick_run_rows(self):
        result = bench.run(
            self.runner,
            "all",
            quick=True,
            repeats=1,
            min_seconds=0.0,
            rank=2,
            fusion_batch=2,
        )
        self.assertEqual(
            [r["layer"] for r in result["layers"]], list(bench.LAYERS)
        )
        self.assertEqual(
            [r["fusion"] for r in result["fusions"]], list(bench.FUSIONS)
        )
        for row in result["layers"] + result["fusions"]:
            for key, value in row.items():
                if isinstance(value, float):
                    self.assertTrue(
                        math.isfinite(value) and value > 0, msg=(row, key)
                    )
        self.assertEqual(
            result["fusions"][-1]["inputs"], [[2, 3, 6], [2, 4, 10]]
        )

    def test_passes_give_the_layer_and_its_gradients(self):
        shape = (4, 3, 5, 5)
        x, z = bench.random_inputs(self.runner, [(4, 5), (4, 3)])
        call, weights = bench.build_layer(self.runner, "full", shape, 2, x, z)
        forward, train = self.runner.passes(call, weights, [x, z])
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(forward()),
            keras.ops.convert_to_numpy(call(x, z)),
            rtol=1e-5,
            atol=1e-6,
        )
        grads = train()
        self.assertLen(grads, 2 + len(weights))
        # d sum(y) / dx = Σ_k (zᵀW + V)[:, k] per example.
        w, v = (
            keras.ops.convert_to_numpy(t)
            for t in (call.kernel, call.input_kernel)
        )
        zs = keras.ops.convert_to_numpy(z)
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(grads[0]),
            np.einsum("bi,ijk->bj", zs, w) + v.sum(-1),
            rtol=1e-4,
            atol=1e-5,
        )

    def test_naive_hypernetwork_is_the_full_form(self):
        x, z = bench.random_inputs(self.runner, [(4, 5), (4, 3)])
        naive, parts = bench.naive_hypernetwork(keras, 5, 6)
        naive(x, z)
        w, v = (keras.ops.convert_to_numpy(t) for t in parts[0].weights)
        u, b = (keras.ops.convert_to_numpy(t) for t in parts[1].weights)
        xs, zs = (keras.ops.convert_to_numpy(t) for t in (x, z))
        expected = (
            np.einsum("bi,bj,ijk->bk", zs, xs, w.reshape(3, 5, 6))
            + xs @ v.reshape(5, 6)
            + zs @ u
            + b
        )
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(naive(x, z)), expected, atol=1e-5
        )

    def test_shapes_shared_with_the_tensorflow_script(self):
        self.assertIs(mi_layer_benchmark.SHAPES, mi_layer_shapes.SHAPES)
        self.assertIs(
            mi_layer_benchmark.forward_flops, mi_layer_shapes.forward_flops
        )


class NoTensorFlowTest(absltest.TestCase):
    def test_import_needs_no_tensorflow(self):
        # tensorflow = None in sys.modules makes `import tensorflow` fail.
        code = (
            "import sys; sys.modules['tensorflow'] = None; "
            "import benchmarks.keras_backend_benchmark, "
            "benchmarks.mi_layer_shapes"
        )
        subprocess.run([sys.executable, "-c", code], check=True)


if __name__ == "__main__":
    absltest.main()
