"""benchmarks.step_gemms finds every matrix product of a traced step, with
the gradients' transposes, and sums their times weighted by how often each
occurs."""

from unittest import mock

from absl.testing import absltest
import tensorflow as tf

from benchmarks import step_gemms


def _train_step_graph():
    x = tf.constant(tf.random.normal((6, 4)))
    w = tf.Variable(tf.random.normal((4, 3)))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.matmul(x, w)  # [6, 3]
            loss = tf.reduce_sum(y * y)
        return tape.gradient(loss, [x, w])

    return step.get_concrete_function().graph


class ProductsTest(absltest.TestCase):
    def test_forward_and_both_gradients_with_their_transposes(self):
        found = step_gemms.products(_train_step_graph())
        self.assertCountEqual(
            [(p.op_type, p.shapes, p.attrs) for p in found],
            [
                # y = x @ w
                ("MatMul", ((6, 4), (4, 3)), _flags(False, False)),
                # dx = dy @ wᵀ
                ("MatMul", ((6, 3), (4, 3)), _flags(False, True)),
                # dw = xᵀ @ dy
                ("MatMul", ((6, 4), (6, 3)), _flags(True, False)),
            ],
        )
        self.assertEqual({p.dtype for p in found}, {"float32"})

    def test_batched_products_and_einsum(self):
        @tf.function
        def fn(a, b):
            return tf.linalg.matmul(a, b, adjoint_b=True) + tf.einsum(
                "bij,bkj->bik", a, b
            )

        graph = fn.get_concrete_function(
            tf.TensorSpec((2, 5, 3)), tf.TensorSpec((2, 4, 3))
        ).graph
        by_type = {p.op_type: p for p in step_gemms.products(graph)}
        self.assertEqual(
            by_type["Einsum"].attrs, (("equation", "bij,bkj->bik"),)
        )
        batched = [p for t, p in by_type.items() if t.startswith("Batch")]
        self.assertLen(batched, 1)
        self.assertEqual(batched[0].attrs, (("adj_x", False), ("adj_y", True)))
        self.assertEqual(batched[0].shapes, ((2, 5, 3), (2, 4, 3)))

    def test_unknown_shapes_are_listed_without_shapes(self):
        @tf.function
        def fn(a):
            return tf.matmul(a, tf.ones((3, 2)))

        graph = fn.get_concrete_function(tf.TensorSpec((None, 3))).graph
        (found,) = step_gemms.products(graph)
        self.assertIsNone(found.shapes)
        self.assertEqual(step_gemms.products_ms([found])["unknown"], 1)
        self.assertEqual(step_gemms.products_ms([found])["ms"], 0.0)


class RunProductsTest(absltest.TestCase):
    def _step(self):
        # Rows picked by a mask: the graph does not know how many (3).
        mask = tf.constant([True, False, True, True, False])
        x = tf.constant(tf.random.normal((5, 4)))
        w = tf.Variable(tf.random.normal((4, 3)))

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                y = tf.matmul(tf.boolean_mask(x, mask), w)  # [None, 3]
                loss = tf.reduce_sum(y * y)
            w.assign_sub(0.1 * tape.gradient(loss, w))
            return loss

        return step, w

    def test_shapes_unknown_in_the_graph_come_from_one_run(self):
        step, _ = self._step()
        concrete = step.get_concrete_function()
        self.assertTrue(
            all(p.shapes is None for p in step_gemms.products(concrete.graph))
        )
        self.assertCountEqual(
            [(p.shapes, p.attrs) for p in step_gemms.run_products(concrete)],
            [
                (((3, 4), (4, 3)), _flags(False, False)),  # y = x[mask] @ w
                (((3, 4), (3, 3)), _flags(True, False)),  # dw = x[mask]ᵀ @ dy
            ],
        )

    def test_the_run_has_no_side_effects(self):
        step, w = self._step()
        before = w.numpy()
        step_gemms.run_products(step.get_concrete_function())
        self.assertTrue((w.numpy() == before).all())
        step()  # the step itself still updates w
        self.assertFalse((w.numpy() == before).all())

    def test_step_ms_counts_every_product(self):
        step, _ = self._step()
        result = step_gemms.step_ms(step, repeats=1)
        self.assertEqual((result["count"], result["unknown"]), (2, 0))
        self.assertGreater(result["ms"], 0.0)

    def test_a_step_with_arguments_is_refused(self):
        fn = tf.function(lambda a: tf.matmul(a, tf.ones((3, 2))))
        concrete = fn.get_concrete_function(tf.TensorSpec((None, 3)))
        with self.assertRaisesRegex(
            ValueError, r"needs a step without arguments .* got a function"
        ):
            step_gemms.run_products(concrete)


class RunnerTest(absltest.TestCase):
    def test_runs_each_product_with_its_transposes(self):
        # Non-square shapes: a transpose ignored would fail or change the
        # output's shape.
        expected = {
            ((6, 4), (4, 3)): (6, 3),
            ((6, 3), (4, 3)): (6, 4),
            ((6, 4), (6, 3)): (4, 3),
        }
        for product in step_gemms.products(_train_step_graph()):
            out = step_gemms._runner(product, seed=0)()
            self.assertEqual(tuple(out.shape), expected[product.shapes])

    def test_einsum_runner(self):
        product = step_gemms.Product(
            "Einsum",
            ((2, 5, 3), (2, 4, 3)),
            "float32",
            (("equation", "bij,bkj->bik"),),
        )
        self.assertEqual(
            tuple(step_gemms._runner(product, 0)().shape), (2, 5, 4)
        )


class ProductsMsTest(absltest.TestCase):
    def test_sum_counts_each_occurrence(self):
        a = step_gemms.Product(
            "MatMul", ((2, 3), (3, 4)), "float32", _flags(False, False)
        )
        b = step_gemms.Product(
            "MatMul", ((2, 4), (3, 4)), "float32", _flags(False, True)
        )
        fake = {0: 0.010, 1: 0.003}  # seconds, per distinct product
        with mock.patch.object(
            step_gemms.timing, "interleaved_seconds", return_value=fake
        ) as timed:
            result = step_gemms.products_ms([a, b, a, a])
        self.assertLen(timed.call_args.args[0], 2)  # a and b, once each
        self.assertAlmostEqual(result["ms"], 3 * 10.0 + 3.0)
        self.assertEqual(
            (result["count"], result["distinct"], result["unknown"]),
            (4, 2, 0),
        )

    def test_real_timing_is_positive(self):
        found = step_gemms.products(_train_step_graph())
        result = step_gemms.products_ms(found, repeats=1)
        self.assertGreater(result["ms"], 0.0)
        self.assertEqual(result["count"], 3)


class StepAndCellsTest(absltest.TestCase):
    def test_step_ms_times_the_steps_graph(self):
        x = tf.constant(tf.random.normal((6, 4)))
        w = tf.Variable(tf.random.normal((4, 3)))
        step = tf.function(lambda: tf.matmul(x, w))
        result = step_gemms.step_ms(step, repeats=1)
        self.assertEqual((result["count"], result["unknown"]), (1, 0))
        self.assertGreater(result["ms"], 0.0)

    def test_disabled_times_nothing(self):
        step = mock.Mock()
        result = step_gemms.step_ms(step, enabled=False)
        step.get_concrete_function.assert_not_called()
        self.assertEqual(result["count"], 0)
        self.assertNotEqual(result["ms"], result["ms"])  # NaN
        self.assertEqual(
            step_gemms.cells(step_gemms.row_fields(result, 100.0)),
            ("—", "—"),
        )

    def test_cells_show_the_count_and_the_unknown_products(self):
        row = step_gemms.row_fields(
            {"ms": 61.4, "count": 40, "unknown": 24, "distinct": 9}, 200.0
        )
        self.assertAlmostEqual(row["gemms_ratio"], 0.307)
        self.assertEqual(
            step_gemms.cells(row), ("61 (40, +24 unknown)", "0.31×")
        )
        row = step_gemms.row_fields(
            {"ms": 218.0, "count": 5, "unknown": 0, "distinct": 5}, 309.0
        )
        self.assertEqual(step_gemms.cells(row), ("218 (5)", "0.71×"))
        self.assertLen(step_gemms.COLUMNS, len(step_gemms.cells(row)))


def _flags(a, b):
    return (("transpose_a", a), ("transpose_b", b))


if __name__ == "__main__":
    absltest.main()
