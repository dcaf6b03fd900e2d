"""Prepared molecule -> ``GraphBatch`` (one graph per conformer).

3D graphs connect every pair of atoms closer than ``cutoff`` (a radius graph) plus every
bonded pair; edge_attr holds bond features, with the "none" flag set for non-bonded
pairs. 2D graphs connect bonded atoms only and carry no coordinates. Edges are directed
and stored in both directions, so messages flow both ways.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from gdl_molprop.data.chem import BOND_FEATURES, PreparedMolecule
from gdl_science.graphs import GraphBatch


def _bond_edges(mol: PreparedMolecule) -> tuple[np.ndarray, np.ndarray]:
    """(2, 2B) directed bond edges and their (2B, BOND_FEATURES) features."""
    if len(mol.bonds) == 0:
        return np.zeros((2, 0), np.int64), np.zeros((0, BOND_FEATURES), np.float32)
    src = np.concatenate([mol.bonds[:, 0], mol.bonds[:, 1]])
    dst = np.concatenate([mol.bonds[:, 1], mol.bonds[:, 0]])
    return np.stack([src, dst]), np.concatenate([mol.bond_features, mol.bond_features])


def radius_edges(pos: np.ndarray, cutoff: float) -> np.ndarray:
    """All ordered pairs (i != j) with |pos_i - pos_j| < cutoff -> (2, E)."""
    d = np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=-1)
    close = (d < cutoff) & ~np.eye(len(pos), dtype=bool)
    src, dst = np.nonzero(close)
    return np.stack([src, dst]).astype(np.int64)


def molecule_graph(
    mol: PreparedMolecule,
    conformer: int,
    geometry: str,
    cutoff: float,
    targets: list[float] | None = None,
) -> GraphBatch:
    """One conformer of a prepared molecule as a graph (batch of size 1).

    targets: per-task values with NaN for missing ones -> y (1, T).
    """
    n = len(mol.atom_features)
    bond_index, bond_attr = _bond_edges(mol)
    pos = None
    if geometry == "3d":
        coords = mol.conformers[conformer]
        radius = radius_edges(coords, cutoff)
        # Union of radius and bond edges: bond features where bonded, "none" flag otherwise.
        attr = np.zeros((radius.shape[1], BOND_FEATURES), np.float32)
        attr[:, 0] = 1.0
        lookup = {(int(a), int(b)): k for k, (a, b) in enumerate(bond_index.T)}
        seen = set()
        for k, (a, b) in enumerate(radius.T):
            j = lookup.get((int(a), int(b)))
            if j is not None:
                attr[k] = bond_attr[j]
                seen.add(j)
        extra = [j for j in range(bond_index.shape[1]) if j not in seen]  # bonds beyond cutoff
        edge_index = np.concatenate([radius, bond_index[:, extra]], axis=1)
        edge_attr = np.concatenate([attr, bond_attr[extra]])
        pos = torch.as_tensor(coords, dtype=torch.float32)
    else:
        edge_index, edge_attr = bond_index, bond_attr
    y = None
    if targets is not None:
        y = torch.tensor([math.nan if t is None else t for t in targets], dtype=torch.float32)
    return GraphBatch.single(
        x=torch.as_tensor(mol.atom_features, dtype=torch.float32).reshape(n, -1),
        edge_index=torch.as_tensor(edge_index, dtype=torch.long).reshape(2, -1),
        pos=pos,
        edge_attr=torch.as_tensor(edge_attr, dtype=torch.float32).reshape(-1, BOND_FEATURES),
        y=y,
    )


def conformer_count(mol: PreparedMolecule, geometry: str) -> int:
    return max(1, int(mol.conformers.shape[0])) if geometry == "3d" else 1
