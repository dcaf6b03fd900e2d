"""The folded RC convolution: the dense tied convolution's output and gradients, to rounding."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from gdl_dna.layers import RCConv1d
from gdl_dna.layers.folded import folded_conv1d
from gdl_dna.layers.taps import live_taps

from gdl_science.symmetry import ONE_HOT, RCFieldType, ReverseComplementGroup, check_equivariance

RC = ReverseComplementGroup()
TYPES = [
    RCFieldType(regular=3),
    RCFieldType(plus=2, minus=3),
    RCFieldType(regular=2, plus=1, minus=2),
    RCFieldType(minus=2),
]
# (kernel, dilation, length): plain, dilated, the default's first block, and lengths so
# short that the outer taps read only padding (skipped by the folded path).
GEOMETRIES = [(3, 1, 17), (5, 2, 16), (15, 1, 20), (9, 4, 12), (9, 4, 5)]


def _grads(y: torch.Tensor, conv: RCConv1d, x: torch.Tensor, g: torch.Tensor) -> list:
    return list(torch.autograd.grad(y, [x, conv.theta, conv.bias_theta], g))


@pytest.mark.parametrize(("in_type", "out_type"), list(itertools.product([ONE_HOT, *TYPES], TYPES)))
@pytest.mark.parametrize(("kernel_size", "dilation", "length"), GEOMETRIES)
def test_folded_equals_the_dense_convolution_forward_and_backward(
    in_type, out_type, kernel_size, dilation, length
):
    torch.manual_seed(0)
    conv = RCConv1d(in_type, out_type, kernel_size, dilation=dilation).double()
    x = torch.randn(3, in_type.size, length, dtype=torch.float64, requires_grad=True)
    dense = F.conv1d(x, conv.weight(), conv.bias(), padding=conv.padding, dilation=dilation)
    y = folded_conv1d(x, conv.weight(), conv.bias(), in_type, out_type, dilation)
    assert y.shape == dense.shape
    assert torch.allclose(y, dense, atol=1e-12, rtol=0)
    g = torch.randn_like(dense)
    for a, b in zip(_grads(y, conv, x, g), _grads(dense, conv, x, g)):
        assert torch.allclose(a, b, atol=1e-11, rtol=0)


def test_folded_matches_dense_in_float32_at_the_default_width():
    torch.manual_seed(0)
    t = RCFieldType(regular=32, plus=4, minus=4)
    conv = RCConv1d(t, t, 9, dilation=2)
    x = torch.randn(8, t.size, 35)
    dense = F.conv1d(x, conv.weight(), conv.bias(), padding=conv.padding, dilation=2)
    y = folded_conv1d(x, conv.weight(), conv.bias(), t, t, 2)
    assert (y - dense).abs().max() <= 1e-5 * dense.abs().max()


@pytest.mark.parametrize("out_type", TYPES)
def test_folded_layer_is_exactly_equivariant(out_type):
    torch.manual_seed(0)
    in_type = RCFieldType(regular=2, plus=1, minus=2)
    conv = RCConv1d(in_type, out_type, 5, dilation=2, fold=True).double()
    x = torch.randn(3, in_type.size, 17, dtype=torch.float64)
    report = check_equivariance(conv, RC, x, RC.action(in_type), RC.action(out_type))
    report.assert_equivariant(1e-10)
    assert conv(x).abs().max() > 1e-3


def test_fold_changes_neither_parameters_nor_state_dict_nor_export():
    torch.manual_seed(0)
    t = RCFieldType(regular=2, plus=1, minus=1)
    dense = RCConv1d(ONE_HOT, t, 7, dilation=2)
    fold = RCConv1d(ONE_HOT, t, 7, dilation=2, fold=True)
    fold.load_state_dict(dense.state_dict())  # an old checkpoint loads as is
    assert dense.state_dict().keys() == fold.state_dict().keys()
    x = torch.nn.functional.one_hot(torch.randint(4, (2, 30)), 4).transpose(1, 2).float()
    assert torch.allclose(fold(x), dense(x), atol=1e-6)
    assert torch.equal(fold.export().weight, dense.export().weight)
    assert "fold=True" in repr(fold)


def test_fold_is_ignored_where_there_is_nothing_to_fold():
    t = RCFieldType(regular=2)
    assert not RCConv1d(t, t, 1, fold=True).fold  # one tap: no kernel symmetry to use
    assert not RCConv1d(t, t, 6, padding="valid", fold=True).fold  # the positional readout


def test_live_taps_skip_offsets_past_both_ends():
    assert live_taps(9, 4, 12) == 2  # offsets 4, 8 reach; 12 and 16 do not
    assert live_taps(9, 2, 100) == 4
    assert live_taps(15, 1, 1) == 0
