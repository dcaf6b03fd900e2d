"""Chirality: an enantiomer pair. With ``chirality`` (S_N × SE(3)) the model tells the two
apart; without it (S_N × E(3)) it cannot; both are exactly invariant to rotations,
translations and atom permutations, and check-symmetry names the group it checked."""

from __future__ import annotations

import pytest
import torch
from gdl_molprop.data.chem import prepare_smiles
from gdl_molprop.data.features import CIP_R, CIP_S
from gdl_molprop.data.featurize import molecule_graph
from gdl_molprop.data.settings import PrepSettings
from gdl_molprop.groups import SE3Group
from gdl_molprop.task import MolPropTask

from gdl_science.graphs import GraphBatch
from gdl_science.symmetry import E3Group

SETTINGS = PrepSettings()
# (S)-ibuprofen-like and (R)-2-butanol-like stereocentres
S_SMILES = ("C[C@H](C(=O)O)c1ccc(CC(C)C)cc1", "CC[C@H](C)O")
MIRROR = torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64))


def _task(chirality: bool) -> MolPropTask:
    torch.manual_seed(0)
    task = MolPropTask(chirality=chirality, width=32, head_hidden=32, radial_width=16, dropout=0.0)
    return task.double().eval()


def _pair() -> tuple[GraphBatch, GraphBatch]:
    """(the S molecules, their exact mirror images: coordinates mirrored, R <-> S)."""
    mols = [prepare_smiles(s, SETTINGS) for s in S_SMILES]
    batch = GraphBatch.collate([molecule_graph(m, 0, "3d", 5.0) for m in mols])
    batch = batch.to("cpu", torch.float64)
    x = batch.x.clone()
    x[:, [CIP_R, CIP_S]] = batch.x[:, [CIP_S, CIP_R]]
    return batch, batch.replace(x=x, pos=batch.pos @ MIRROR)


def test_the_mirror_image_is_the_other_enantiomer():
    s = prepare_smiles("CC[C@H](C)O", PrepSettings(geometry="2d")).atom_features
    r = prepare_smiles("CC[C@@H](C)O", PrepSettings(geometry="2d")).atom_features
    assert s[:, CIP_S].sum() == 1 and r[:, CIP_R].sum() == 1
    assert (s[:, CIP_R] == r[:, CIP_S]).all()


@pytest.mark.parametrize("chirality", [False, True])
def test_enantiomers_apart_only_with_chirality(chirality):
    task = _task(chirality)
    batch, mirrored = _pair()
    with torch.no_grad():
        gap = (task.predict_values(batch) - task.predict_values(mirrored)).abs().max().item()
    if chirality:
        assert gap > 1e-6, gap
    else:
        assert gap < 1e-10, gap


@pytest.mark.parametrize("chirality", [False, True])
def test_exactly_invariant_to_rotations_either_way(chirality):
    task = _task(chirality)
    batch, _ = _pair()
    with torch.no_grad():
        y = task.predict_values(batch)
        for g in SE3Group().test_elements():
            moved = E3Group.act_on_graph(g, batch)
            assert (task.predict_values(moved) - y).abs().max().item() < 1e-10
    report = task.check_symmetry(None, torch.float64)
    report.assert_equivariant(1e-10)


def test_check_symmetry_names_the_group():
    assert task_group(False) == "E(3)" and task_group(True) == "SE(3)"
    assert all(float(g.rotation.det()) > 0 for g in SE3Group().test_elements())
    assert len(SE3Group().test_elements()) >= 5


def task_group(chirality: bool) -> str:
    check = _task(chirality).symmetry_check(None, torch.float64)
    return check.group.factors[-1].name
