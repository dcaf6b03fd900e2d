"""The cube-rotation action on escnn fields: matched to escnn numerically, exact, a group action."""

from __future__ import annotations

import pytest
import torch

from gdl_science.symmetry import OctahedralGroup, check_equivariance, rotate_grid
from gdl_science.symmetry.escnn_compat import import_escnn
from gdl_science.symmetry.escnn_fields import (
    act_on_field,
    cube_rotations_of,
    escnn_element,
    field_action,
)

escnn = import_escnn()
from escnn import gspaces  # noqa: E402
from escnn import nn as enn  # noqa: E402

CUBE = OctahedralGroup()


@pytest.fixture(scope="module")
def octa():
    return gspaces.octaOnR3()


def test_matching_is_a_bijection_onto_the_escnn_group(octa):
    matched = [escnn_element(octa, r) for r in CUBE.elements]
    assert len({str(g) for g in matched}) == 24
    assert matched[0] == octa.fibergroup.identity
    # Composition is respected: the matching is a group isomorphism.
    for a in CUBE.elements[:6]:
        for b in CUBE.elements[::5]:
            assert escnn_element(octa, a @ b) == escnn_element(octa, a) @ escnn_element(octa, b)


def test_scalar_field_action_is_rotate_grid(octa):
    scalar = enn.FieldType(octa, [octa.trivial_repr])
    x = torch.randn(2, 1, 5, 4, 3, dtype=torch.float64)
    for r in CUBE.elements:
        assert torch.equal(act_on_field(scalar, r, x), rotate_grid(r, x))


def test_regular_field_action_matches_escnn_transform(octa):
    regular = enn.FieldType(octa, 2 * [octa.regular_repr])
    x = torch.randn(1, regular.size, 5, 5, 5, dtype=torch.float64)
    for r in CUBE.elements:
        ours = act_on_field(regular, r, x)
        theirs = regular.transform(x, escnn_element(octa, r))
        torch.testing.assert_close(ours, theirs.to(ours), atol=1e-9, rtol=0)
    # A GeometricTensor comes back as one of the same type.
    out = act_on_field(regular, CUBE.elements[3], regular(x))
    assert out.type == regular


def test_regular_action_is_a_group_action(octa):
    regular = enn.FieldType(octa, [octa.regular_repr])
    x = torch.randn(1, 24, 3, 4, 5, dtype=torch.float64)
    for a in CUBE.elements[::4]:
        for b in CUBE.elements[1::5]:
            lhs = act_on_field(regular, a, act_on_field(regular, b, x))
            assert torch.equal(lhs, act_on_field(regular, a @ b, x))


def test_wrong_channel_count_is_rejected(octa):
    regular = enn.FieldType(octa, [octa.regular_repr])
    with pytest.raises(ValueError, match="24"):
        act_on_field(regular, CUBE.identity, torch.zeros(1, 3, 3, 3, 3))


def test_r3conv_is_equivariant_under_the_action(octa):
    torch.manual_seed(0)
    scalar = enn.FieldType(octa, [octa.trivial_repr])
    regular = enn.FieldType(octa, [octa.regular_repr])
    conv = enn.R3Conv(scalar, regular, kernel_size=3, padding=1).double()
    x = scalar(torch.randn(1, 1, 7, 7, 7, dtype=torch.float64))
    report = check_equivariance(conv, CUBE, x, field_action(scalar), field_action(regular))
    # escnn samples its kernel basis in float32 (basisexpansion_singleblock.py), so a
    # plain R3Conv is equivariant to ~1e-8 even in float64, not to 1e-10. (gdl_medseg's
    # ExactR3Conv projects the filter onto the exact subspace and meets 1e-10.)
    report.assert_equivariant(1e-6)
    # A field that is *not* transformed as regular channels fails the check.
    wrong = check_equivariance(
        conv, CUBE, x, field_action(scalar), lambda r, y: regular(rotate_grid(r, y.tensor))
    )
    assert wrong.max_abs > 1e-3


def test_continuous_group_elements_are_matched():
    so3 = gspaces.rot3dOnR3(maximum_frequency=1)
    vector = enn.FieldType(so3, [so3.irrep(1)])
    x = torch.randn(1, 3, 5, 5, 5, dtype=torch.float64)
    for r in CUBE.elements[::3]:
        ours = act_on_field(vector, r, x)
        theirs = vector.transform(x, escnn_element(so3, r))
        torch.testing.assert_close(ours, theirs.to(ours), atol=1e-8, rtol=0)


def test_subgroup_gspaces_match_only_their_rotations():
    c4 = gspaces.rot2dOnR3(n=4)
    rotations = cube_rotations_of(c4)
    assert len(rotations) == 4 and torch.equal(rotations[0], CUBE.identity)
    # C4 about one grid axis: the same axis is fixed by all four.
    fixed = [a for a in range(3) if all(int(r[a, a]) == 1 for r in rotations)]
    assert len(fixed) == 1
    regular = enn.FieldType(c4, [c4.regular_repr])
    conv = enn.R3Conv(regular, regular, kernel_size=3, padding=1).double()
    x = regular(torch.randn(1, 4, 5, 5, 5, dtype=torch.float64))
    report = check_equivariance(
        conv, CUBE, x, field_action(regular), field_action(regular), elements=rotations
    )
    report.assert_equivariant(1e-6)
    other = next(r for r in CUBE.elements if not any(torch.equal(r, q) for q in rotations))
    with pytest.raises(ValueError, match="not in"):
        act_on_field(regular, other, x)
