"""Representation types of the molecular network, and the state that flows through it.

The group is S_N × E(3): permutations of the N atoms and isometries of space. Node
features here are E(3) *scalars* (invariant) that permute with the atoms; coordinates
are points (they rotate and translate). A stage declares which it takes and returns, so
the Blueprint can refuse a wrongly wired network at build time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from gdl_science.graphs import GraphBatch


@dataclass(frozen=True)
class InvariantNodes:
    """``width`` scalar channels per atom: S_N permutes rows, E(3) leaves them unchanged."""

    width: int

    def __str__(self) -> str:
        return f"{self.width}x0e"


@dataclass(frozen=True)
class GraphInput:
    """The raw graph batch: atom/bond features (scalars) + coordinates (points, or none in 2D)."""

    atom_features: int
    bond_features: int

    def __str__(self) -> str:
        return f"graph({self.atom_features} atom, {self.bond_features} bond features)"


@dataclass
class NodeState:
    """What message-passing stages exchange.

    h (N, F) node features; edge_index (2, E) (source, target); edge_feat (E, Fe)
    edge features (bond features + geometric encoding); batch (N,); num_graphs;
    pos (N, 3) or None (the hybrid network's geometric stages read it); descriptors
    (num_graphs, D) molecule-level features or None (joined at the readout).
    """

    h: torch.Tensor
    edge_index: torch.Tensor
    edge_feat: torch.Tensor
    batch: torch.Tensor
    num_graphs: int
    pos: torch.Tensor | None = None
    descriptors: torch.Tensor | None = None

    def replace_h(self, h: torch.Tensor) -> NodeState:
        return replace(self, h=h)


def permute_state(perm: torch.Tensor, state: NodeState) -> NodeState:
    """The S_N action on a NodeState (used by tests): rows move, edges follow their ends."""
    graph = GraphBatch(
        x=state.h, edge_index=state.edge_index, batch=state.batch, num_graphs=state.num_graphs
    )
    from gdl_science.symmetry import NodePermutationGroup

    moved = NodePermutationGroup.act_on_graph(perm, graph)
    return replace(
        state,
        h=moved.x,
        edge_index=moved.edge_index,
        batch=moved.batch,
        pos=None if state.pos is None else state.pos[perm],
    )
