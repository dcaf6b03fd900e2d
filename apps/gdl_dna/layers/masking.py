"""Padding masks through a network: which stages need one and how it changes shape.

Sequences of different lengths share a batch by zero padding (``gdl_dna.data.framing``)
with a (B, 1, L) mask of the valid positions. A network stays blind to the padding when:

- padding positions are zero at every convolution's input (as "same" padding would be
  for the sequence alone): the network multiplies by the mask after each nonlinearity;
- batch statistics leave padding out (``RCBatchNorm1d``, ``MaskedBatchNorm1d``);
- local pools pool the mask too (``pool_mask``), global pools reduce valid positions only.

Then, in eval mode, a sequence's output does not depend on the other sequences of its
batch (tested), as long as the pools see the same block grid (see ``framing``).

The stage protocol (``run_stage``): a stage says what it does with the mask through
optional attributes, so a network threads the mask without knowing stage classes:

- ``takes_mask = True``: ``forward(x, mask=None)`` reads it (normalisations, global pools);
- ``rezero = True``: the output is multiplied by the mask (nonlinearities, f(0) != 0);
- ``output_mask(mask)``: the output's mask when the stage changes the length (local
  pools, k-mers; None once the length is gone: global pools, dense readouts).

A stage that declares nothing keeps the length and ignores the mask (convolutions with
"same" padding, dropout, heads on pooled features).
"""

from __future__ import annotations

import torch
from torch import nn


def run_stage(
    stage: nn.Module, x: torch.Tensor, mask: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One stage on (B, C, L) ``x`` with an optional (B, 1, L) mask -> (output, its mask)."""
    if mask is None:
        return stage(x), None
    x = stage(x, mask) if getattr(stage, "takes_mask", False) else stage(x)
    if getattr(stage, "rezero", False):
        x = x * mask
    output_mask = getattr(stage, "output_mask", None)
    if output_mask is not None:
        mask = output_mask(mask)
    if x.dim() == 2:  # (B, C): no length left to mask
        mask = None
    return x, mask


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """``nn.BatchNorm1d`` whose training statistics skip padded positions.

    Without a mask (or in eval mode) it is the native layer, so the plain network keeps
    native speed on equal-length batches.
    """

    takes_mask = True

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is None or not self.training:
            return super().forward(x)
        n = mask.sum()
        mean = (x * mask).sum(dim=(0, 2)) / n  # (C,)
        var = (((x - mean[None, :, None]) * mask) ** 2).sum(dim=(0, 2)) / n
        with torch.no_grad():
            self.num_batches_tracked += 1
            unbiased = var * (n / (n - 1).clamp_min(1))
            self.running_mean.lerp_(mean.to(self.running_mean.dtype), self.momentum)
            self.running_var.lerp_(unbiased.to(self.running_var.dtype), self.momentum)
        y = (x - mean[None, :, None]) * torch.rsqrt(var + self.eps)[None, :, None]
        return y * self.weight[None, :, None] + self.bias[None, :, None]


def kmer_mask(mask: torch.Tensor, k: int) -> torch.Tensor:
    """(B, 1, L) -> (B, 1, L - k + 1): a k-mer is valid when all its k bases are."""
    out = mask[..., : mask.shape[-1] - k + 1]
    for i in range(1, k):
        out = out * mask[..., i : mask.shape[-1] - k + 1 + i]
    return out
