"""The whole network: S_N × E(3) invariance at float32/float64 tolerances; equal capacity.

Both architectures: ``hybrid`` (D-MPNN + radial, the default) and ``egnn`` (the first one).
"""

from __future__ import annotations

import pytest
import torch
from gdl_molprop.data.chem import DESCRIPTOR_NAMES, PrepSettings, prepare_smiles
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
ARCHS = ("hybrid", "egnn")


def _graphs(settings: PrepSettings) -> GraphBatch:
    mols = [prepare_smiles(s, settings) for s in SMILES]
    return GraphBatch.collate([molecule_graph(m, 0, "3d", 5.0) for m in mols])


@pytest.fixture(scope="module")
def batch() -> GraphBatch:
    return _graphs(PrepSettings(hydrogens=True))


@pytest.fixture(scope="module")
def heavy_batch() -> GraphBatch:
    """Heavy atoms, ETKDG without MMFF, RDKit descriptors: the default preparation."""
    return _graphs(PrepSettings(forcefield="none", embed_hydrogens=False, descriptors=True))


def _check(model, batch):
    group = ProductGroup(NodePermutationGroup(batch.batch), E3Group())
    action = product_action(NodePermutationGroup.act_on_graph, E3Group.act_on_graph)
    return check_equivariance(model, group, batch, action)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_equivariant_model_is_invariant(batch, dtype, arch):
    torch.manual_seed(0)
    model = MolPropNet(num_tasks=2, width=32, num_layers=3, architecture=arch).to(dtype).eval()
    report = _check(model, batch.to("cpu", dtype))
    report.assert_equivariant(tolerance(dtype))
    assert model(batch.to("cpu", dtype)).abs().max() > 1e-3  # non-trivial output


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_hybrid_with_descriptors_is_invariant(heavy_batch, dtype):
    torch.manual_seed(0)
    model = MolPropNet(num_tasks=2, width=32, readout="norm", descriptors=len(DESCRIPTOR_NAMES)).to(
        dtype
    )
    model.train()
    model(heavy_batch.to("cpu", dtype))  # running statistics of the descriptors
    model.eval()
    _check(model, heavy_batch.to("cpu", dtype)).assert_equivariant(tolerance(dtype))


@pytest.mark.parametrize("arch", ARCHS)
def test_none_mode_is_not_rotation_invariant(batch, arch):
    torch.manual_seed(0)
    model = MolPropNet(num_tasks=1, width=32, num_layers=2, equivariant=False, architecture=arch)
    assert _check(model.double(), batch.to("cpu", torch.float64)).max_abs > 1e-4


@pytest.mark.parametrize("arch", ARCHS)
def test_2d_model_is_permutation_invariant_without_coordinates(batch, arch):
    torch.manual_seed(0)
    model = MolPropNet(1, width=32, num_layers=2, geometry="2d", architecture=arch).double()
    flat = batch.to("cpu", torch.float64).replace(pos=None)
    report = check_equivariance(
        model, NodePermutationGroup(flat.batch), flat, NodePermutationGroup.act_on_graph
    )
    report.assert_equivariant(tolerance(torch.float64))


@pytest.mark.parametrize("arch", ARCHS)
def test_equal_capacity_across_modes_and_geometries(arch):
    counts = {
        (eq, geo): count_parameters(
            MolPropNet(1, width=32, num_layers=2, equivariant=eq, geometry=geo, architecture=arch)
        )
        for eq in (True, False)
        for geo in ("3d", "2d")
    }
    assert len(set(counts.values())) == 1, counts


def test_blueprint_reads_as_stages():
    assert MolPropNet(1, num_layers=2, architecture="egnn").blueprint.summary() == [
        ("encode", "linear"),
        ("interact0", "linear"),
        ("interact1", "linear"),
        ("readout", "invariant_pooling"),
        ("head", "head"),
    ]
    assert MolPropNet(1, radial_layers=2).blueprint.summary() == [
        ("stereo", "linear"),
        ("encode", "linear"),
        ("radial0", "linear"),
        ("radial1", "linear"),
        ("readout", "invariant_pooling"),
        ("head", "head"),
    ]
    assert ("chirality", "linear") in MolPropNet(1, chirality=True).blueprint.summary()
