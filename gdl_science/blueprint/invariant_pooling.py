"""Group-invariant global poolings (a type change to trivial fields): DNA and graphs.

Grids need none here: segmentation is equivariant, not invariant, so it keeps its output
on the grid (medseg pools nothing globally).
"""

from __future__ import annotations

from typing import Literal

import torch

from gdl_science.blueprint.stages import InvariantPooling
from gdl_science.graphs import scatter_mean, scatter_sum
from gdl_science.symmetry.reverse_complement import RCFieldType


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
