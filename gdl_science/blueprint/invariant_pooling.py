"""Group-invariant global poolings, one per domain (a type change to trivial fields)."""

from __future__ import annotations

from typing import Literal

import torch

from gdl_science.blueprint.stages import InvariantPooling
from gdl_science.graphs import scatter_mean, scatter_sum
from gdl_science.symmetry.reverse_complement import RCFieldType


class GroupSpatialPool(InvariantPooling):
    """Grids: pool each regular field over its |G| channels, then average over space.

    Input (B, F·|G|, *spatial) with channel index ``field·|G| + g`` (field-major, as escnn
    lays out regular fields) -> (B, F). Max or mean over the group orbit is invariant to
    the group's channel permutation; the spatial mean is invariant to any permutation of
    positions, so in particular to rotations and cyclic shifts of the grid.
    """

    def __init__(self, group_size: int, reduce: Literal["mean", "max"] = "mean") -> None:
        super().__init__()
        self.group_size = group_size
        self.reduce = reduce

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        if c % self.group_size:
            raise ValueError(f"{c} channels are not a multiple of |G|={self.group_size}")
        fields = x.reshape(b, c // self.group_size, self.group_size, -1)
        pooled = fields.amax(dim=2) if self.reduce == "max" else fields.mean(dim=2)
        return pooled.mean(dim=-1)


class RCInvariantPool(InvariantPooling):
    """DNA: pair the two orientations of each field, then average over the length.

    Input (B, C, L) laid out as ``field_type`` -> (B, regular + plus + minus):
    regular pair (c, 2r−1−c) summed (RC swaps them), +1 channels averaged, −1 channels
    squared then averaged (RC negates them, the square does not see the sign).
    """

    def __init__(self, field_type: RCFieldType) -> None:
        super().__init__()
        self.in_type = field_type
        self.out_type = field_type.invariant_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ft: RCFieldType = self.in_type
        r2 = 2 * ft.regular
        parts = []
        if ft.regular:
            reg = x[:, :r2]
            parts.append((reg[:, : ft.regular] + reg[:, ft.regular :].flip(1)).mean(dim=-1))
        if ft.plus:
            parts.append(x[:, r2 : r2 + ft.plus].mean(dim=-1))
        if ft.minus:
            parts.append(x[:, r2 + ft.plus :].pow(2).mean(dim=-1))
        return torch.cat(parts, dim=1)


class GraphReadout(InvariantPooling):
    """Graphs: sum or mean of node features per graph, invariant to node permutations.

    (x (N, F), batch (N,), num_graphs) -> (num_graphs, F). Sum keeps extensive
    properties (energies) extensive; mean suits intensive ones.
    """

    def __init__(self, reduce: Literal["sum", "mean"] = "sum") -> None:
        super().__init__()
        self.reduce = reduce

    def forward(self, x: torch.Tensor, batch: torch.Tensor, num_graphs: int) -> torch.Tensor:
        scatter = scatter_sum if self.reduce == "sum" else scatter_mean
        return scatter(x, batch, num_graphs)
