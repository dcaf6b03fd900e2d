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

GROUP_NAMES = ("octahedral", "inplane", "mirror", "flips")
# The groups built with escnn (``layers.escnn_unet``), with the channels of one regular field.
ESCNN_GROUPS = {"octahedral": 24, "inplane": 4}


def _diag(signs: tuple[int, int, int]) -> torch.Tensor:
    return torch.diag(torch.tensor(signs, dtype=torch.int64))


class GridGroup(OctahedralGroup):
    """A finite group of signed permutation matrices; element 0 is the identity.

    The core's ``OctahedralGroup`` already implements the law, ``sample``, ``index``, the
    grid and regular-field actions for matrices of this kind; only the element list
    differs (a subgroup of the cube rotations, or reflections).
    """

    def __init__(self, name: str, elements: list[torch.Tensor]) -> None:
        self.name = name
        eye = torch.eye(3, dtype=torch.int64)
        others = [e for e in elements if not torch.equal(e, eye)]
        self._elements = [eye, *others]
        for a in self._elements:  # closure: a group, not just a set of matrices
            for b in self._elements:
                self.index(a @ b)

    @property
    def elements(self) -> list[torch.Tensor]:  # type: ignore[override]
        return list(self._elements)

    def __len__(self) -> int:
        return len(self._elements)

    def describe(self, g: torch.Tensor) -> str:
        return str(g.tolist())  # the matrix: check-symmetry's report lists one per line

    @cached_property
    def inverse_products(self) -> torch.Tensor:
        """(|G|, |G|) int table: entry [g, h] = index of g^-1 h (the regular representation)."""
        inverses = [self.index(self.inverse(g)) for g in self._elements]
        return self._cayley[inverses]


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
