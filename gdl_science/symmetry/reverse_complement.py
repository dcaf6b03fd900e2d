"""The reverse complement (RC) of DNA, a group of order 2, and its channel types.

With one-hot channels in A,C,G,T order, the complement A<->T, C<->G is a reversal of the
channel axis, so RC acts on a one-hot sequence (B, 4, L) by flipping both the channel
axis and the length axis. Hidden layers carry a mix of channel types, described by
``RCFieldType``:

- ``regular``: RC-regular pairs (Shrikumar et al. 2017, RCPS). A block of 2r channels
  whose channel order RC reverses, as for the one-hot input (which is regular with r=2).
- ``plus``: +1 irrep channels (Mallet & Vert 2021): RC only reverses the length axis.
- ``minus``: -1 irrep channels: RC reverses the length axis and negates the value.

The channel layout is ``[2·regular | plus | minus]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gdl_science.symmetry.group import Group

IDENTITY, RC = 0, 1


@dataclass(frozen=True)
class RCFieldType:
    """How RC acts on the channels of a (B, C, L) tensor; a printable, immutable value."""

    regular: int = 0
    plus: int = 0
    minus: int = 0

    def __post_init__(self) -> None:
        if min(self.regular, self.plus, self.minus) < 0:
            raise ValueError(f"negative channel count in {self}")

    @property
    def size(self) -> int:
        return 2 * self.regular + self.plus + self.minus

    @property
    def invariant_size(self) -> int:
        """Channels left after invariant (orientation) pooling: one per field."""
        return self.regular + self.plus + self.minus

    def act(self, g: int, x: torch.Tensor, length_axis: bool = True) -> torch.Tensor:
        """Apply element g to x of shape (B, C, L) (or (B, C) with length_axis=False)."""
        if x.shape[1] != self.size:
            raise ValueError(f"{self} expects {self.size} channels, got {x.shape[1]}")
        if g == IDENTITY:
            return x
        y = x.flip(-1) if length_axis else x
        r2 = 2 * self.regular
        parts = []
        if self.regular:
            parts.append(y[:, :r2].flip(1))
        if self.plus:
            parts.append(y[:, r2 : r2 + self.plus])
        if self.minus:
            parts.append(-y[:, r2 + self.plus :])
        return torch.cat(parts, dim=1)

    def __add__(self, other: RCFieldType) -> RCFieldType:
        return RCFieldType(
            self.regular + other.regular, self.plus + other.plus, self.minus + other.minus
        )

    def __repr__(self) -> str:
        return f"RCFieldType(regular={self.regular}, plus={self.plus}, minus={self.minus})"


ONE_HOT = RCFieldType(regular=2)
"""A,C,G,T one-hot input: RC reverses the 4 channels (A<->T, C<->G)."""


class ReverseComplementGroup(Group[int]):
    """{identity, RC}; elements are the ints 0 and 1."""

    name = "RC"

    @property
    def identity(self) -> int:
        return IDENTITY

    def compose(self, a: int, b: int) -> int:
        return a ^ b

    def inverse(self, a: int) -> int:
        return a

    def test_elements(self) -> list[int]:
        return [IDENTITY, RC]

    def sample(self, generator: torch.Generator | None = None) -> int:
        return int(torch.randint(2, (1,), generator=generator).item())

    def describe(self, g: int) -> str:
        return "RC" if g == RC else "id"

    @staticmethod
    def action(field_type: RCFieldType, length_axis: bool = True):
        """The action on tensors of one field type, as an ``action(g, x)`` callable."""

        def act(g: int, x: torch.Tensor) -> torch.Tensor:
            return field_type.act(g, x, length_axis=length_axis)

        return act

    @staticmethod
    def act_on_one_hot(g: int, x: torch.Tensor) -> torch.Tensor:
        """RC of one-hot DNA (B, 4, L) in A,C,G,T order: flip channels and length."""
        return x.flip(-2, -1) if g == RC else x
