"""The whole network: S_N × E(3) invariance at float32/float64 tolerances; equal capacity."""

from __future__ import annotations

import pytest
import torch
from gdl_molprop.data.chem import PrepSettings, prepare_smiles
from gdl_molprop.data.featurize import molecule_graph
from gdl_molprop.model import MolPropNet

from gdl_science.blueprint import count_parameters
from gdl_science.graphs import GraphBatch
from gdl_science.symmetry import (
    E3Group,
    NodePermutationGroup,
    ProductGroup,
    check_equivariance,
    product_action,
    tolerance,
)

SMILES = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "C[C@H](N)C(=O)O",
    "FC(F)(F)c1ccc(Cl)cc1Br",
    "CCO",
]


@pytest.fixture(scope="module")
def batch() -> GraphBatch:
    mols = [prepare_smiles(s, PrepSettings(hydrogens=True)) for s in SMILES]
    return GraphBatch.collate([molecule_graph(m, 0, "3d", 5.0) for m in mols])


def _check(model, batch):
    group = ProductGroup(NodePermutationGroup(batch.batch), E3Group())
    action = product_action(NodePermutationGroup.act_on_graph, E3Group.act_on_graph)
    return check_equivariance(model, group, batch, action)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_equivariant_model_is_invariant(batch, dtype):
    torch.manual_seed(0)
    model = MolPropNet(num_tasks=2, width=32, num_layers=3).to(dtype)
    report = _check(model, batch.to("cpu", dtype))
    report.assert_equivariant(tolerance(dtype))
    assert model(batch.to("cpu", dtype)).abs().max() > 1e-3  # non-trivial output


def test_none_mode_is_not_rotation_invariant(batch):
    torch.manual_seed(0)
    model = MolPropNet(num_tasks=1, width=32, num_layers=2, symmetry="none").double()
    assert _check(model, batch.to("cpu", torch.float64)).max_abs > 1e-4


def test_2d_model_is_permutation_invariant_without_coordinates(batch):
    torch.manual_seed(0)
    model = MolPropNet(num_tasks=1, width=32, num_layers=2, geometry="2d").double()
    flat = batch.to("cpu", torch.float64).replace(pos=None)
    report = check_equivariance(
        model, NodePermutationGroup(flat.batch), flat, NodePermutationGroup.act_on_graph
    )
    report.assert_equivariant(tolerance(torch.float64))


def test_equal_capacity_across_modes_and_geometries():
    counts = {
        (sym, geo): count_parameters(
            MolPropNet(1, width=32, num_layers=2, symmetry=sym, geometry=geo)
        )
        for sym in ("equivariant", "augment", "none")
        for geo in ("3d", "2d")
    }
    assert len(set(counts.values())) == 1, counts


def test_blueprint_reads_as_stages():
    model = MolPropNet(1, num_layers=2)
    assert model.blueprint.summary() == [
        ("encode", "linear"),
        ("interact0", "linear"),
        ("interact1", "linear"),
        ("readout", "invariant_pooling"),
        ("head", "head"),
    ]
