"""Invariant readout: per-atom scalars -> per-molecule scalars (the blueprint's global pooling).

A sum (or mean) over the atoms of each molecule does not depend on their order, so this
is the stage where S_N-equivariant features become S_N-invariant: a type change from
``InvariantNodes(F)`` to F plain features per graph.
"""

from __future__ import annotations

from typing import Literal

import torch

from gdl_molprop.layers.types import InvariantNodes, NodeState
from gdl_science.blueprint import GraphReadout, InvariantPooling


class MoleculeReadout(InvariantPooling):
    """NodeState (h (N, F), batch) -> (num_graphs, F)."""

    def __init__(self, width: int, reduce: Literal["sum", "mean"] = "sum") -> None:
        super().__init__()
        self.in_type = InvariantNodes(width)
        self.out_type = width
        self.pool = GraphReadout(reduce)

    def forward(self, state: NodeState) -> torch.Tensor:
        return self.pool(state.h, state.batch, state.num_graphs)
