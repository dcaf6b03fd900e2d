"""The molecule's spatial group: E(3) (mirror images alike) or SE(3) (``chirality``).

SE(3) is E(3) without reflections: the core's E(3) test elements with det(Q) = +1, and
random elements drawn without a mirror, so ``check-symmetry`` and ``augment`` use
rotations and translations only and never a reflection the model is meant to see.
"""

from __future__ import annotations

import torch

from gdl_science.symmetry import E3Group
from gdl_science.symmetry.euclidean import E3Element


class SE3Group(E3Group):
    """Rotations and translations of 3D space (proper rigid motions)."""

    name = "SE(3)"

    def test_elements(self) -> list[E3Element]:
        proper = [g for g in super().test_elements() if float(g.rotation.det()) > 0]
        # and a random rotation with a translation (the E(3) list pairs it with a mirror)
        return [*proper, self.sample(torch.Generator().manual_seed(1))]

    def sample(self, generator=None, reflections: bool = False) -> E3Element:
        return super().sample(generator, reflections=False)


def spatial_group(chirality: bool) -> E3Group:
    return SE3Group() if chirality else E3Group()
