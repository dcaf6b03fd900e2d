"""Salt bits: what standardisation removed, as molecule-level features at the readout."""

from __future__ import annotations

import pytest
import torch
from gdl_molprop.data.batching import molecule_batch
from gdl_molprop.data.chem import PrepSettings, molecule_feature_count, prepare_smiles
from gdl_molprop.data.standardize import SALT_FEATURES, parent_molecule, salt_features
from gdl_molprop.task import MolPropTask
from rdkit import Chem


def bits(smiles: str) -> set[str]:
    mol = Chem.MolFromSmiles(smiles)
    parent, _ = parent_molecule(mol)
    values = salt_features(mol, parent)
    assert set(values.tolist()) <= {0.0, 1.0}
    return {name for name, v in zip(SALT_FEATURES, values) if v}


@pytest.mark.parametrize(
    ("smiles", "expected"),
    [
        ("CCO", set()),  # one fragment: nothing removed
        ("CCN.OS(=O)(=O)O", {"salt"}),  # sulfate: inorganic, not a halide, not a metal
        ("CC(=O)[O-].[Na+]", {"salt", "uncharged", "metal_counterion"}),  # sodium salt
        ("CCCN.Cl", {"salt", "halide_counterion"}),  # hydrochloride
        ("CCCCN.O", {"salt", "hydrate"}),
        ("CCCCCCN.OC(=O)/C=C\\C(=O)O", {"salt", "organic_counterion"}),  # maleate
        ("C[N+](C)(C)CCCC.[Cl-]", {"salt", "halide_counterion", "charged_parent"}),
        ("C1CC(C1)(C(=O)O)C(=O)O.N.N.[Pt]", {"salt", "metal_counterion"}),  # Pt drawn apart
    ],
)
def test_salt_bits(smiles, expected):
    assert bits(smiles) == expected


def test_salt_bits_reach_the_network_and_the_parent_is_featurised():
    settings = PrepSettings(geometry="2d", salt_features=True)
    salt, base = (prepare_smiles(s, settings) for s in ["CCCN.Cl", "CCCN"])
    assert molecule_feature_count(settings) == len(SALT_FEATURES)
    assert salt.descriptors.shape == (len(SALT_FEATURES),) and base.descriptors.sum() == 0
    assert (salt.atom_features == base.atom_features).all()  # the same parent graph
    task = MolPropTask(width=16, head_hidden=16, prep=settings.as_hparams())
    batch, _ = molecule_batch([salt, base], "2d", 5.0)
    with torch.no_grad():
        out = task.eval()(batch)
    assert out.shape == (2, 1) and out[0] != out[1]  # only the salt bits differ


def test_without_the_option_nothing_is_added():
    mol = prepare_smiles("CCCN.Cl", PrepSettings(geometry="2d"))
    assert mol.descriptors.shape == (0,)
