"""Kernel taps that read only padding: skip them (exactly the same output, less work).

With "same" padding a kernel of size K = 2c + 1 and dilation d reads x(t + j d) for
j = -c..c. When j d >= L (the sequence length at that layer) the tap lies in the zero
padding for *every* output position t, so it adds exactly zero: a deep, dilated block
after pooling often has such taps (the default's last block: L = 13 at 101 bp, d = 4,
taps at +-12 still reach, +-16 never do). Dropping the same number of taps on both
sides keeps the kernel centred, so RC equivariance is untouched, and the gradients of
the dropped taps are zero either way (they multiply zeros).

On CPU (oneDNN) the saving is larger than the multiply-add count suggests: the default
net's 9-tap, dilation-4 convolution over 13 positions ran in 1.9 ms with its 7 live taps
against 3.6 ms with all 9 (``benchmarks/dna_throughput.py``, per-layer table).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def live_taps(kernel_size: int, dilation: int, length: int) -> int:
    """How many taps on each side of the centre reach a position of the sequence."""
    c = (kernel_size - 1) // 2
    return min(c, (length - 1) // dilation) if length > 0 else 0


def same_conv1d(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, dilation: int
) -> torch.Tensor:
    """``F.conv1d`` with "same" padding (odd K) that skips the taps reading only padding.

    x (B, C_in, L), weight (C_out, C_in, K) -> (B, C_out, L).
    """
    k = weight.shape[-1]
    c = (k - 1) // 2
    taps = live_taps(k, dilation, x.shape[-1])
    if taps < c:
        weight = weight[:, :, c - taps : c + taps + 1]
    return F.conv1d(x, weight, bias, padding=taps * dilation, dilation=dilation)


class LiveTapConv1d(nn.Conv1d):
    """``nn.Conv1d`` with symmetric "same" padding that skips taps reading only padding.

    A drop-in for the plain network's convolutions (same parameters and state dict), so
    that both flavours get the saving; odd kernel sizes with padding = d (K - 1) / 2 only.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, d = self.kernel_size[0], self.dilation[0]
        same = self.padding == (d * (k - 1) // 2,) and self.padding_mode == "zeros"
        if k % 2 == 0 or not same or self.stride != (1,) or self.groups != 1:
            return super().forward(x)
        return same_conv1d(x, self.weight, self.bias, d)
