"""SO(3) acting on voxel grids by resampling: approximate by nature.

A rotation that is not a cube rotation moves voxel centres off the grid, so the rotated
volume is interpolated and the action is only approximate (``exact = False``). Tests on
this group must use loose tolerances or restrict to the cube rotations, which the
action dispatches to the exact ``rotate_grid``. Elements are 3×3 float rotation
matrices in voxel (D, H, W) coordinates; isotropic voxels are assumed.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from gdl_science.symmetry.group import Group
from gdl_science.symmetry.octahedral import OctahedralGroup, rotate_grid


def random_rotation(generator: torch.Generator | None = None, dtype=torch.float64) -> torch.Tensor:
    """A Haar-uniform random rotation matrix, from a normalised Gaussian quaternion."""
    q = torch.randn(4, generator=generator, dtype=torch.float64)
    q = q / q.norm()
    w, x, y, z = q.tolist()
    m = torch.tensor(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ],
        dtype=torch.float64,
    )
    return m.to(dtype)


def axis_angle_rotation(axis: int, angle_rad: float, dtype=torch.float64) -> torch.Tensor:
    """Rotation by ``angle_rad`` about grid axis 0 (D), 1 (H) or 2 (W)."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    i, j = [a for a in range(3) if a != axis]
    m = torch.eye(3, dtype=dtype)
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


def _as_cube_rotation(r: torch.Tensor) -> torch.Tensor | None:
    rounded = r.round()
    if torch.allclose(r.double(), rounded.double(), atol=1e-9):
        return rounded.to(torch.int64)
    return None


def resample_rotated(
    rotation: torch.Tensor, x: torch.Tensor, mode: str = "bilinear", padding_mode: str = "zeros"
) -> torch.Tensor:
    """Rotate a volume (B, C, D, H, W) about its centre: y[R p] = x[p], interpolated.

    ``mode='nearest'`` is for label maps. Cube rotations are done exactly.
    """
    cube = _as_cube_rotation(rotation)
    if cube is not None:
        return rotate_grid(cube, x)
    if x.dim() != 5:
        raise ValueError(f"expected (B, C, D, H, W), got {tuple(x.shape)}")
    b = x.shape[0]
    # grid_sample wants, per output voxel, the input location in normalised (W, H, D)
    # order: p = R^T q. Normalised coordinates are per-axis, so a cubic volume keeps the
    # rotation rigid; for non-cubic volumes we scale to voxel units and back.
    sizes = torch.tensor(x.shape[2:], dtype=x.dtype, device=x.device)
    scale = (sizes - 1).clamp(min=1) / 2  # voxel half-extent per axis (D, H, W)
    r = rotation.to(dtype=x.dtype, device=x.device)
    m_dhw = torch.diag(1 / scale) @ r.T @ torch.diag(scale)  # normalised q -> normalised p
    perm = [2, 1, 0]  # (D, H, W) -> (W, H, D) for grid_sample's (x, y, z)
    m_xyz = m_dhw[perm][:, perm]
    theta = torch.cat([m_xyz, torch.zeros(3, 1, dtype=x.dtype, device=x.device)], dim=1)
    grid = F.affine_grid(theta.expand(b, 3, 4), list(x.shape), align_corners=True)
    return F.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=True)


class SO3Group(Group[torch.Tensor]):
    """Continuous 3D rotations; on a grid only the cube rotations act exactly."""

    name = "SO(3)"
    exact = False

    @property
    def identity(self) -> torch.Tensor:
        return torch.eye(3, dtype=torch.float64)

    def compose(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a.double() @ b.double()

    def inverse(self, a: torch.Tensor) -> torch.Tensor:
        return a.double().T.contiguous()

    def test_elements(self) -> list[torch.Tensor]:
        """The exact subset: the 24 cube rotations (as float matrices)."""
        return [m.double() for m in OctahedralGroup().elements]

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        return random_rotation(generator)

    @staticmethod
    def act_on_grid(g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return resample_rotated(g, x, mode="bilinear")
