"""Chirality: the stages that decide whether the model can tell mirror images apart.

The group of a molecular property is S_N × E(3) when the property is the same for both
enantiomers (solubility of a racemate, most physical properties), and S_N × SE(3)
(rotations without reflections) when it is not (binding to a chiral protein, as in BACE).

- ``StereoInput`` (first stage): in E(3) mode it merges the R and S flags of the atom
  features into one "stereocentre" flag (both columns get R + S), so the input of a
  mirror image, which swaps R and S, is the same input. In SE(3) mode it passes them.
  E/Z bond flags are unchanged by a mirror and always pass.
- ``ChiralityInteraction`` (SE(3) mode, after the radial stages): per-atom pseudoscalars.
  Each atom gathers 3C learned vectors from its neighbours within the cutoff,

      v_i^m = Σ_j a_m(h_j) c(|r_ij|) r_ij / s,     r_ij = p_j − p_i,  m = 1..3C

  and takes the triple product of each triple, τ_i^k = (v^{3k} × v^{3k+1}) · v^{3k+2}.
  Under p -> Q p + t every v turns by Q, so τ -> det(Q) τ: unchanged by rotations and
  translations, sign-flipped by reflections. The update a_i' = LayerNorm(a_i +
  W asinh(τ_i)) is then exactly SE(3)-invariant and S_N-equivariant, and sensitive to
  reflections. The weights a_m depend on the neighbours' states, so the vectors tell
  substituents apart (the four arms of a stereocentre differ in kind, not in length).
"""

from __future__ import annotations

import torch
from torch import nn

from gdl_molprop.data.features import CIP_R, CIP_S
from gdl_molprop.layers.geometry import cosine_cutoff
from gdl_molprop.layers.types import GraphInput, InvariantNodes, NodeState
from gdl_science.blueprint import EquivariantLinear
from gdl_science.graphs import GraphBatch, scatter_sum


class StereoInput(EquivariantLinear):
    """GraphBatch -> GraphBatch; E(3) mode: x[:, R] = x[:, S] = R + S (mirror-blind)."""

    def __init__(self, atom_features: int, bond_features: int, chirality: bool) -> None:
        super().__init__()
        self.in_type = self.out_type = GraphInput(atom_features, bond_features)
        self.chirality = chirality

    def forward(self, graph: GraphBatch) -> GraphBatch:
        if self.chirality:
            return graph
        x = graph.x.clone()
        merged = x[:, CIP_R] + x[:, CIP_S]  # (N,)
        x[:, CIP_R] = merged
        x[:, CIP_S] = merged
        return graph.replace(x=x)


class ChiralityInteraction(EquivariantLinear):
    """NodeState (a (N, H), pos (N, 3)) -> NodeState; adds C pseudoscalars per atom."""

    def __init__(
        self, width: int, cutoff: float, channels: int = 8, message_scale: float = 10.0
    ) -> None:
        super().__init__()
        self.in_type = self.out_type = InvariantNodes(width)
        self.cutoff, self.channels, self.message_scale = cutoff, channels, message_scale
        self.vectors = nn.Linear(width, 3 * channels, bias=False)
        self.out = nn.Linear(channels, width)
        self.norm = nn.LayerNorm(width)

    def forward(self, state: NodeState) -> NodeState:
        h = state.h
        assert h.shape[-1] == self.in_type.width, "node feature width mismatch"
        if state.pos is None:  # a 2D graph: no geometry, no handedness
            return state
        src, dst = state.edge_index  # message j=src -> i=dst
        r = state.pos[src] - state.pos[dst]  # (E, 3)
        d = r.norm(dim=-1)
        envelope = cosine_cutoff(d, self.cutoff) * (d > 0).to(d.dtype)  # (E,)
        weights = self.vectors(h)[src] * envelope[:, None]  # (E, 3C)
        n, c = h.shape[0], self.channels
        v = scatter_sum(weights[:, :, None] * r[:, None, :], dst, n) / self.message_scale
        v = v.view(n, c, 3, 3)  # (N, C, triple, xyz)
        tau = (torch.linalg.cross(v[:, :, 0], v[:, :, 1], dim=-1) * v[:, :, 2]).sum(-1)
        return state.replace_h(self.norm(h + self.out(torch.asinh(tau))))
