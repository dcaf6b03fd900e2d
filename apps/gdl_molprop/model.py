"""The molecular property network, composed from blueprint stages.

    graph -> encode (atoms embedded, edges = bond features + geometry)
          -> L × invariant message passing -> readout (sum/mean over atoms) -> MLP head

The symmetry mode only changes the geometric edge encoding (see ``layers/geometry.py``):
``equivariant`` uses distances (S_N × E(3)-invariant); ``none``/``augment`` use raw
Cartesian components with the same feature count (S_N-invariant only). Parameter counts
are identical across modes and geometries, so comparisons measure the prior, not capacity.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from gdl_molprop.data.chem import ATOM_FEATURES, BOND_FEATURES
from gdl_molprop.layers import (
    CartesianEncoding,
    DistanceEncoding,
    InvariantMessagePassing,
    MoleculeReadout,
    NoGeometry,
)
from gdl_science.blueprint import Blueprint, MLPHead
from gdl_science.graphs import GraphBatch


def edge_encoder(geometry: str, symmetry: str) -> type:
    if geometry == "2d":
        return NoGeometry
    return DistanceEncoding if symmetry == "equivariant" else CartesianEncoding


class MolPropNet(nn.Module):
    """GraphBatch -> (num_graphs, num_tasks) raw outputs (standardised values or logits)."""

    def __init__(
        self,
        num_tasks: int,
        width: int = 64,
        num_layers: int = 3,
        num_rbf: int = 24,
        cutoff: float = 5.0,
        geometry: Literal["3d", "2d"] = "3d",
        symmetry: str = "equivariant",
        readout: Literal["sum", "mean"] = "sum",
        head_hidden: int = 64,
        dropout: float = 0.0,
        atom_features: int = ATOM_FEATURES,
        bond_features: int = BOND_FEATURES,
    ) -> None:
        super().__init__()
        encoder = edge_encoder(geometry, symmetry)(
            atom_features, bond_features, width, num_rbf, cutoff
        )
        stages: list[tuple[str, nn.Module]] = [("encode", encoder)]
        for i in range(num_layers):
            stages.append(
                (
                    f"interact{i}",
                    InvariantMessagePassing(width, encoder.edge_features, dropout=dropout),
                )
            )
        stages.append(("readout", MoleculeReadout(width, readout)))
        hidden = (head_hidden,) if head_hidden > 0 else ()
        stages.append(("head", MLPHead(width, num_tasks, hidden=hidden, dropout=dropout)))
        self.blueprint = Blueprint(stages)

    def forward(self, graph: GraphBatch) -> torch.Tensor:
        return self.blueprint(graph)
