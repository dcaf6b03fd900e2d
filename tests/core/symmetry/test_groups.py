"""Group laws for every action: identity, inverse and composition, applied to tensors."""

from __future__ import annotations

import pytest
import torch

from gdl_science.graphs import GraphBatch
from gdl_science.symmetry import (
    E3Group,
    NodePermutationGroup,
    OctahedralGroup,
    ProductGroup,
    RCFieldType,
    ReverseComplementGroup,
    SO3Group,
    axis_angle_rotation,
    product_action,
    resample_rotated,
    rotate_grid,
)

GEN = torch.Generator().manual_seed(0)


def assert_group_laws(group, action, x, elements, atol=0.0):
    """identity·x = x, g⁻¹·(g·x) = x, (a∘b)·x = a·(b·x) on a real tensor."""
    torch.testing.assert_close(action(group.identity, x), x, atol=atol, rtol=0)
    for a in elements:
        torch.testing.assert_close(action(group.inverse(a), action(a, x)), x, atol=atol, rtol=0)
        for b in elements[:4]:
            lhs = action(group.compose(a, b), x)
            rhs = action(a, action(b, x))
            torch.testing.assert_close(lhs, rhs, atol=atol, rtol=0)


def test_octahedral_has_24_distinct_proper_rotations():
    elements = OctahedralGroup().elements
    assert len(elements) == 24
    assert len({tuple(m.flatten().tolist()) for m in elements}) == 24
    for m in elements:
        assert torch.equal(m @ m.T, torch.eye(3, dtype=torch.int64))
        assert round(torch.linalg.det(m.double()).item()) == 1
    assert torch.equal(elements[0], torch.eye(3, dtype=torch.int64))


def test_octahedral_group_laws_on_scalar_and_regular_fields():
    o = OctahedralGroup()
    assert_group_laws(o, o.act_on_grid, torch.randn(2, 3, 5, 6, 7, generator=GEN), o.elements)
    x = torch.randn(1, 2 * 24, 3, 3, 3, generator=GEN)
    assert_group_laws(o, o.act_on_regular_field, x, o.elements[:8])


def test_rotate_grid_moves_a_voxel_where_the_matrix_says():
    # A single bright voxel at centred coordinate p must land at R p.
    x = torch.zeros(5, 5, 5)
    p = torch.tensor([2, -1, 1])
    x[tuple((p + 2).tolist())] = 1.0
    for r in OctahedralGroup().elements:
        y = rotate_grid(r, x)
        q = r @ p + 2
        assert y[tuple(q.tolist())] == 1.0 and y.sum() == 1.0


def test_so3_resampling_agrees_with_exact_rotation_and_is_approximate_otherwise():
    x = torch.randn(1, 1, 9, 9, 9, generator=GEN, dtype=torch.float64)
    quarter = axis_angle_rotation(0, torch.pi / 2)
    # A quarter turn computed through grid_sample's path equals the exact permutation.
    nudged = quarter.clone()
    nudged[0, 0] += 1e-7
    exact = resample_rotated(quarter, x)
    interpolated = resample_rotated(nudged, x)
    assert torch.allclose(
        exact[..., 1:-1, 1:-1, 1:-1], interpolated[..., 1:-1, 1:-1, 1:-1], atol=1e-5
    )
    so3 = SO3Group()
    assert not so3.exact
    assert_group_laws(so3, so3.act_on_grid, x, so3.test_elements()[:6])
    # On a smooth field, resampling matches the analytically rotated field: y(q) = x(R^T q).
    grid = torch.linspace(-1, 1, 17, dtype=torch.float64)
    coords = torch.stack(torch.meshgrid(grid, grid, grid, indexing="ij"), dim=-1)  # (17,17,17,3)
    centre = torch.tensor([0.0, 0.3, -0.2], dtype=torch.float64)

    def field(c: torch.Tensor) -> torch.Tensor:
        return torch.exp(-2 * ((c - centre) ** 2).sum(-1))

    r = so3.sample(torch.Generator().manual_seed(3))
    rotated = so3.act_on_grid(r, field(coords).view(1, 1, 17, 17, 17))[0, 0]
    expected = field(coords @ r)  # row vector q: R^T q == q @ R
    assert (rotated - expected)[3:-3, 3:-3, 3:-3].abs().max() < 0.02


@pytest.mark.parametrize(
    "field_type",
    [
        RCFieldType(regular=2),
        RCFieldType(plus=3),
        RCFieldType(minus=2),
        RCFieldType(regular=1, plus=2, minus=3),
    ],
)
def test_reverse_complement_group_laws(field_type):
    rc = ReverseComplementGroup()
    x = torch.randn(2, field_type.size, 11, generator=GEN)
    assert_group_laws(rc, rc.action(field_type), x, rc.test_elements())
    # RC is an involution and not the identity on generic data.
    assert not torch.equal(rc.action(field_type)(1, x), x)


def test_reverse_complement_of_one_hot_is_the_reverse_complement_sequence():
    order = "ACGT"
    seq = "AACGTTG"
    x = torch.zeros(1, 4, len(seq))
    for i, base in enumerate(seq):
        x[0, order.index(base), i] = 1
    y = ReverseComplementGroup.act_on_one_hot(1, x)
    decoded = "".join(order[int(i)] for i in y[0].argmax(0))
    assert decoded == "CAACGTT"  # reverse complement of AACGTTG


def test_e3_group_laws_and_isometry():
    e3 = E3Group()
    pos = torch.randn(10, 3, generator=GEN, dtype=torch.float64)
    assert_group_laws(e3, e3.act_on_points, pos, e3.test_elements(), atol=1e-12)
    for g in e3.test_elements():
        moved = e3.act_on_points(g, pos)
        torch.testing.assert_close(torch.cdist(moved, moved), torch.cdist(pos, pos))
    dets = [round(torch.linalg.det(g.rotation).item()) for g in e3.test_elements()]
    assert -1 in dets and 1 in dets  # reflections are tested, not only rotations


def _two_graphs() -> GraphBatch:
    a = GraphBatch.single(
        torch.randn(4, 2, generator=GEN),
        torch.tensor([[0, 1, 2], [1, 2, 3]]),
        pos=torch.randn(4, 3, generator=GEN),
    )
    b = GraphBatch.single(
        torch.randn(3, 2, generator=GEN),
        torch.tensor([[0, 2], [1, 1]]),
        pos=torch.randn(3, 3, generator=GEN),
    )
    return GraphBatch.collate([a, b])


def test_node_permutation_group_laws_keep_graphs_and_edges():
    graph = _two_graphs()
    perms = NodePermutationGroup(graph.batch)

    def act(p, x):
        return perms.act_on_nodes(p, x)

    assert_group_laws(perms, act, graph.x, perms.test_elements())
    for p in perms.test_elements():
        moved = perms.act_on_graph(p, graph)
        assert torch.equal(moved.batch, graph.batch)  # permutations stay within graphs
        # Every edge connects the same node features as before.
        before = {
            (tuple(graph.x[s].tolist()), tuple(graph.x[t].tolist()))
            for s, t in graph.edge_index.T.tolist()
        }
        after = {
            (tuple(moved.x[s].tolist()), tuple(moved.x[t].tolist()))
            for s, t in moved.edge_index.T.tolist()
        }
        assert before == after


def test_product_group_acts_componentwise():
    graph = _two_graphs()
    group = ProductGroup(NodePermutationGroup(graph.batch), E3Group())
    act = product_action(NodePermutationGroup.act_on_graph, E3Group.act_on_graph)
    elements = group.test_elements()
    assert len(elements) >= len(E3Group().test_elements())
    for g in elements:
        inv = group.inverse(g)
        back = act(inv, act(g, graph))
        torch.testing.assert_close(back.pos, graph.pos, atol=1e-6, rtol=0)
        torch.testing.assert_close(back.x, graph.x)
