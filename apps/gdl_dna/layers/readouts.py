"""Global readouts: max *and* mean over the length side by side, and a positional one.

Max pooling answers "is there a strong site anywhere" (motif presence); the mean adds how
much of the sequence looks like it (composition, several weak sites). ``MaxMeanPool``
(B, C, L) -> (B, 2C, 1) returns both as one RC field type of twice the size, laid out
so that RC still acts as a field type (``RCFieldType`` keeps regular pairs as channel
i <-> 2r-1-i, then +1, then -1 channels):

    [max a_0..a_{r-1}, mean a_0..a_{r-1}, mean a'_{r-1}..a'_0, max a'_{r-1}..a'_0,
     max +1, mean +1, max -1, mean -1]

where a_i / a'_i are the two members of regular pair i. With ``field_type`` None it is
the plain net's version: [max over C | mean over C], (B, C, L) -> (B, 2C).
"""

from __future__ import annotations

import torch

from gdl_dna.layers.conv import RCConv1d
from gdl_dna.layers.pooling import RCGlobalPool1d, masked_max, masked_mean
from gdl_science.blueprint import LocalPooling
from gdl_science.symmetry import RCFieldType


class MaxMeanPool(LocalPooling):
    takes_mask = True

    def __init__(self, field_type: RCFieldType | None = None) -> None:
        super().__init__()
        self.field = field_type
        if field_type is None:
            self.in_type = self.out_type = None
            return
        self.in_type = field_type
        t = field_type
        self.out_type = RCFieldType(regular=2 * t.regular, plus=2 * t.plus, minus=2 * t.minus)
        self.max_pool = RCGlobalPool1d(t, "max")
        r, p = t.regular, t.plus
        first, second = torch.arange(r), torch.arange(r, 2 * r)
        plus, minus = torch.arange(2 * r, 2 * r + p), torch.arange(2 * r + p, t.size)
        # Indices into cat([max, mean]) (2C channels: max at c, mean at C + c).
        c = t.size
        order = torch.cat([first, c + first, c + second, second,
                           torch.stack([plus, c + plus], 1).reshape(-1),
                           torch.stack([minus, c + minus], 1).reshape(-1)])  # fmt: skip
        self.register_buffer("order", order, persistent=False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.field is None:
            return torch.cat([masked_max(x, mask), masked_mean(x, mask)], dim=1).squeeze(-1)
        both = torch.cat([self.max_pool(x, mask), masked_mean(x, mask)], dim=1)
        return both[:, self.order]

    def output_mask(self, mask: torch.Tensor) -> None:
        return None  # the length is pooled away

    def extra_repr(self) -> str:
        return f"{self.in_type} -> {self.out_type}"


class RCPositionalReadout(RCConv1d):
    """``RCConv1d`` as long as its input (padding "valid"): (B, C, L) -> (B, C', 1), one
    dense RC-equivariant map of every channel at every position (``flatten`` readout)."""

    def output_mask(self, mask: torch.Tensor) -> None:
        return None  # the length is consumed
