"""The checker itself must pass equivariant maps and flag broken ones, at both dtypes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gdl_science.symmetry import (
    ONE_HOT,
    OctahedralGroup,
    ReverseComplementGroup,
    check_equivariance,
    rotate_grid,
    tolerance,
)

DTYPES = [torch.float32, torch.float64]


def symmetrised_conv3d(dtype: torch.dtype) -> nn.Conv3d:
    """A Conv3d whose kernel is averaged over the 24 cube rotations: exactly O-equivariant."""
    conv = nn.Conv3d(1, 1, 3, padding=1, bias=True).to(dtype)
    with torch.no_grad():
        w = conv.weight
        conv.weight.copy_(
            torch.stack([rotate_grid(r, w) for r in OctahedralGroup().elements]).mean(0)
        )
    return conv


@pytest.mark.parametrize("dtype", DTYPES)
def test_passes_an_octahedral_equivariant_conv(dtype):
    torch.manual_seed(0)
    x = torch.randn(2, 1, 7, 7, 7, dtype=dtype)
    o = OctahedralGroup()
    report = check_equivariance(symmetrised_conv3d(dtype), o, x, o.act_on_grid, o.act_on_grid)
    assert len(report.per_element) == 24
    report.assert_equivariant(tolerance(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_flags_a_generic_conv(dtype):
    torch.manual_seed(0)
    x = torch.randn(2, 1, 7, 7, 7, dtype=dtype)
    o = OctahedralGroup()
    conv = nn.Conv3d(1, 1, 3, padding=1).to(dtype)
    report = check_equivariance(conv, o, x, o.act_on_grid, o.act_on_grid)
    assert report.max_abs > 1e-2
    assert report.per_element[0].max_abs == 0.0  # the identity is always exact
    with pytest.raises(AssertionError, match="not octahedral-equivariant"):
        report.assert_equivariant(tolerance(dtype))


class RCInvariantCounter(nn.Module):
    """Counts a k-mer and its reverse complement: RC-invariant by construction."""

    def __init__(self, dtype: torch.dtype, tied: bool) -> None:
        super().__init__()
        self.conv = nn.Conv1d(4, 1, 5).to(dtype)
        self.tied = tied

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fwd = self.conv(x).relu().mean(-1)
        if not self.tied:
            return fwd
        return fwd + self.conv(x.flip(-2, -1)).relu().mean(-1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rc_invariance_pass_and_fail(dtype):
    torch.manual_seed(1)
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (3, 40)), 4).transpose(1, 2).to(dtype)
    rc = ReverseComplementGroup()
    ok = check_equivariance(RCInvariantCounter(dtype, tied=True), rc, x, rc.action(ONE_HOT))
    ok.assert_equivariant(tolerance(dtype))
    bad = check_equivariance(RCInvariantCounter(dtype, tied=False), rc, x, rc.action(ONE_HOT))
    assert bad.max_abs > tolerance(torch.float32) * 100


class NestedOutput(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 3)
        self.dropout = nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> dict:
        y = self.dropout(self.linear(x))
        return {"a": y, "b": (2 * y,)}


def test_runs_in_eval_mode_restores_training_and_compares_nested_outputs():
    model = NestedOutput().train()
    rc = ReverseComplementGroup()
    x = torch.randn(4, 3)
    same = check_equivariance(model, rc, x, lambda g, t: t, lambda g, y: y)
    assert same.max_abs == 0.0  # dropout off during the check, else the two calls differ
    assert model.training
    # A difference hidden in the nested tuple is still seen.
    flip = check_equivariance(
        model,
        rc,
        x,
        lambda g, t: t,
        lambda g, y: {"a": y["a"], "b": (-y["b"][0] if g else y["b"][0],)},
    )
    assert flip.max_abs > 0.1


def test_shape_change_is_an_error_not_a_pass():
    o = OctahedralGroup()
    x = torch.randn(1, 1, 3, 4, 5)
    with pytest.raises(ValueError, match="shape"):
        check_equivariance(lambda t: t, o, x, o.act_on_grid, lambda g, y: y)
