"""Pointwise nonlinearities that commute with RC.

A pointwise function commutes with the channel permutation of RC-regular pairs and
with the length flip, so any function works on regular and +1 channels (ReLU here).
On -1 channels RC also negates the value, so the function must be odd (tanh here).
"""

from __future__ import annotations

import torch
from torch import nn

from gdl_science.blueprint import Nonlinearity
from gdl_science.symmetry import RCFieldType

_EVEN_OK = {"relu": torch.relu, "elu": nn.functional.elu, "gelu": nn.functional.gelu}
_ODD = {"tanh": torch.tanh, "identity": lambda x: x}


class RCPointwise(Nonlinearity):
    """(B, C, L) -> (B, C, L): ``activation`` on regular/+1 channels, odd ``odd`` on -1."""

    rezero = True  # f(0) may be nonzero (elu, gelu): padding re-zeroed (masking.run_stage)

    def __init__(
        self, field_type: RCFieldType, activation: str = "relu", odd: str = "tanh"
    ) -> None:
        super().__init__()
        if activation not in _EVEN_OK:
            raise ValueError(f"activation must be one of {sorted(_EVEN_OK)}, got {activation!r}")
        if odd not in _ODD:
            raise ValueError(f"odd must be one of {sorted(_ODD)} (odd functions), got {odd!r}")
        self.in_type = self.out_type = field_type
        self.activation, self.odd = activation, odd
        self._split = 2 * field_type.regular + field_type.plus

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[1] == self.in_type.size, (
            f"expected {self.in_type}, got {x.shape[1]} channels"
        )
        if self._split == x.shape[1]:
            return _EVEN_OK[self.activation](x)
        if self._split == 0:
            return _ODD[self.odd](x)
        # torch.split, not slicing: its backward is one cat instead of zero-filled copies.
        head, tail = torch.split(x, [self._split, x.shape[1] - self._split], dim=1)
        return torch.cat([_EVEN_OK[self.activation](head), _ODD[self.odd](tail)], dim=1)

    def extra_repr(self) -> str:
        return f"{self.in_type}, activation={self.activation}, odd={self.odd}"
