"""Salts: the parent molecule is the organic fragment (not the biggest counter-ion), it is
neutralised only when counter-ions were stripped, and scaffolds use the parent."""

from __future__ import annotations

import pytest
from gdl_molprop.data.chem import prepare_smiles
from gdl_molprop.data.settings import PrepSettings
from gdl_molprop.data.splits import scaffold_of
from gdl_molprop.data.standardize import parent_smiles
from rdkit import Chem

SETTINGS = PrepSettings(geometry="2d")


def _canon(smiles: str) -> str:
    return Chem.MolToSmiles(Chem.MolFromSmiles(smiles))


@pytest.mark.parametrize(
    ("salt", "parent"),
    [
        # sulfate (5 heavy atoms) beside ethylamine (3): the organic amine is the parent
        ("CCN.OS(=O)(=O)O", "CCN"),
        # a sodium carboxylate: the acid
        ("[Na+].[O-]C(=O)c1ccccc1", "OC(=O)c1ccccc1"),
        # a hydrochloride of a protonated amine: the free base
        ("Cl.CC(C)NCC(O)COc1cccc2ccccc12", "CC(C)NCC(O)COc1cccc2ccccc12"),
        ("[Cl-].CC(C)[NH2+]CC(O)COc1cccc2ccccc12", "CC(C)NCC(O)COc1cccc2ccccc12"),
        # a phosphate salt of a larger drug-like base
        ("OP(=O)(O)O.CN1CCC[C@H]1c1cccnc1", "CN1CCC[C@H]1c1cccnc1"),
    ],
)
def test_parent_of_a_salt(salt, parent):
    assert parent_smiles(salt) == _canon(parent)
    mol = prepare_smiles(salt, SETTINGS)
    free = prepare_smiles(parent, SETTINGS)
    assert mol.ok and "parent_fragment" in mol.note
    assert (mol.atom_features == free.atom_features).all()  # the same graph as the free base


def test_single_component_ions_keep_their_charges():
    assert parent_smiles("C[N+](C)(C)C") == "C[N+](C)(C)C"  # quaternary ammonium
    zwitterion = "C[C@H]([NH3+])C(=O)[O-]"
    assert parent_smiles(zwitterion) == _canon(zwitterion)
    assert prepare_smiles(zwitterion, SETTINGS).note == ""


def test_scaffold_of_a_salt_is_the_scaffold_of_its_free_base():
    base = "CN1CCC(CC1)c1ccc(cc1)S(=O)(=O)N1CCOCC1"
    for salt in (f"OS(=O)(=O)O.{base}", f"Cl.{base}", f"[Na+].[Cl-].{base}"):
        assert scaffold_of(salt) == scaffold_of(base) != ""
    # Before standardisation the sulfate won: a scaffold-free "scaffold" of its own.
    assert scaffold_of("OS(=O)(=O)O.CCN") == scaffold_of("CCN")


def test_standardize_false_keeps_every_fragment():
    """``standardize: false`` featurises the molecule as written (the counter-ion too)."""
    raw = prepare_smiles("CCN.OS(=O)(=O)O", PrepSettings(geometry="2d", standardize=False))
    assert raw.ok and raw.note == "" and raw.atom_features.shape[0] == 8  # 3 + 5 heavy atoms
    assert prepare_smiles("CCN.OS(=O)(=O)O", SETTINGS).atom_features.shape[0] == 3
