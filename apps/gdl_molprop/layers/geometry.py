"""Edge geometry encoders: how coordinates enter the network.

- ``DistanceEncoding`` (symmetry ``equivariant``): Gaussian radial basis of the
  interatomic distance |p_j − p_i| times a smooth cosine cutoff. Distances are unchanged
  by rotations, reflections and translations, so everything downstream is E(3)-invariant
  exactly (up to float rounding).
- ``CartesianEncoding`` (symmetry ``none`` / ``augment``): the same number of features,
  built from the raw Cartesian components of p_j − p_i (each component in K/3
  Gaussians). Translation-invariant, *not* rotation-invariant: the baseline that must
  learn rotations from data (``augment``) or not at all (``none``).
- ``NoGeometry`` (2D graphs): zeros of the same width, so 2D and 3D models have equal
  parameter counts.

All map a GraphBatch to a NodeState with edge_feat = [bond features | geometry (K)].
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gdl_molprop.layers.types import GraphInput, InvariantNodes, NodeState
from gdl_science.blueprint import EquivariantLinear
from gdl_science.graphs import GraphBatch


def cosine_cutoff(d: torch.Tensor, cutoff: float) -> torch.Tensor:
    """(E,) -> (E,): 0.5 (cos(π d / cutoff) + 1) inside the cutoff, else 0 (smooth there)."""
    return torch.where(
        d < cutoff, 0.5 * (torch.cos(math.pi * d / cutoff) + 1.0), torch.zeros_like(d)
    )


def gaussian_basis(x: torch.Tensor, start: float, stop: float, num: int) -> torch.Tensor:
    """(E,) -> (E, num) Gaussians with centres evenly spaced on [start, stop]."""
    centres = torch.linspace(start, stop, num, dtype=x.dtype, device=x.device)
    width = (stop - start) / max(num - 1, 1)
    return torch.exp(-0.5 * ((x[:, None] - centres) / width) ** 2)


class _EdgeEncoding(EquivariantLinear):
    """Shared part: embeds atoms (a per-node linear map, permutation-equivariant) and
    concatenates bond features with the geometric edge features of the subclass."""

    def __init__(
        self, atom_features: int, bond_features: int, width: int, num_rbf: int, cutoff: float
    ) -> None:
        super().__init__()
        self.in_type = GraphInput(atom_features, bond_features)
        self.out_type = InvariantNodes(width)
        self.embed = nn.Linear(atom_features, width)
        self.num_rbf = num_rbf
        self.cutoff = cutoff
        self.edge_features = bond_features + num_rbf

    def geometry(self, graph: GraphBatch) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, graph: GraphBatch) -> NodeState:
        assert graph.x.shape[-1] == self.in_type.atom_features, "atom feature width mismatch"
        edge_attr = graph.edge_attr
        if edge_attr is None:
            edge_attr = graph.x.new_zeros((graph.edge_index.shape[1], self.in_type.bond_features))
        edge_feat = torch.cat([edge_attr, self.geometry(graph)], dim=-1)
        return NodeState(
            self.embed(graph.x), graph.edge_index, edge_feat, graph.batch, graph.num_graphs
        )


class DistanceEncoding(_EdgeEncoding):
    """Invariant: radial basis of |p_j − p_i| (K features) × cosine cutoff."""

    def geometry(self, graph: GraphBatch) -> torch.Tensor:
        src, dst = graph.edge_index
        d = (graph.pos[dst] - graph.pos[src]).norm(dim=-1)  # (E,)
        rbf = gaussian_basis(d, 0.0, self.cutoff, self.num_rbf)
        return rbf * cosine_cutoff(d, self.cutoff)[:, None]


class CartesianEncoding(_EdgeEncoding):
    """Not rotation-invariant: each component of p_j − p_i in K/3 Gaussians, × cutoff."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.num_rbf % 3:
            raise ValueError(
                f"num_rbf must be divisible by 3 for Cartesian features; got {self.num_rbf}"
            )

    def geometry(self, graph: GraphBatch) -> torch.Tensor:
        src, dst = graph.edge_index
        r = graph.pos[dst] - graph.pos[src]  # (E, 3)
        per_axis = self.num_rbf // 3
        parts = [gaussian_basis(r[:, k], -self.cutoff, self.cutoff, per_axis) for k in range(3)]
        return torch.cat(parts, dim=-1) * cosine_cutoff(r.norm(dim=-1), self.cutoff)[:, None]


class NoGeometry(_EdgeEncoding):
    """2D graphs: no coordinates; zero geometric features keep the parameter count equal."""

    def geometry(self, graph: GraphBatch) -> torch.Tensor:
        return graph.x.new_zeros((graph.edge_index.shape[1], self.num_rbf))
