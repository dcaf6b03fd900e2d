"""Prepared molecules -> one ``GraphBatch`` (for predict and check-symmetry).

Each molecule contributes one graph per conformer; ``owner`` maps graphs back to their
molecule, so a molecule's prediction can be the mean over its conformers.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice

import torch

from gdl_molprop.data.chem import PreparedMolecule
from gdl_molprop.data.featurize import conformer_count, molecule_graph
from gdl_molprop.data.pipeline import MoleculeSource, prepare_many
from gdl_molprop.data.readers import read_records
from gdl_molprop.data.settings import PrepSettings
from gdl_science.graphs import GraphBatch
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


def prepare_graphs(task, input_path: str | None, fallback: Sequence[str], limit: int) -> GraphBatch:
    """Up to ``limit`` valid molecules from ``input_path`` (or the fallback SMILES) as a
    batch, prepared with the task's own settings (first conformer of each)."""
    settings: PrepSettings = task.prep_settings
    if input_path is not None:
        smiles_column = task.hparams.get("smiles_column", "smiles")
        records = read_records(input_path, smiles_column, with_targets=False)
        sources = [r.source for r in islice(records, 4 * limit)]
    else:
        sources = [MoleculeSource(smiles=s) for s in fallback]
    mols = [m for m in prepare_many(sources, settings) if m.ok][:limit]
    if not mols:
        raise UserInputError(f"{input_path}: no valid molecule to check symmetry on")
    return GraphBatch.collate([molecule_graph(m, 0, task.geometry, task.cutoff) for m in mols])
