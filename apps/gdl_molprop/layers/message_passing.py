"""Invariant message passing (the E(3)-invariant variant of EGNN, Satorras et al. 2021).

    m_ij = φ_e([h_i, h_j, e_ij])              e_ij: bond features + geometric encoding
    h_i' = LayerNorm(h_i + φ_h([h_i, Σ_j m_ij / s]))

Every operation is per node or per edge with a permutation-invariant sum over
neighbours, so the layer is S_N-equivariant; it only sees scalars (features and
distance encodings), so it is E(3)-invariant. Unlike full EGNN it does not update
coordinates, which the property tasks here do not need. ``s`` is a fixed message scale
(a typical neighbour count) that keeps activations O(1) for molecules of any size.
"""

from __future__ import annotations

import torch
from torch import nn

from gdl_molprop.layers.types import InvariantNodes, NodeState
from gdl_science.blueprint import EquivariantLinear
from gdl_science.graphs import scatter_sum


class InvariantMessagePassing(EquivariantLinear):
    """NodeState (h (N, F)) -> NodeState (h (N, F)); edges and edge features pass through."""

    def __init__(
        self, width: int, edge_features: int, message_scale: float = 10.0, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.in_type = self.out_type = InvariantNodes(width)
        self.message_scale = message_scale
        self.edge_mlp = nn.Sequential(
            nn.Linear(2 * width + edge_features, width),
            nn.SiLU(),
            nn.Linear(width, width),
            nn.SiLU(),
        )
        self.node_mlp = nn.Sequential(
            nn.Linear(2 * width, width), nn.SiLU(), nn.Dropout(dropout), nn.Linear(width, width)
        )
        self.norm = nn.LayerNorm(width)

    def forward(self, state: NodeState) -> NodeState:
        h = state.h
        assert h.shape[-1] == self.in_type.width, "node feature width mismatch"
        src, dst = state.edge_index
        messages = self.edge_mlp(torch.cat([h[dst], h[src], state.edge_feat], dim=-1))  # (E, F)
        incoming = scatter_sum(messages, dst, h.shape[0]) / self.message_scale  # (N, F)
        return state.replace_h(self.norm(h + self.node_mlp(torch.cat([h, incoming], dim=-1))))
