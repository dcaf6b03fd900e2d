"""Two trunk stages: an exponential first-layer activation and feature dropout.

- ``ExpActivation``: exp on channels RC permutes (regular pairs, +1), tanh on -1 channels
  (RC negates them, so the function there must be odd). On the first layer it makes
  filters read as PWM-like motif detectors (Koo & Ploenzke 2021, Nat. Mach. Intell.):
  a filter's response grows multiplicatively with its match. The argument is clamped at
  ``EXP_CLAMP`` so a badly scaled start cannot overflow float32; batch norm precedes it,
  so typical inputs are O(1) and the clamp is never reached in practice.
- ``FeatureDropout``: plain element-wise dropout on (B, C, L) features. In training its
  mask is i.i.d. over channels and positions, so the *distribution* of masks is RC-invariant;
  in eval mode it is the identity, so the trained net stays exactly equivariant.
"""

from __future__ import annotations

import torch
from torch import nn

from gdl_science.blueprint import Nonlinearity
from gdl_science.symmetry import RCFieldType

EXP_CLAMP = 10.0  # exp(10) ~ 2.2e4


class ExpActivation(Nonlinearity):
    """(B, C, L) -> (B, C, L). ``field_type`` None: exp on every channel (the plain net)."""

    rezero = True  # exp(0) = 1 on padding: re-zeroed (masking.run_stage)

    def __init__(self, field_type: RCFieldType | None = None) -> None:
        super().__init__()
        self.in_type = self.out_type = field_type
        # Channels [0, split) are regular pairs and +1 fields; [split, C) are -1 fields.
        self._split = None if field_type is None else 2 * field_type.regular + field_type.plus

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        split = x.shape[1] if self._split is None else self._split
        if split == x.shape[1]:
            return torch.exp(x.clamp(max=EXP_CLAMP))
        head, tail = torch.split(x, [split, x.shape[1] - split], dim=1)
        return torch.cat([torch.exp(head.clamp(max=EXP_CLAMP)), torch.tanh(tail)], dim=1)


class FeatureDropout(nn.Dropout):
    """nn.Dropout that declares its (unchanged) field type, so the blueprint can check it."""

    def __init__(self, p: float, field_type: RCFieldType | None = None) -> None:
        super().__init__(p)
        self.in_type = self.out_type = field_type
