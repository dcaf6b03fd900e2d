"""Stereo features: CIP R/S on atoms and E/Z on bonds, independent of how the SMILES is
written (the atom order), and swapped R <-> S for the mirror image."""

from __future__ import annotations

from gdl_molprop.data.chem import prepare_smiles
from gdl_molprop.data.features import CIP_R, CIP_S
from gdl_molprop.data.settings import PrepSettings

SETTINGS = PrepSettings(geometry="2d")
E_COLUMN, Z_COLUMN = -2, -1


def _stereo_counts(smiles: str) -> tuple[int, int]:
    x = prepare_smiles(smiles, SETTINGS).atom_features
    return int(x[:, CIP_R].sum()), int(x[:, CIP_S].sum())


def test_r_and_s_do_not_depend_on_the_atom_order():
    # L-alanine written two ways: opposite CW/CCW tags, the same CIP label (S)
    assert _stereo_counts("C[C@H](N)C(=O)O") == (0, 1)
    assert _stereo_counts("N[C@@H](C)C(=O)O") == (0, 1)
    assert _stereo_counts("C[C@@H](N)C(=O)O") == (1, 0)  # D-alanine
    assert _stereo_counts("CC(N)C(=O)O") == (0, 0)  # unspecified


def test_unknown_configuration_is_flagged():
    x = prepare_smiles("CC(N)C(=O)O", SETTINGS).atom_features
    assert x[:, CIP_S + 1].sum() == 0  # no tag: not a known stereocentre either
    assert x.shape == prepare_smiles("C[C@H](N)C(=O)O", SETTINGS).atom_features.shape


def test_e_and_z_bonds():
    e = prepare_smiles("C/C=C/C", SETTINGS).bond_features
    z = prepare_smiles("C/C=C\\C", SETTINGS).bond_features
    plain = prepare_smiles("CC=CC", SETTINGS).bond_features
    assert e[:, E_COLUMN].sum() == 1 and e[:, Z_COLUMN].sum() == 0
    assert z[:, Z_COLUMN].sum() == 1 and z[:, E_COLUMN].sum() == 0
    assert plain[:, E_COLUMN:].sum() == 0
