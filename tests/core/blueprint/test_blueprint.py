"""Invariant poolings are invariant (checked with the core checker); blueprints compose."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gdl_science.blueprint import (
    Blueprint,
    EquivariantLinear,
    GraphReadout,
    MLPHead,
    Nonlinearity,
    RCInvariantPool,
    count_parameters,
)
from gdl_science.graphs import GraphBatch
from gdl_science.symmetry import (
    NodePermutationGroup,
    RCFieldType,
    ReverseComplementGroup,
    check_equivariance,
    tolerance,
)


def test_rc_invariant_pool_on_a_mixed_type():
    ft = RCFieldType(regular=2, plus=1, minus=2)
    rc = ReverseComplementGroup()
    x = torch.randn(3, ft.size, 9, dtype=torch.float64)
    pool = RCInvariantPool(ft)
    assert pool(x).shape == (3, ft.invariant_size)
    check_equivariance(pool, rc, x, rc.action(ft)).assert_equivariant(1e-10)
    # Treating the -1 channels as +1 would break invariance: the checker must see it.
    wrong = RCInvariantPool(RCFieldType(regular=2, plus=3))
    assert check_equivariance(wrong, rc, x, rc.action(ft)).max_abs > 1e-3


@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_graph_readout_is_permutation_invariant(reduce):
    a = GraphBatch.single(
        torch.randn(5, 4, dtype=torch.float64), torch.zeros(2, 0, dtype=torch.long)
    )
    b = GraphBatch.single(
        torch.randn(2, 4, dtype=torch.float64), torch.zeros(2, 0, dtype=torch.long)
    )
    graph = GraphBatch.collate([a, b])
    readout = GraphReadout(reduce)

    def model(g: GraphBatch) -> torch.Tensor:
        return readout(g.x, g.batch, g.num_graphs)

    perms = NodePermutationGroup(graph.batch)
    check_equivariance(model, perms, graph, perms.act_on_graph).assert_equivariant(1e-10)
    out = model(graph)
    assert out.shape == (2, 4)
    expected = a.x.sum(0) if reduce == "sum" else a.x.mean(0)
    torch.testing.assert_close(out[0], expected)


class Scale(EquivariantLinear):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.in_type = self.out_type = width
        self.weight = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return x * self.weight


class Tanh(Nonlinearity):
    def forward(self, x):
        return torch.tanh(x)


def test_blueprint_composes_in_order_and_checks_types():
    net = Blueprint([("linear", Scale(4)), ("act", Tanh()), ("head", MLPHead(4, 2, hidden=(8,)))])
    x = torch.randn(3, 4)
    torch.testing.assert_close(net(x), net.head(torch.tanh(x)))
    assert net.summary() == [("linear", "linear"), ("act", "nonlinearity"), ("head", "head")]
    assert net.in_type == 4 and net.out_type == 2
    assert count_parameters(net) == 1 + (4 * 8 + 8) + (8 * 2 + 2)
    with pytest.raises(TypeError, match="outputs 4 but stage 'head' expects 5"):
        Blueprint([("linear", Scale(4)), ("head", MLPHead(5, 1))])


def test_tolerances_per_dtype():
    assert tolerance(torch.float32) == 1e-5 and tolerance(torch.float64) == 1e-10
