"""The octahedral group O: the 24 rotations of the cube, exact on a voxel grid.

Elements are 3×3 integer rotation matrices (signed permutation matrices with det +1),
acting on the three spatial axes (D, H, W) of a tensor ``(..., D, H, W)`` about the grid
centre. A rotation of a grid is then only an axis permutation plus flips: no
interpolation, so equivariance tests can be exact.
"""

from __future__ import annotations

import itertools
from functools import cached_property

import torch

from gdl_science.symmetry.group import Group


def _cube_rotations() -> list[torch.Tensor]:
    mats = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            m = torch.zeros(3, 3, dtype=torch.int64)
            for row, (col, s) in enumerate(zip(perm, signs)):
                m[row, col] = s
            if round(torch.linalg.det(m.double()).item()) == 1:
                mats.append(m)
    # Identity first, so element 0 is always the identity.
    mats.sort(
        key=lambda m: (not torch.equal(m, torch.eye(3, dtype=torch.int64)), m.flatten().tolist())
    )
    return mats


def rotate_grid(rotation: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Rotate the last three axes of ``x`` by a signed-permutation rotation matrix.

    With voxel coordinates p centred on the grid, the output satisfies
    ``y[R p] = x[p]``. Shapes: x (..., D, H, W) -> (..., D', H', W'), where the output
    axis i has the size of input axis j with R[i, j] != 0.
    """
    r = rotation.to(torch.int64)
    if r.shape != (3, 3):
        raise ValueError(f"expected a 3x3 rotation matrix, got shape {tuple(r.shape)}")
    lead = x.dim() - 3
    # Output axis i reads input axis src[i]; y[q] = x[R^T q] since R is orthogonal.
    src = [int(torch.nonzero(r[i]).item()) for i in range(3)]
    signs = [int(r[i, src[i]].item()) for i in range(3)]
    y = x.permute(*range(lead), *(lead + s for s in src))
    flip_dims = [lead + i for i in range(3) if signs[i] < 0]
    return y.flip(flip_dims) if flip_dims else y


class OctahedralGroup(Group[torch.Tensor]):
    """The 24 proper rotations of the cube."""

    name = "octahedral"

    @cached_property
    def elements(self) -> list[torch.Tensor]:
        return _cube_rotations()

    @property
    def identity(self) -> torch.Tensor:
        return torch.eye(3, dtype=torch.int64)

    def compose(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a @ b

    def inverse(self, a: torch.Tensor) -> torch.Tensor:
        return a.T.contiguous()

    def test_elements(self) -> list[torch.Tensor]:
        return list(self.elements)

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        i = int(torch.randint(len(self.elements), (1,), generator=generator).item())
        return self.elements[i]

    def index(self, g: torch.Tensor) -> int:
        for i, m in enumerate(self.elements):
            if torch.equal(m, g.to(torch.int64)):
                return i
        raise ValueError(f"not a cube rotation: {g.tolist()}")

    def describe(self, g: torch.Tensor) -> str:
        return f"O[{self.index(g)}]={g.tolist()}"

    @staticmethod
    def act_on_grid(g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Rotate a field of scalars (..., D, H, W); channels are left as they are."""
        return rotate_grid(g, x)

    @cached_property
    def _cayley(self) -> torch.Tensor:
        # _cayley[g, h] = index of g∘h
        n = len(self.elements)
        table = torch.empty(n, n, dtype=torch.int64)
        for i, a in enumerate(self.elements):
            for j, b in enumerate(self.elements):
                table[i, j] = self.index(a @ b)
        return table

    def act_on_regular_field(self, g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Rotate a field of regular-representation channels (B, F·24, D, H, W).

        Channel ``f·24 + h`` holds the response at group element h (field-major layout);
        g moves it to channel ``f·24 + index(g∘h)`` and rotates the grid.
        """
        b, c = x.shape[:2]
        n = len(self.elements)
        if c % n:
            raise ValueError(f"{c} channels are not a multiple of |O|={n}")
        dest = self._cayley[self.index(g)]  # (24,): h -> g∘h
        fields = x.reshape(b, c // n, n, *x.shape[2:])
        out = torch.empty_like(fields)
        out[:, :, dest] = fields
        return rotate_grid(g, out.reshape(x.shape))
