"""Every element RDKit parses is featurised: the organic table, else the "other" slot."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gdl_molprop.data.batching import molecule_batch
from gdl_molprop.data.chem import ATOM_FEATURES, PrepSettings, prepare_smiles
from gdl_molprop.data.features import ELEMENTS, OTHER_ELEMENT
from gdl_molprop.task import MolPropTask
from rdkit import Chem

# Drugs that the old table refused (ClinTox holds molecules like these).
METAL_DRUGS = {
    "Pt": "C1CC2(C1)C(=O)O[Pt]OC2=O",  # carboplatin, the metal bonded to its ligand
    "Gd": "[Gd](Cl)(Cl)Cl",  # gadolinium chloride
    "As": "O1[As]2O[As]1O2",  # arsenic trioxide
    "Au": "CCP(=[Au]SC1OC(CO)C(O)C(O)C1O)(CC)CC",  # an auranofin-like gold thiolate
}
BORTEZOMIB = "CC(C)C[C@H](NC(=O)[C@@H](Cc1ccccc1)NC(=O)c1cnccn1)B(O)O"  # boron: own slot


def element_column(mol, smiles: str, symbol: str) -> np.ndarray:
    """The one-hot element block (N, len(ELEMENTS) + 1) of the atoms of ``symbol``."""
    atoms = Chem.MolFromSmiles(smiles).GetAtoms()
    rows = [a.GetIdx() for a in atoms if a.GetSymbol() == symbol]
    return mol.atom_features[rows, : len(ELEMENTS) + 1]


@pytest.mark.parametrize("symbol", sorted(METAL_DRUGS))
def test_metal_lands_in_the_other_slot(symbol):
    smiles = METAL_DRUGS[symbol]
    mol = prepare_smiles(smiles, PrepSettings(geometry="2d"))
    assert mol.ok, mol.note
    assert f"other_element({symbol})" in mol.note
    block = element_column(mol, smiles, symbol)
    assert len(block) and (block[:, OTHER_ELEMENT] == 1).all() and (block.sum(1) == 1).all()
    assert mol.atom_features.shape[1] == ATOM_FEATURES


def test_boron_has_its_own_slot():
    mol = prepare_smiles(BORTEZOMIB, PrepSettings(geometry="2d"))
    block = element_column(mol, BORTEZOMIB, "B")
    assert mol.ok and "other_element" not in mol.note
    assert block[0, ELEMENTS.index("B")] == 1 and block[0, OTHER_ELEMENT] == 0


def test_metal_drugs_are_predicted_by_a_network():
    settings = PrepSettings(geometry="2d")
    mols = [prepare_smiles(s, settings) for s in [*METAL_DRUGS.values(), BORTEZOMIB]]
    task = MolPropTask(
        task_type="classification", width=16, head_hidden=16, prep=settings.as_hparams()
    )
    batch, _ = molecule_batch(mols, "2d", 5.0)
    with torch.no_grad():
        p = task.eval().predict_values(batch)
    assert p.shape == (len(mols), 1) and torch.isfinite(p).all()


@pytest.mark.parametrize("fallback", [True, False])
def test_3d_path_gives_a_status_not_a_crash(fallback):
    settings = PrepSettings(geometry="3d", fallback_2d=fallback)
    for smiles in METAL_DRUGS.values():
        mol = prepare_smiles(smiles, settings)
        assert mol.status in {"ok", "embed_failed"}, (smiles, mol.status, mol.note)
        if mol.ok and mol.conformers.shape[0] == 0:
            assert "2d_only" in mol.note  # kept as a bond graph, and says so
        if not fallback and not mol.ok:
            assert mol.note  # the reason
