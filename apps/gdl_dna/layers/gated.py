"""Gated convolutions (GLU-style, as in ConvNova's gated branches), RC-equivariant and plain.

``y = value(x) * sigmoid(gate(x))``: two convolutions of the same input, multiplied
position by position. The gate lets a filter's response depend on a second pattern (a
multiplicative interaction a plain conv -> ReLU cannot form in one layer).

Why the equivariant version is exact: a pointwise product commutes with RC when both
factors transform alike, channel by channel. RC permutes regular pairs and flips the
length on regular and +1 channels, and also negates -1 channels. So the gate has the
value's layout with every -1 channel replaced by a +1 channel (``gate_type``): on
regular/+1 channels both factors are permuted and flipped together; on a -1 channel the
value is negated and the (+1) gate is not, so the product is negated, as a -1 field must
be. sigmoid is pointwise and applied to regular/+1 channels only, where any pointwise
function commutes with RC.
"""

from __future__ import annotations

import torch
from torch import nn

from gdl_dna.layers.conv import RCConv1d
from gdl_science.blueprint import Stage
from gdl_science.symmetry import RCFieldType


def gate_type(value_type: RCFieldType) -> RCFieldType:
    """The gate's type: the value's layout, -1 channels replaced by +1 (same size)."""
    return RCFieldType(regular=value_type.regular, plus=value_type.plus + value_type.minus)


class RCGatedConv1d(Stage):
    """(B, in_type.size, L) -> (B, out_type.size, L): value conv times sigmoid(gate conv).

    Same padding and dilation rules as ``RCConv1d`` (odd kernel, "same" padding), so the
    length is kept and zero padding stays symmetric."""

    kind = "gated_linear"  # a linear map modulated by a learned gate: not linear itself

    def __init__(
        self, in_type: RCFieldType, out_type: RCFieldType, kernel_size: int, dilation: int = 1
    ) -> None:
        super().__init__()
        self.in_type, self.out_type = in_type, out_type
        self.value = RCConv1d(in_type, out_type, kernel_size, dilation=dilation)
        self.gate = RCConv1d(in_type, gate_type(out_type), kernel_size, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.value(x) * torch.sigmoid(self.gate(x))  # (B, C_out, L)


class GatedConv1d(nn.Module):
    """The plain (untied) counterpart: one conv to 2 * out_channels, value and gate halves."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1):
        super().__init__()
        self.conv = nn.Conv1d(
            in_channels, 2 * out_channels, kernel_size, dilation=dilation,
            padding=dilation * (kernel_size - 1) // 2,
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        value, gate = self.conv(x).chunk(2, dim=1)  # each (B, C_out, L)
        return value * torch.sigmoid(gate)
