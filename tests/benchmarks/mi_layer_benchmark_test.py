"""The MI layer benchmark: FLOP counts against hand counts, the largest
intermediates, and a tiny run's rows."""

import math
import time

from absl.testing import absltest

from benchmarks import mi_layer_benchmark as bench

SHAPE = (8, 4, 6, 6)  # B, m, n, k


class FlopCountTest(absltest.TestCase):
    def test_against_hand_counts(self):
        b, m, n, k, r = 2, 3, 5, 7, 4
        shape = (b, m, n, k)
        # full: zᵀWx is m·n·k multiply-adds per example, zᵀU m·k, Vx n·k.
        self.assertEqual(
            bench.forward_flops("full", shape),
            2 * 2 * (3 * 5 * 7 + 3 * 7 + 5 * 7),
        )  # 2·2·161
        self.assertEqual(bench.forward_flops("full", shape), 644)
        self.assertEqual(bench.forward_flops("naive", shape), 644)
        # low_rank: Aᵀz 3·4, Bᵀx 5·4, P 4·7, U 3·7, V 5·7 multiply-adds,
        # and 4 products (Aᵀz) ∘ (Bᵀx), per example.
        self.assertEqual(
            bench.forward_flops("low_rank", shape, rank=r),
            2 * (2 * (12 + 20 + 28 + 21 + 35)) + 2 * 4,
        )
        square = (2, 3, 5, 5)
        # diagonal: zᵀW_d and zᵀU (3·5 each), gate ∘ x (5).
        self.assertEqual(
            bench.forward_flops("diagonal", square), 2 * (2 * 15 + 2 * 15 + 5)
        )
        # scalar: zᵀw (3), zᵀU (3·5), gate·x (5).
        self.assertEqual(
            bench.forward_flops("scalar", square), 2 * (2 * 3 + 2 * 15 + 5)
        )
        # concat / conditional bias: [x; z] (8) times W [8, 7].
        for name in ("concat_linear", "conditional_bias"):
            self.assertEqual(bench.forward_flops(name, shape), 2 * 2 * 56)
        self.assertEqual(
            bench.forward_flops("conditional_scaling", square),
            2 * (2 * 15 + 5),
        )
        self.assertEqual(
            bench.forward_flops("film", square), 2 * (2 * 15 + 2 * 15 + 5)
        )
        self.assertEqual(bench.forward_flops("matmul", shape), 2 * 2048**3)
        with self.assertRaises(ValueError):
            bench.forward_flops("nope", shape)

    def test_largest_intermediate(self):
        shape = (2, 3, 5, 7)
        self.assertEqual(bench.largest_intermediate("full", shape), 2 * 3 * 5)
        self.assertEqual(
            bench.largest_intermediate(
                "full", shape, contraction="context_first"
            ),
            2 * 5 * 7,
        )
        self.assertEqual(
            bench.largest_intermediate(
                "full", shape, contraction="input_first"
            ),
            2 * 3 * 7,
        )
        self.assertEqual(bench.largest_intermediate("naive", shape), 70)
        self.assertEqual(
            bench.largest_intermediate("low_rank", shape, 64), 128
        )
        self.assertEqual(bench.largest_intermediate("film", shape), 14)

    def test_applicable(self):
        self.assertTrue(bench.applicable("film", (1, 2, 3, 3)))
        self.assertFalse(bench.applicable("film", (1, 2, 3, 4)))
        self.assertTrue(bench.applicable("full", (1, 2, 3, 4)))


class RunTest(absltest.TestCase):
    def test_tiny_run(self):
        rows, text = bench.run(
            [SHAPE], rank=2, jit=False, repeats=1, min_seconds=0.0
        )
        self.assertEqual([r["layer"] for r in rows], list(bench.LAYERS))
        for row in rows:
            for key in (
                "forward_ms",
                "train_ms",
                "forward_gflops",
                "train_gflops",
                "forward_percent_of_matmul",
                "train_percent_of_matmul",
                "matmul_gflops",
                "forward_speedup_over_naive",
                "train_speedup_over_naive",
            ):
                self.assertTrue(
                    math.isfinite(row[key]) and row[key] > 0,
                    msg=f"{row['layer']} {key}={row[key]}",
                )
            self.assertGreater(row["largest_intermediate_mb"], 0)
        full = rows[0]
        self.assertEqual(full["contraction"], "outer")
        self.assertIn("| 8, 4, 6, 6 | full (outer) |", text)

    def test_k_not_n_leaves_out_the_square_layers(self):
        rows, _ = bench.run(
            [(4, 3, 5, 2)], rank=2, jit=False, repeats=1, min_seconds=0.0
        )
        self.assertEqual(
            {r["layer"] for r in rows}, set(bench.LAYERS) - set(bench.SQUARE)
        )

    def test_chosen_layers_on_the_cpu_clock(self):
        rows, _ = bench.run(
            [SHAPE],
            rank=2,
            jit=False,
            repeats=1,
            min_seconds=0.0,
            layers=("full", "naive"),
            clock=time.process_time,
        )
        self.assertEqual([r["layer"] for r in rows], ["full", "naive"])
        self.assertEqual(rows[1]["train_speedup_over_naive"], 1.0)
        self.assertTrue(all(r["train_ms"] > 0 for r in rows))

    def test_gradients_cover_inputs_and_weights(self):
        x, z = bench.inputs(SHAPE)
        call, weights, _ = bench.build("full", SHAPE, 2, x, z)
        grads = bench.train_step(call, weights, False)(x, z)
        self.assertLen(grads, 2 + len(weights()))
        self.assertEqual(tuple(grads[0].shape), (8, 6))

    def test_peak_rss_increase(self):
        # In a fresh subprocess, as the script measures it (in this process
        # the allocator reuses what earlier tests freed). The full form's
        # outer product x ⊗ z at (B, m, n) = (256, 64, 256) is 256·64·256
        # float32 = 16 MiB (the contraction chosen at this shape), and its
        # gradient another.
        shape = (256, 64, 256, 256)
        x, z = bench.inputs((1,) + shape[1:])
        self.assertEqual(bench.build("full", shape, 2, x, z)[2], "outer")
        self.assertEqual(bench.largest_intermediate("full", shape), 2**22)
        self.assertGreater(bench.measure_memory(shape, "full", 2), 8.0)


if __name__ == "__main__":
    absltest.main()
