"""RDKit preparation: every kind of bad molecule gets its status, good ones get conformers."""

from __future__ import annotations

import numpy as np
import pytest
from gdl_molprop.data import chem
from gdl_molprop.data.chem import ATOM_FEATURES, BOND_FEATURES, PrepSettings, prepare_smiles
from gdl_molprop.data.pipeline import MoleculeSource, prepare_many
from rdkit import Chem
from rdkit.Chem import AllChem

# ETKDG with hydrogens + MMFF, no 2D fallback: every failure mode shows as a status.
SETTINGS = PrepSettings(forcefield="mmff", embed_hydrogens=True, fallback_2d=False)


@pytest.mark.parametrize(
    ("smiles", "status", "note_part"),
    [
        ("C1CC", "invalid_smiles", "syntax"),
        ("N(C)(C)(C)(C)C", "invalid_smiles", "valence"),
        ("", "empty", "blank"),
        ("   ", "empty", "blank"),
        ("CCO ethanol", "invalid_smiles", "whitespace"),
    ],
)
def test_bad_molecules_get_a_status(smiles, status, note_part):
    mol = prepare_smiles(smiles, SETTINGS)
    assert mol.status == status
    assert note_part in mol.note
    assert mol.atom_features.shape[0] == 0


def test_good_molecule_features_and_a_real_conformer():
    mol = prepare_smiles("CC(=O)Oc1ccccc1C(=O)O", SETTINGS)  # aspirin, 13 heavy atoms
    assert mol.ok and "mmff" in mol.note
    assert mol.atom_features.shape == (13, ATOM_FEATURES)
    assert mol.bonds.shape == (13, 2) and mol.bond_features.shape == (13, BOND_FEATURES)
    conf = mol.conformers[0]
    assert conf.shape == (13, 3)
    # Bonded heavy atoms sit 1.2-1.6 Å apart in a force-field-optimised conformer.
    lengths = np.linalg.norm(conf[mol.bonds[:, 0]] - conf[mol.bonds[:, 1]], axis=1)
    assert lengths.min() > 1.15 and lengths.max() < 1.6
    # A 3D conformer, not a flat depiction: the phenyl ring is planar but the ester is not.
    assert np.linalg.svd(conf - conf.mean(0))[1][2] > 0.1


def test_hydrogens_option_keeps_explicit_hydrogens():
    mol = prepare_smiles("CCO", PrepSettings(hydrogens=True))
    assert mol.atom_features.shape[0] == 9 and mol.conformers.shape == (1, 9, 3)


def test_multiple_conformers_are_different():
    mol = prepare_smiles("CCCCCCO", PrepSettings(num_conformers=3))
    assert mol.conformers.shape[0] == 3
    assert np.abs(mol.conformers[0] - mol.conformers[1]).max() > 1e-3


def test_size_limit():
    mol = prepare_smiles("CCCCCCCCCC", PrepSettings(geometry="3d", max_heavy_atoms=5))
    assert mol.status == "too_large" and "10 heavy atoms > 5" in mol.note


def test_size_limit_is_for_embedding_only():
    """A bond graph (2d) of any size is cheap: large peptides stay predictable."""
    mol = prepare_smiles("CCCCCCCCCC", PrepSettings(geometry="2d", max_heavy_atoms=5))
    assert mol.ok and mol.atom_features.shape[0] == 10


def test_uff_fallback_when_mmff_lacks_parameters():
    mol = prepare_smiles("OB(O)c1ccccc1", SETTINGS)  # boron: no MMFF94 parameters
    assert mol.ok and "uff" in mol.note


def test_no_forcefield_status(monkeypatch):
    monkeypatch.setattr(AllChem, "MMFFHasAllMoleculeParams", lambda m: False)
    monkeypatch.setattr(AllChem, "UFFHasAllMoleculeParams", lambda m: False)
    assert prepare_smiles("CCO", SETTINGS).status == "no_forcefield"


def test_embedding_that_raises_is_caught(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("Invariant violation in embedder")

    monkeypatch.setattr(AllChem, "EmbedMultipleConfs", boom)
    mol = prepare_smiles("CCO", SETTINGS)
    assert mol.status == "embed_failed" and "Invariant violation" in mol.note


def test_embedding_retries_with_random_coordinates(monkeypatch):
    real = AllChem.EmbedMultipleConfs
    calls = []

    def flaky(mol, n, params):
        calls.append(params.useRandomCoords)
        return real(mol, n, params) if params.useRandomCoords else []

    monkeypatch.setattr(AllChem, "EmbedMultipleConfs", flaky)
    mol = prepare_smiles("CCO", PrepSettings(max_attempts=2))
    assert mol.ok and "random_coords" in mol.note
    assert calls == [False, False, True]


def test_embedding_failure_everywhere(monkeypatch):
    monkeypatch.setattr(AllChem, "EmbedMultipleConfs", lambda *a: [])
    assert prepare_smiles("CCO", SETTINGS).status == "embed_failed"


def test_2d_geometry_skips_conformers():
    mol = prepare_smiles("c1ccccc1O", PrepSettings(geometry="2d"))
    assert mol.ok and mol.conformers.shape[0] == 0 and mol.atom_features.shape[0] == 7


def test_sdf_3d_coordinates_are_used_as_given_and_2d_are_regenerated():
    m = Chem.AddHs(Chem.MolFromSmiles("CC(=O)O"))
    AllChem.EmbedMolecule(m, randomSeed=7)
    given = Chem.RemoveHs(m).GetConformer().GetPositions()
    out = prepare_many([MoleculeSource(molblock=Chem.MolToMolBlock(m))], SETTINGS)[0]
    assert out.ok and "coords_from_sdf" in out.note
    np.testing.assert_allclose(out.conformers[0], given, atol=1e-4)

    flat = Chem.MolFromSmiles("CC(=O)O")
    AllChem.Compute2DCoords(flat)
    out = prepare_many([MoleculeSource(molblock=Chem.MolToMolBlock(flat))], SETTINGS)[0]
    assert out.ok and "sdf_2d_regenerated" in out.note
    assert np.abs(out.conformers[0][:, 2]).max() > 1e-3 or out.conformers.shape[1] <= 3


def test_unreadable_sdf_record():
    out = prepare_many([MoleculeSource(molblock="garbage\n\n\n  1  0\nM  END\n")], SETTINGS)[0]
    assert out.status == "invalid_record"


def test_pool_preserves_order():
    smiles = ["CCO", "C1CC", "c1ccccc1", "", "CCN", "CCCl", "[Fe]", "CC=O"] * 2
    serial = prepare_many([MoleculeSource(smiles=s) for s in smiles], SETTINGS, workers=1)
    pooled = prepare_many([MoleculeSource(smiles=s) for s in smiles], SETTINGS, workers=2)
    assert [m.status for m in serial] == [m.status for m in pooled]
    assert [m.canonical_smiles for m in serial] == [m.canonical_smiles for m in pooled]
    for a, b in zip(serial, pooled):
        np.testing.assert_allclose(a.conformers, b.conformers)  # fixed seeds: reproducible


def test_statuses_are_the_documented_ones():
    assert set(chem.STATUSES) >= {
        "ok",
        "invalid_smiles",
        "empty",
        "embed_failed",
        "no_forcefield",
    }
    assert "unsupported_element" not in chem.STATUSES  # every element is featurised
