"""The candidates of benchmarks/fusion_merges.py compute the same functions:
Block (chunk-major) equals EinsumBlock (the einsum formulation it replaced)
on random inputs and weights, and each merge equals the einsum."""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from benchmarks import fusion_merges
from mi_zoo.fusion import Block
from tests.layers import test_util

SHAPES = (((3, 6), (3, 4, 5)), ((3, 2, 6), (3, 5)), ((3, 2, 6), (3, 2, 5)))


class SameFunctionTest(parameterized.TestCase):
    @parameterized.product(
        shapes=SHAPES,
        normalization=("before_concat", "after_concat", None),
        use_bias=(True, False),
    )
    def test_block_equals_the_einsum_formulation(
        self, shapes, normalization, use_bias
    ):
        x, y = test_util.inputs(*shapes, seed=4)
        kwargs = dict(
            mm_dim=12,
            chunks=3,
            rank=2,
            use_bias=use_bias,
            normalization=normalization,
            activation="tanh",
            dtype="float64",
        )
        old, new = fusion_merges.EinsumBlock(5, **kwargs), Block(5, **kwargs)
        old(x, y)
        new(x, y)
        weights = test_util.random_weights(old, seed=2)
        for v in new.weights:
            v.assign(weights[v.name])
        np.testing.assert_allclose(
            np.asarray(new(x, y)),
            np.asarray(old(x, y)),
            rtol=1e-12,
            atol=1e-12,
        )

    def test_merges_equal_the_einsum(self):
        rng = np.random.default_rng(0)
        t, factor = rng.normal(size=(7, 3, 4)), rng.normal(size=(3, 4, 8))
        expected = np.einsum("ncs,csk->nck", t, factor)
        np.testing.assert_allclose(
            fusion_merges.merge_transpose_bmm(t, factor), expected, rtol=1e-12
        )
        np.testing.assert_allclose(
            np.transpose(
                fusion_merges.merge_chunk_major(t, factor), (1, 0, 2)
            ),
            expected,
            rtol=1e-12,
        )
        np.testing.assert_allclose(
            fusion_merges.merge_einsum(t, factor), expected, rtol=1e-12
        )
        a, kernel = rng.normal(size=(5, 2, 4)), rng.normal(size=(2, 4, 3))
        np.testing.assert_allclose(
            fusion_merges.glimpse_transpose_bmm(a, kernel),
            np.einsum("bgc,gcu->bgu", a, kernel),
            rtol=1e-12,
        )

    def test_tiny_run_gives_every_table(self):
        tables = fusion_merges.run(
            2, fusion_merges.TINY, repeats=1, min_seconds=0.001
        )
        self.assertEqual(set(tables), {"merge", "layer", "glimpse"})
        self.assertEqual(
            [row[0] for row in tables["merge"]],
            ["einsum", "transpose_bmm", "chunk_major"],
        )
        for rows in tables.values():
            self.assertEqual(rows[0][2], "1.00")


if __name__ == "__main__":
    absltest.main()
