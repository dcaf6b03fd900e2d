"""Gated convolutions: exact RC equivariance for every field type, and in whole networks."""

from __future__ import annotations

import itertools

import pytest
import torch
from gdl_dna.config import ArchConfig
from gdl_dna.layers.gated import GatedConv1d, RCGatedConv1d, gate_type
from gdl_dna.model import build_network

from gdl_science.blueprint import count_parameters
from gdl_science.symmetry import ONE_HOT, RCFieldType, ReverseComplementGroup, check_equivariance

RC = ReverseComplementGroup()
TYPES = [
    RCFieldType(regular=3),
    RCFieldType(plus=2, minus=3),
    RCFieldType(regular=2, plus=1, minus=2),
    RCFieldType(minus=2),
]


def _x(field_type: RCFieldType, length: int = 17, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(3, field_type.size, length, generator=g, dtype=torch.float64)


@pytest.mark.parametrize(("in_type", "out_type"), list(itertools.product([ONE_HOT, *TYPES], TYPES)))
def test_gated_conv_is_equivariant_between_all_type_pairs(in_type, out_type):
    torch.manual_seed(0)
    conv = RCGatedConv1d(in_type, out_type, 5, dilation=2).double()
    report = check_equivariance(conv, RC, _x(in_type), RC.action(in_type), RC.action(out_type))
    report.assert_equivariant(1e-10)
    assert conv(_x(in_type)).abs().max() > 1e-3  # a zero map would pass trivially


def test_a_minus_gate_would_break_equivariance():
    """Why -1 channels get +1 gates: gating a -1 value with a -1 field (sigmoid is not
    odd) is not equivariant, and the checker sees it."""
    value_type = RCFieldType(plus=1, minus=2)
    assert gate_type(value_type) == RCFieldType(plus=3)
    torch.manual_seed(0)
    conv = RCGatedConv1d(ONE_HOT, value_type, 5).double()
    conv.gate = type(conv.value)(ONE_HOT, value_type, 5).double()  # gate typed like the value
    report = check_equivariance(conv, RC, _x(ONE_HOT), RC.action(ONE_HOT), RC.action(value_type))
    assert report.max_abs > 1e-4


def test_gated_networks_are_invariant_and_size_matched():
    arch = ArchConfig(
        channels=(8, 8), irrep_channels=2, kernel_sizes=(5, 3), dilations=(1, 2),
        pool_sizes=(3, 1), hidden=(8,), dropout=0.0, trunk_dropout=0.0, block="gated",
    )  # fmt: skip
    torch.manual_seed(0)
    net = build_network(arch, 2, equivariant=True).double()
    net.train()
    with torch.no_grad():  # batch-norm statistics that are not the identity
        net(torch.nn.functional.one_hot(torch.randint(4, (8, 45)), 4).transpose(1, 2).double())
    net.eval()
    x = torch.nn.functional.one_hot(torch.randint(4, (4, 45)), 4).transpose(1, 2).double()
    check_equivariance(net, RC, x, RC.act_on_one_hot).assert_equivariant(1e-10)
    plain = build_network(arch, 2, equivariant=False)
    assert any(isinstance(m, GatedConv1d) for m in plain.modules())
    assert abs(count_parameters(plain) - count_parameters(net)) / count_parameters(net) < 0.05
    assert check_equivariance(plain.double(), RC, x, RC.act_on_one_hot).max_abs > 1e-4


def test_block_choice_is_validated():
    with pytest.raises(ValueError, match="block must be one of"):
        ArchConfig(block="residual")
