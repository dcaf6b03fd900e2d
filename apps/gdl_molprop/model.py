"""The molecular property networks, composed from blueprint stages.

``hybrid`` (the default), a 2D + 3D network:

    graph -> stereo input (R/S merged unless ``chirality``; ``layers/chirality.py``)
          -> encode: D-MPNN over directed bonds (Chemprop's encoder) -> atom states
          -> R × radial interaction over all atom pairs within the cutoff (3D geometry)
          -> [``chirality``: per-atom pseudoscalars from triple products: SE(3), not E(3)]
          -> readout (norm/sum/mean over atoms, + optional RDKit descriptors) -> MLP head

``egnn`` (the first version, kept for comparison and old checkpoints):

    graph -> encode (atoms embedded, edges = bond features + geometry)
          -> L × invariant message passing -> readout -> MLP head

In both, the symmetry mode only changes the geometric edge encoding: ``equivariant`` uses
distances (S_N × E(3)-invariant, or S_N × SE(3) with ``chirality``); ``none``/``augment``
use raw Cartesian components with the same feature count (S_N-invariant only). Parameter
counts are identical across modes and geometries, so comparisons measure the prior, not
capacity.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from gdl_molprop.data.features import ATOM_FEATURES, BOND_FEATURES
from gdl_molprop.layers import (
    CartesianEncoding,
    DirectedBondEncoder,
    DistanceEncoding,
    HybridReadout,
    InvariantMessagePassing,
    MoleculeReadout,
    NoGeometry,
    RadialInteraction,
)
from gdl_molprop.layers.chirality import ChiralityInteraction, StereoInput
from gdl_science.blueprint import Blueprint, MLPHead
from gdl_science.graphs import GraphBatch


def edge_encoder(geometry: str, equivariant: bool) -> type:
    if geometry == "2d":
        return NoGeometry
    return DistanceEncoding if equivariant else CartesianEncoding


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
        equivariant: bool = True,
        readout: Literal["sum", "mean", "norm"] = "sum",
        head_hidden: int = 64,
        dropout: float = 0.0,
        architecture: Literal["hybrid", "egnn"] = "hybrid",
        depth: int = 3,
        radial_layers: int = 1,
        radial_width: int = 64,
        descriptors: int = 0,
        chirality: bool = False,
        atom_features: int = ATOM_FEATURES,
        bond_features: int = BOND_FEATURES,
    ) -> None:
        super().__init__()
        if architecture == "hybrid":
            stages = self._hybrid(
                atom_features, bond_features, width, depth, radial_layers, radial_width,
                num_rbf, cutoff, equivariant, readout, dropout, descriptors, chirality,
            )  # fmt: skip
            head_in = width + descriptors
            activation = "relu"
        else:
            if readout == "norm" or chirality:
                raise ValueError("readout 'norm' and chirality need architecture 'hybrid'")
            stages = self._egnn(
                atom_features, bond_features, width, num_layers, num_rbf, cutoff, geometry,
                equivariant, readout, dropout,
            )  # fmt: skip
            head_in = width
            activation = "silu"
        hidden = (head_hidden,) if head_hidden > 0 else ()
        head = MLPHead(head_in, num_tasks, hidden=hidden, dropout=dropout, activation=activation)
        stages.append(("head", head))
        self.blueprint = Blueprint(stages)

    @staticmethod
    def _hybrid(
        atom_features, bond_features, width, depth, radial_layers, radial_width, num_rbf,
        cutoff, equivariant, readout, dropout, descriptors, chirality,
    ) -> list[tuple[str, nn.Module]]:  # fmt: skip
        stages: list[tuple[str, nn.Module]] = [
            ("stereo", StereoInput(atom_features, bond_features, chirality)),
            ("encode", DirectedBondEncoder(atom_features, bond_features, width, depth, dropout)),
        ]
        geometry = "distance" if equivariant else "cartesian"
        for i in range(radial_layers):
            layer = RadialInteraction(width, num_rbf, cutoff, geometry, radial_width)
            stages.append((f"radial{i}", layer))
        if chirality:
            stages.append(("chirality", ChiralityInteraction(width, cutoff)))
        stages.append(("readout", HybridReadout(width, readout, descriptors)))
        return stages

    @staticmethod
    def _egnn(
        atom_features, bond_features, width, num_layers, num_rbf, cutoff, geometry,
        equivariant, readout, dropout,
    ) -> list[tuple[str, nn.Module]]:  # fmt: skip
        encoder = edge_encoder(geometry, equivariant)(
            atom_features, bond_features, width, num_rbf, cutoff
        )
        stages: list[tuple[str, nn.Module]] = [("encode", encoder)]
        for i in range(num_layers):
            layer = InvariantMessagePassing(width, encoder.edge_features, dropout=dropout)
            stages.append((f"interact{i}", layer))
        stages.append(("readout", MoleculeReadout(width, readout)))
        return stages

    def forward(self, graph: GraphBatch) -> torch.Tensor:
        return self.blueprint(graph)
