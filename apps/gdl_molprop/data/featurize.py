"""Prepared molecule -> ``GraphBatch`` (one graph per conformer), vectorised with numpy.

Edge layout (the contract the layers rely on): edges come in *reverse pairs*. Edge 2k is
i -> j and edge 2k + 1 is j -> i, first one pair per bond, then (3D only) one pair per
non-bonded atom pair closer than ``cutoff``. Every graph has an even number of edges, so
after ``GraphBatch.collate`` the reverse of edge e is still e ^ 1, and node permutations
(which relabel ``edge_index`` but keep the edge order) keep it too: the directed-bond
messages of D-MPNN need no stored reverse index.

edge_attr holds bond features; column 0 is the "not bonded" flag, set for radius pairs.
2D graphs have bond pairs only and no coordinates. A molecule prepared as ``2d_only`` in
a 3D setting (no conformer) has bond pairs only and all-zero coordinates; the geometric
layers treat a zero distance as "no geometry".
"""

from __future__ import annotations

import math

import numpy as np
import torch

from gdl_molprop.data.chem import PreparedMolecule
from gdl_molprop.data.features import BOND_FEATURES
from gdl_science.graphs import GraphBatch


def pair_edges(pairs: np.ndarray) -> np.ndarray:
    """(P, 2) atom pairs -> (2, 2P) directed edges, i->j then j->i for each pair."""
    return np.stack([pairs, pairs[:, ::-1]], axis=1).reshape(-1, 2).T.astype(np.int64)


def radius_pairs(pos: np.ndarray, cutoff: float, bonds: np.ndarray) -> np.ndarray:
    """(P, 2) pairs i < j with |pos_i - pos_j| < cutoff that are not bonded."""
    n = len(pos)
    d = np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=-1)
    close = d < cutoff
    close[bonds[:, 0], bonds[:, 1]] = False
    close[bonds[:, 1], bonds[:, 0]] = False
    i, j = np.triu_indices(n, 1)
    keep = close[i, j]
    return np.stack([i[keep], j[keep]], axis=1)


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
    bonds = mol.bonds.reshape(-1, 2)
    bond_attr = np.repeat(mol.bond_features.reshape(-1, BOND_FEATURES), 2, axis=0)  # (2B, Fb)
    edge_index, edge_attr = pair_edges(bonds), bond_attr
    pos = None
    if geometry == "3d":
        if mol.conformers.shape[0] == 0:  # 2d_only: bond graph, zero coordinates
            pos = torch.zeros((n, 3), dtype=torch.float32)
        else:
            coords = mol.conformers[conformer]
            far = radius_pairs(coords, cutoff, bonds)
            far_attr = np.zeros((2 * len(far), BOND_FEATURES), np.float32)
            far_attr[:, 0] = 1.0
            edge_index = np.concatenate([edge_index, pair_edges(far)], axis=1)
            edge_attr = np.concatenate([edge_attr, far_attr])
            pos = torch.as_tensor(coords, dtype=torch.float32)
    y = None
    if targets is not None:
        y = torch.tensor([math.nan if t is None else t for t in targets], dtype=torch.float32)
    extra = {}
    if mol.descriptors.size:
        extra["descriptors"] = torch.as_tensor(mol.descriptors, dtype=torch.float32)
    return GraphBatch.single(
        x=torch.as_tensor(mol.atom_features, dtype=torch.float32).reshape(n, -1),
        edge_index=torch.as_tensor(edge_index, dtype=torch.long).reshape(2, -1),
        pos=pos,
        edge_attr=torch.as_tensor(edge_attr, dtype=torch.float32).reshape(-1, BOND_FEATURES),
        y=y,
        **extra,
    )


def conformer_count(mol: PreparedMolecule, geometry: str) -> int:
    return max(1, int(mol.conformers.shape[0])) if geometry == "3d" else 1
