"""The plain (untied) network's stages that differ from torch's: same shapes, same lengths.

``none`` and ``augment`` use the same architecture as the RC-equivariant net with
untied weights; these stages give it the same RC-symmetric pooling padding (so both
flavours accept the same lengths) and the mask protocol of ``masking.run_stage``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gdl_dna.layers.pooling import block_max, masked_max, masked_mean, pool_mask, rc_safe_padding
from gdl_science.blueprint import LocalPooling


class ReLU(nn.ReLU):
    """nn.ReLU in the mask protocol (relu(0) = 0, but a stage says so rather than the net)."""

    rezero = True


class SymmetricMaxPool1d(LocalPooling):
    """(B, C, L) -> (B, C, L'): max pool with ``RCPool1d``'s RC-symmetric padding."""

    def __init__(self, window: int) -> None:
        super().__init__()
        self.window = window

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = rc_safe_padding(x.shape[-1], self.window)
        if pad is None:
            raise ValueError(
                f"length {x.shape[-1]} cannot be pooled by {self.window} symmetrically"
            )
        return block_max(F.pad(x, (pad // 2, pad // 2)), self.window)

    def output_mask(self, mask: torch.Tensor) -> torch.Tensor:
        return pool_mask(mask, self.window)


class GlobalPool(nn.Module):
    """(B, C, L) -> (B, C): max or mean over the valid positions (no orientation pairing)."""

    takes_mask = True

    def __init__(self, reduce: str) -> None:
        super().__init__()
        self.reduce = reduce

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        pooled = masked_max(x, mask) if self.reduce == "max" else masked_mean(x, mask)
        return pooled.squeeze(-1)


class PositionalReadout(nn.Conv1d):
    """A valid convolution as long as its input: (B, C, L) -> (B, C', 1), a dense map of
    every channel at every position (the ``flatten`` readout; one fixed frame)."""

    def output_mask(self, mask: torch.Tensor) -> None:
        return None  # the length is consumed
