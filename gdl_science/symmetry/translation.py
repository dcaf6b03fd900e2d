"""Translations of a grid, as cyclic shifts.

On a finite grid a translation is only a group action when it wraps around (a torus),
so elements act by ``torch.roll``. A convolution is exactly equivariant to these
shifts with circular padding; with zero padding it is equivariant away from the border
only, which tests must respect.
"""

from __future__ import annotations

import torch

from gdl_science.symmetry.group import Group


class TranslationGroup(Group[tuple]):
    """Cyclic shifts of the last ``ndim`` axes; elements are tuples of integer shifts."""

    def __init__(self, ndim: int, test_shifts: tuple[int, ...] = (1, -2, 3)) -> None:
        self.ndim = ndim
        self.name = f"T{ndim}"
        self._test_shifts = test_shifts

    @property
    def identity(self) -> tuple:
        return (0,) * self.ndim

    def compose(self, a: tuple, b: tuple) -> tuple:
        return tuple(x + y for x, y in zip(a, b))

    def inverse(self, a: tuple) -> tuple:
        return tuple(-x for x in a)

    def test_elements(self) -> list[tuple]:
        out = [self.identity]
        for k, s in enumerate(self._test_shifts):
            out.append(tuple(s if (i + k) % self.ndim == 0 else (s // 2) for i in range(self.ndim)))
        return out

    def sample(self, generator: torch.Generator | None = None, max_shift: int = 8) -> tuple:
        return tuple(
            int(v)
            for v in torch.randint(-max_shift, max_shift + 1, (self.ndim,), generator=generator)
        )

    def act_on_grid(self, g: tuple, x: torch.Tensor) -> torch.Tensor:
        """Shift the last ``ndim`` axes of x cyclically: y[p + t] = x[p]."""
        dims = tuple(range(x.dim() - self.ndim, x.dim()))
        return torch.roll(x, shifts=tuple(g), dims=dims)

    def __repr__(self) -> str:
        return f"TranslationGroup(ndim={self.ndim})"
