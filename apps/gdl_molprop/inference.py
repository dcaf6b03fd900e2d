"""Predicting with trained tasks on prepared molecules (shared by predict and check-symmetry).

Each molecule contributes one graph per conformer; a molecule's prediction is the mean
over its conformers (``num_conformers > 1`` gives conformer-averaged predictions).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice

import numpy as np
import torch

from gdl_molprop.data.chem import PreparedMolecule
from gdl_molprop.data.featurize import conformer_count, molecule_graph
from gdl_molprop.data.pipeline import MoleculeSource, prepare_many
from gdl_molprop.data.readers import read_records
from gdl_science.graphs import GraphBatch, scatter_mean
from gdl_science.io import UserInputError


def molecule_batch(
    mols: Sequence[PreparedMolecule], geometry: str, cutoff: float
) -> tuple[GraphBatch, torch.Tensor]:
    """All conformers of ``mols`` as one batch, and the molecule index of each graph (G,)."""
    graphs, owner = [], []
    for i, mol in enumerate(mols):
        for c in range(conformer_count(mol, geometry)):
            graphs.append(molecule_graph(mol, c, geometry, cutoff))
            owner.append(i)
    return GraphBatch.collate(graphs), torch.tensor(owner, dtype=torch.long)


@torch.no_grad()
def predict_molecules(
    tasks: Sequence, mols: Sequence[PreparedMolecule], device: torch.device | str = "cpu"
) -> np.ndarray:
    """(M, T, C) predictions of C checkpoints for M prepared (ok) molecules, in user units."""
    first = tasks[0]
    batch, owner = molecule_batch(mols, first.geometry, first.cutoff)
    batch = batch.to(device)
    out = []
    for task in tasks:
        values = task.predict_values(batch)  # (G, T)
        out.append(scatter_mean(values, owner.to(values.device), len(mols)).cpu())
    return torch.stack(out, dim=-1).numpy()


def prepare_graphs(task, input_path: str | None, fallback: Sequence[str], limit: int) -> GraphBatch:
    """Up to ``limit`` valid molecules from ``input_path`` (or the fallback SMILES) as a batch."""
    if input_path is not None:
        sources = [
            r.source
            for r in islice(
                read_records(
                    input_path, task.hparams.get("smiles_column", "smiles"), with_targets=False
                ),
                4 * limit,
            )
        ]
    else:
        sources = [MoleculeSource(smiles=s) for s in fallback]
    mols = [m for m in prepare_many(sources, task.prep_settings) if m.ok][:limit]
    if not mols:
        raise UserInputError(f"{input_path}: no valid molecule to check symmetry on")
    graphs = [molecule_graph(m, 0, task.geometry, task.cutoff) for m in mols]
    return GraphBatch.collate(graphs)
