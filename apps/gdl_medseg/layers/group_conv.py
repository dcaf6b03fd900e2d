"""Group convolutions (Cohen & Welling 2016) for a finite ``GridGroup``, in plain PyTorch.

A *regular field* is |G| channels indexed by group elements h; channels are laid out
field-major (channel = field * |G| + h), so concatenating two sets of regular fields
along the channel axis gives regular fields again (the U-Net's skip joins). G acts as

    (g·f)_h(p) = f_{g^-1 h}(g^-1 p).

The convolution from regular to regular fields ties its filter as

    W[(o, g), (i, h)](q) = psi[o, i, g^-1 h](g^-1 q),

and the lifting convolution from scalar (trivial) input fields as
``W[(o, g), i](q) = psi[o, i](g^-1 q)``. Both are exactly G-equivariant in any dtype:
the filter copies are built with ``rotate_grid`` (an axis permutation with flips) and
an index gather, and the convolution itself is one ``F.conv3d``. The compute equals a
plain Conv3d with the same channel counts; the free parameters are |G| times fewer.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gdl_medseg.layers.groups import GridGroup
from gdl_medseg.layers.plain_layers import FieldInstanceNorm3d
from gdl_science.symmetry import rotate_grid


class GroupConv3d(nn.Module):
    """(B, I*|G| or I, D, H, W) -> (B, O*|G|, D, H, W); ``lifting``: scalar input fields."""

    def __init__(
        self,
        group: GridGroup,
        in_fields: int,
        out_fields: int,
        kernel_size: int = 3,
        lifting: bool = False,
    ) -> None:
        super().__init__()
        self.group = group
        self.in_fields, self.out_fields = in_fields, out_fields
        self.lifting = lifting
        self.kernel_size = kernel_size
        n = len(group)
        in_size = 1 if lifting else n
        self.weight = nn.Parameter(
            torch.empty(out_fields, in_fields, in_size, kernel_size, kernel_size, kernel_size)
        )
        # He init over the fan-in of the expanded filter (as Conv3d does for its channels).
        fan_in = in_fields * in_size * kernel_size**3
        nn.init.normal_(self.weight, std=math.sqrt(2.0 / fan_in))
        self.register_buffer("_perm", group.inverse_products.clone(), persistent=False)
        self.register_buffer("_rot", torch.stack(group.elements), persistent=False)

    def expanded_weight(self) -> torch.Tensor:
        """The tied filter (O*|G|, I*|G| or I, k, k, k)."""
        o, i, s, k = self.out_fields, self.in_fields, self.weight.shape[2], self.kernel_size
        copies = []
        for g in range(len(self.group)):
            psi = self.weight if self.lifting else self.weight[:, :, self._perm[g]]
            copies.append(rotate_grid(self._rot[g], psi))  # (O, I, S, k, k, k)
        w = torch.stack(copies, dim=1)  # (O, |G|, I, S, k, k, k)
        return w.reshape(o * len(self.group), i * s, k, k, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv3d(x, self.expanded_weight(), padding=self.kernel_size // 2)

    def extra_repr(self) -> str:
        kind = "lifting" if self.lifting else "regular"
        return f"{self.group.name}, {kind}, fields {self.in_fields}->{self.out_fields}"


class GroupHead(nn.Module):
    """Regular fields -> scalar outputs, 1×1: the same weights for every group channel.

    (B, I*|G|, D, H, W) -> (B, O, D, H, W). Pointwise and invariant in h, hence
    equivariant with the outputs as scalar fields (logits that move with the grid).
    """

    def __init__(self, group_order: int, in_fields: int, out_channels: int) -> None:
        super().__init__()
        self.n = group_order
        self.conv = nn.Conv3d(in_fields, out_channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, *spatial = x.shape
        pooled = x.reshape(b, c // self.n, self.n, *spatial).mean(2)
        return self.conv(pooled)


def group_block(
    group: GridGroup, in_fields: int, out_fields: int, n_convs: int, lifting: bool = False
) -> nn.Sequential:
    """``n_convs`` × (GroupConv3d 3³ -> field instance norm -> ELU) on regular fields."""
    layers: list[nn.Module] = []
    current = in_fields
    for j in range(n_convs):
        layers += [
            GroupConv3d(group, current, out_fields, 3, lifting=lifting and j == 0),
            FieldInstanceNorm3d(out_fields, len(group)),
            nn.ELU(),
        ]
        current = out_fields
    return nn.Sequential(*layers)
