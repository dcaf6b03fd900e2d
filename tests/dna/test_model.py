"""Whole networks: exact RC invariance at every supported length, equal parameter counts."""

from __future__ import annotations

import pytest
import torch
from gdl_dna.config import ArchConfig, supported_length
from gdl_dna.model import build_network

from gdl_science.blueprint import count_parameters
from gdl_science.symmetry import ReverseComplementGroup, check_equivariance, tolerance

RC = ReverseComplementGroup()
SMALL = ArchConfig(
    channels=(4, 4, 4),
    irrep_channels=2,
    kernel_sizes=(7, 5, 3),
    dilations=(1, 2, 1),
    pool_sizes=(4, 3, 1),
    hidden=(8,),
    dropout=0.0,
    kmer=1,
    trunk_dropout=0.0,
)


def _one_hot(batch: int, length: int, dtype=torch.float32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.nn.functional.one_hot(torch.randint(4, (batch, length), generator=g), 4)
    return x.transpose(1, 2).to(dtype)


def _trained_stats(net: torch.nn.Module, length: int) -> torch.nn.Module:
    """A few train-mode passes so batch-norm running statistics are not the identity."""
    net.train()
    with torch.no_grad():
        for s in range(3):
            net(_one_hot(8, length, next(net.parameters()).dtype, seed=s))
    return net.eval()


def test_equivariant_net_is_invariant_in_float32_at_every_supported_length():
    torch.manual_seed(0)
    net = _trained_stats(build_network(SMALL, 3, equivariant=True), 96)
    checked = 0
    # oneDNN builds a kernel per new shape; the reference CPU path is faster for 80 shapes.
    with torch.backends.mkldnn.flags(enabled=False):
        checked = _check_lengths(net, range(12, 100))
    assert checked > 40


def _check_lengths(net: torch.nn.Module, lengths: range) -> int:
    checked = 0
    for length in lengths:
        if not supported_length(SMALL, length):
            with pytest.raises(ValueError, match="cannot be pooled"):
                net(_one_hot(2, length))
            continue
        report = check_equivariance(net, RC, _one_hot(2, length, seed=length), RC.act_on_one_hot)
        report.assert_equivariant(tolerance(torch.float32))
        checked += 1
    return checked


def test_equivariant_net_float64_and_kmer_input():
    arch = ArchConfig(**{**SMALL.__dict__, "kmer": 3})
    net = _trained_stats(build_network(arch, 2, equivariant=True).double(), 98)
    x = _one_hot(4, 98, torch.float64)
    check_equivariance(net, RC, x, RC.act_on_one_hot).assert_equivariant(tolerance(torch.float64))


@pytest.mark.parametrize("trunk", ["conjoined", "tied"])
def test_strand_head_network_is_equivariant_not_invariant(trunk):
    arch = ArchConfig(**{**SMALL.__dict__, "head": "strand", "strand_trunk": trunk})
    net = _trained_stats(build_network(arch, 2, equivariant=True).double(), 96)
    x = _one_hot(4, 96, torch.float64)
    out_action = RC.action(net.out_type, length_axis=False)
    check_equivariance(net, RC, x, RC.act_on_one_hot, out_action).assert_equivariant(1e-10)
    assert check_equivariance(net, RC, x, RC.act_on_one_hot).max_abs > 1e-4


def test_plain_net_has_the_same_parameter_count_and_is_not_invariant():
    torch.manual_seed(0)
    eq = build_network(SMALL, 3, equivariant=True)
    plain = _trained_stats(build_network(SMALL, 3, equivariant=False), 96)
    n_eq, n_plain = count_parameters(eq), count_parameters(plain)
    assert abs(n_plain - n_eq) / n_eq < 0.05
    # Without the prior the symmetry does not hold: the checker must be able to fail.
    assert check_equivariance(plain, RC, _one_hot(4, 96), RC.act_on_one_hot).max_abs > 1e-4
    unmatched = build_network(SMALL, 3, equivariant=False, match_parameters=False)
    assert count_parameters(unmatched) > 1.5 * n_eq


def test_supported_lengths_follow_the_pools():
    assert supported_length(SMALL, 96) and not supported_length(SMALL, 97)
    assert supported_length(ArchConfig(pool_sizes=(3, 5, 1)), 97)  # odd windows take any length
    with pytest.raises(ValueError, match="odd"):
        ArchConfig(kernel_sizes=(4, 9, 9))


class _Halve(torch.nn.Module):
    """A stage type DNANet has never seen: it halves the length and says so."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[..., ::2]

    def output_mask(self, mask: torch.Tensor) -> torch.Tensor:
        return mask[..., ::2]


class _Spy(torch.nn.Module):
    """Another new stage type: it reads the mask and its output is re-zeroed."""

    takes_mask = True
    rezero = True

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        self.seen = mask
        return x + 1.0  # nonzero on padding: the protocol re-zeroes it


def test_a_new_stage_type_gets_the_mask_by_what_it_declares():
    from gdl_dna.model import DNANet

    spy = _Spy()
    net = DNANet([("halve", _Halve()), ("spy", spy), ("mask_blind", torch.nn.Identity())])
    x = torch.ones(2, 3, 8)
    mask = torch.ones(2, 1, 8)
    mask[0, :, 6:] = 0.0  # the first sequence has 6 valid bases
    out = net(x, mask)
    assert torch.equal(spy.seen, mask[..., ::2])  # the shrunk mask reached the new stage
    assert torch.equal(out[0, :, 3:], torch.zeros(3, 1)) and (out[1] == 2.0).all()
    assert torch.equal(net(x), x[..., ::2] + 1.0)  # without a mask: the plain composition
