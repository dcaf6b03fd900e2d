"""Skipping kernel taps that read only padding changes no output, gradient or symmetry."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from gdl_dna.layers import RCConv1d
from gdl_dna.layers.taps import LiveTapConv1d, live_taps, same_conv1d

from gdl_science.symmetry import RCFieldType, ReverseComplementGroup, check_equivariance

RC = ReverseComplementGroup()


@pytest.mark.parametrize(
    ("kernel_size", "dilation", "length"),
    [(9, 4, 13), (9, 4, 12), (9, 4, 3), (15, 1, 5), (9, 2, 35)],
)
def test_live_taps_give_the_full_kernels_output_and_gradients(kernel_size, dilation, length):
    torch.manual_seed(0)
    x = torch.randn(2, 3, length, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, kernel_size, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True)
    full = F.conv1d(x, w, b, padding=dilation * (kernel_size - 1) // 2, dilation=dilation)
    live = same_conv1d(x, w, b, dilation)
    assert torch.allclose(live, full, atol=1e-12, rtol=0)
    g = torch.randn_like(full)
    for a, e in zip(
        torch.autograd.grad(live, [x, w, b], g), torch.autograd.grad(full, [x, w, b], g)
    ):
        assert torch.allclose(a, e, atol=1e-12, rtol=0)


def test_live_taps_count():
    assert live_taps(9, 4, 13) == 3  # +-12 still reaches position 12 from 0; +-16 never
    assert live_taps(9, 4, 12) == 2
    assert live_taps(9, 2, 100) == 4


def test_rc_conv_on_a_sequence_shorter_than_its_kernel_is_exactly_equivariant():
    torch.manual_seed(0)
    t = RCFieldType(regular=2, plus=1, minus=1)
    conv = RCConv1d(t, t, 9, dilation=4).double()
    x = torch.randn(3, t.size, 6, dtype=torch.float64)
    check_equivariance(conv, RC, x, RC.action(t), RC.action(t)).assert_equivariant(1e-10)
    full = F.conv1d(x, conv.weight(), conv.bias(), padding=conv.padding, dilation=4)
    assert torch.allclose(conv(x), full, atol=1e-12)


def test_live_tap_conv_is_a_drop_in_for_nn_conv1d():
    torch.manual_seed(0)
    plain = torch.nn.Conv1d(3, 5, 9, dilation=4, padding=16)
    live = LiveTapConv1d(3, 5, 9, dilation=4, padding=16)
    live.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 10)
    assert torch.allclose(live(x), plain(x), atol=1e-6)
    valid = LiveTapConv1d(3, 5, 4)  # not "same" padding: the native path
    assert valid(x).shape == (2, 5, 7)
