"""LinearSum, ConcatMLP, Tucker and BlockTucker against small PyTorch
modules written here from the papers' formulas in block.bootstrap's
layout (nn.Linear, nn.Bilinear, torch.chunk): same weights, same outputs,
same parameter counts. Skipped without PyTorch."""

import unittest

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from benchmarks import torch_cpu
from mi_zoo.fusion import BlockTucker
from mi_zoo.fusion import ConcatMLP
from mi_zoo.fusion import LinearSum
from mi_zoo.fusion import Tucker
from tests import backend
from tests.layers import test_util

try:
    torch = torch_cpu.import_torch()
except ImportError:
    torch = None

needs_torch = unittest.skipIf(torch is None, "needs PyTorch")


def _signed_sqrt_l2(z):
    z = torch.sqrt(torch.relu(z)) - torch.sqrt(torch.relu(-z))
    return torch.nn.functional.normalize(z, p=2, dim=-1)


def _linear(weights, kernel, bias):
    """An nn.Linear holding a Keras kernel [in, out] and bias (or none)."""
    n, m = weights[kernel].shape
    layer = torch.nn.Linear(n, m, bias=bias in weights).double()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weights[kernel].T.copy()))
        if bias in weights:
            layer.bias.copy_(torch.from_numpy(weights[bias]))
    return layer


def _bilinear(core, bias):
    """An nn.Bilinear (weight [k, i, j]) holding a core [i, j, k]."""
    s = core.shape[0]
    layer = torch.nn.Bilinear(s, s, s, bias=bias is not None).double()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(np.transpose(core, (2, 0, 1))))
        if bias is not None:
            layer.bias.copy_(torch.from_numpy(bias))
    return layer


def torch_linear_sum(w, normalize):
    """z = ReLU(linear0(x)) + ReLU(linear1(y)), out = linear_out(n(z))."""
    linear0 = _linear(w, "x_kernel", "x_bias")
    linear1 = _linear(w, "y_kernel", "y_bias")
    linear_out = _linear(w, "output_kernel", "output_bias")

    def forward(x, y):
        z = torch.relu(linear0(x)) + torch.relu(linear1(y))
        return linear_out(_signed_sqrt_l2(z) if normalize else z)

    return forward, (linear0, linear1, linear_out)


def torch_concat_mlp(w, layers):
    """Linear layers on torch.cat([x, y]) with ReLU between them."""
    linears = [
        _linear(w, f"mlp_kernel_{i}", f"mlp_bias_{i}")
        for i in range(1, layers + 1)
    ]

    def forward(x, y):
        h = torch.cat([x, y], dim=-1)
        for i, linear in enumerate(linears):
            h = linear(torch.relu(h) if i else h)
        return h

    return forward, linears


def torch_block_tucker(w, chunks, normalization):
    """linear0, linear1, one nn.Bilinear per torch.chunk piece, normalised
    before or after torch.cat, linear_out."""
    linear0 = _linear(w, "x_kernel", "x_bias")
    linear1 = _linear(w, "y_kernel", "y_bias")
    linear_out = _linear(w, "output_kernel", "output_bias")
    d = w["x_kernel"].shape[1]
    size = -(-d // chunks)
    bilinears = []
    for c in range(chunks):
        full = min(size, d - c * size) == size
        name, index = ("core", c) if full else ("last_core", 0)
        bias = w.get(f"{name}_bias")
        bilinears.append(
            _bilinear(w[name][index], None if bias is None else bias[index])
        )

    def forward(x, y):
        pieces = zip(
            torch.chunk(linear0(x), chunks, dim=-1),
            torch.chunk(linear1(y), chunks, dim=-1),
        )
        zs = []
        for bilinear, (a, b) in zip(bilinears, pieces):
            z = bilinear(a, b)
            zs.append(_signed_sqrt_l2(z) if normalization == "before" else z)
        z = torch.cat(zs, dim=-1)
        return linear_out(
            _signed_sqrt_l2(z) if normalization == "after" else z
        )

    return forward, [linear0, linear1, linear_out] + bilinears


CASES = {
    "linear_sum": (
        lambda: LinearSum(5, mm_dim=7, dtype="float64"),
        lambda w: torch_linear_sum(w, normalize=False),
    ),
    "linear_sum_normalized": (
        lambda: LinearSum(5, mm_dim=7, normalize=True, dtype="float64"),
        lambda w: torch_linear_sum(w, normalize=True),
    ),
    "concat_mlp": (
        lambda: ConcatMLP(5, hidden_units=[4, 3], dtype="float64"),
        lambda w: torch_concat_mlp(w, layers=3),
    ),
    "tucker": (
        lambda: Tucker(5, mm_dim=4, dtype="float64"),
        lambda w: torch_block_tucker(w, 1, None),
    ),
    "tucker_normalized": (
        lambda: Tucker(5, mm_dim=4, normalize=True, dtype="float64"),
        lambda w: torch_block_tucker(w, 1, "before"),
    ),
    "block_tucker_uneven_chunks": (
        lambda: BlockTucker(5, mm_dim=10, chunks=4, dtype="float64"),
        lambda w: torch_block_tucker(w, 4, "before"),
    ),
    "block_tucker_after_concat": (
        lambda: BlockTucker(
            5,
            mm_dim=6,
            chunks=2,
            normalization="after_concat",
            dtype="float64",
        ),
        lambda w: torch_block_tucker(w, 2, "after"),
    ),
}


@needs_torch
class TorchAgreementTest(parameterized.TestCase):
    @parameterized.named_parameters(*[(name, name) for name in CASES])
    def test_same_weights_same_outputs_and_counts(self, name):
        make, make_torch = CASES[name]
        layer = make()
        x, y = test_util.inputs((3, 6), (3, 5))
        layer(x, y)
        w = test_util.random_weights(layer)
        forward, modules = make_torch(w)
        with torch.no_grad():
            expected = forward(torch.from_numpy(x), torch.from_numpy(y))
        backend.assert_allclose(
            layer(x, y), expected.numpy(), **backend.close()
        )
        torch_count = sum(
            p.numel() for module in modules for p in module.parameters()
        )
        self.assertEqual(layer.count_params(), torch_count)


if __name__ == "__main__":
    absltest.main()
