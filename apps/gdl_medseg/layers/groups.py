"""Finite groups of signed axis permutations: exact symmetries of a voxel grid.

Every element is a 3×3 integer matrix with one ±1 per row and column (a rotation or a
reflection of the cube), acting on the (D, H, W) axes of a tensor by ``rotate_grid``
(an axis permutation with flips: exact in any dtype). The medseg groups:

- ``mirror``: {identity, reflection of one axis}: the bilateral (left-right) symmetry of
  anatomy in a canonical RAS pose, where every other axis has a meaning (anterior,
  superior) that a segmentation may rely on;
- ``flips``: the 8 reflections of any subset of the three axes (nnU-Net's mirroring);
- ``octahedral``: the 24 cube rotations (random poses, e.g. the phantoms);
- ``inplane``: the 4 rotations about one axis (anisotropic data).
"""

from __future__ import annotations

import itertools
from functools import cached_property

import torch

from gdl_science.symmetry import OctahedralGroup
from gdl_science.symmetry.group import Group

GROUP_NAMES = ("octahedral", "inplane", "mirror", "flips")


def _diag(signs: tuple[int, int, int]) -> torch.Tensor:
    return torch.diag(torch.tensor(signs, dtype=torch.int64))


class GridGroup(Group[torch.Tensor]):
    """A finite group of signed permutation matrices; element 0 is the identity."""

    def __init__(self, name: str, elements: list[torch.Tensor]) -> None:
        self.name = name
        eye = torch.eye(3, dtype=torch.int64)
        others = [e for e in elements if not torch.equal(e, eye)]
        self._elements = [eye, *others]
        for a in self._elements:  # closure: a group, not just a set of matrices
            for b in self._elements:
                self.index(a @ b)

    @property
    def elements(self) -> list[torch.Tensor]:
        return list(self._elements)

    @property
    def identity(self) -> torch.Tensor:
        return self._elements[0]

    def __len__(self) -> int:
        return len(self._elements)

    def compose(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a @ b

    def inverse(self, a: torch.Tensor) -> torch.Tensor:
        return a.T.contiguous()

    def test_elements(self) -> list[torch.Tensor]:
        return self.elements

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        i = int(torch.randint(len(self), (1,), generator=generator).item())
        return self._elements[i]

    def index(self, g: torch.Tensor) -> int:
        for i, e in enumerate(self._elements):
            if torch.equal(e, g.to(torch.int64)):
                return i
        raise ValueError(f"{g.tolist()} is not an element of {self.name}")

    def describe(self, g: torch.Tensor) -> str:
        return str(g.tolist())

    @cached_property
    def inverse_products(self) -> torch.Tensor:
        """(|G|, |G|) int table: entry [g, h] = index of g^-1 h (the regular representation)."""
        n = len(self)
        return torch.tensor(
            [[self.index(self.inverse(g) @ h) for h in self._elements] for g in self._elements]
        ).reshape(n, n)

    @staticmethod
    def act_on_grid(g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Scalar fields (..., D, H, W): rotate/reflect the grid only."""
        from gdl_science.symmetry import rotate_grid

        return rotate_grid(g, x)


def make_group(name: str, axis: int = 0) -> GridGroup:
    """The named group; ``axis`` is the mirrored axis (mirror) or the rotation axis (inplane)."""
    if name == "mirror":
        signs = [1, 1, 1]
        signs[axis] = -1
        return GridGroup(f"mirror(axis {axis})", [_diag((1, 1, 1)), _diag(tuple(signs))])
    if name == "flips":
        return GridGroup(
            "flips", [_diag(s) for s in itertools.product((1, -1), repeat=3)]  # type: ignore[arg-type]
        )
    rotations = OctahedralGroup().elements
    if name == "octahedral":
        return GridGroup("octahedral", rotations)
    if name == "inplane":
        return GridGroup(f"C4(axis {axis})", [r for r in rotations if int(r[axis, axis]) == 1])
    raise ValueError(f"group must be one of {GROUP_NAMES}, got {name!r}")
