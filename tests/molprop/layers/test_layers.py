"""Every stage through check_equivariance in float64 at the exact test elements."""

from __future__ import annotations

import pytest
import torch
from gdl_molprop.data.chem import ATOM_FEATURES, BOND_FEATURES, PrepSettings, prepare_smiles
from gdl_molprop.data.featurize import molecule_graph
from gdl_molprop.layers import (
    CartesianEncoding,
    DistanceEncoding,
    InvariantMessagePassing,
    MoleculeReadout,
    NodeState,
    NoGeometry,
    permute_state,
)

from gdl_science.graphs import GraphBatch
from gdl_science.symmetry import (
    E3Group,
    NodePermutationGroup,
    ProductGroup,
    check_equivariance,
    product_action,
    tolerance,
)

F64 = torch.float64
TOL = tolerance(F64)


@pytest.fixture(scope="module")
def batch() -> GraphBatch:
    smiles = ["CC(=O)Oc1ccccc1C(=O)O", "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "OCC1OC(O)C(O)C(O)C1O"]
    mols = [prepare_smiles(s, PrepSettings()) for s in smiles]
    return GraphBatch.collate([molecule_graph(m, 0, "3d", 5.0) for m in mols]).to("cpu", F64)


def _group(batch):
    return (
        ProductGroup(NodePermutationGroup(batch.batch), E3Group()),
        product_action(NodePermutationGroup.act_on_graph, E3Group.act_on_graph),
    )


def _state_out(state: NodeState):
    """Node features + edge features; edges keep their order under node relabelling."""
    return {"h": state.h, "edge": state.edge_feat}


def _permute_out(g, out):
    perm, _ = g
    return {"h": NodePermutationGroup.act_on_nodes(perm, out["h"]), "edge": out["edge"]}


def test_distance_encoding_is_invariant(batch):
    torch.manual_seed(0)
    enc = DistanceEncoding(ATOM_FEATURES, BOND_FEATURES, 16, 12, 5.0).to(F64)
    group, action = _group(batch)
    report = check_equivariance(lambda b: _state_out(enc(b)), group, batch, action, _permute_out)
    report.assert_equivariant(TOL)
    assert enc.in_type.atom_features == ATOM_FEATURES and str(enc.out_type) == "16x0e"


def test_cartesian_encoding_is_translation_but_not_rotation_invariant(batch):
    torch.manual_seed(0)
    enc = CartesianEncoding(ATOM_FEATURES, BOND_FEATURES, 16, 12, 5.0).to(F64)
    group, action = _group(batch)
    report = check_equivariance(lambda b: _state_out(enc(b)), group, batch, action, _permute_out)
    errors = {e.element: e.max_abs for e in report.per_element}
    translation = [v for k, v in errors.items() if "id" in k.split(",")[0] and "t=[3.0" in k]
    assert translation and max(translation) < TOL  # pure translation: exact
    assert report.max_abs > 1e-2  # rotations change the features: the un-tied baseline


def test_no_geometry_encoding_is_permutation_equivariant(batch):
    enc = NoGeometry(ATOM_FEATURES, BOND_FEATURES, 16, 12, 5.0).to(F64)
    flat = batch.replace(pos=None)
    perms = NodePermutationGroup(flat.batch)
    report = check_equivariance(
        lambda b: _state_out(enc(b)),
        perms,
        flat,
        NodePermutationGroup.act_on_graph,
        lambda p, out: _permute_out((p, None), out),
    )
    report.assert_equivariant(TOL)


def test_message_passing_is_permutation_equivariant(batch):
    torch.manual_seed(0)
    enc = DistanceEncoding(ATOM_FEATURES, BOND_FEATURES, 16, 12, 5.0).to(F64)
    state = enc(batch)
    layer = InvariantMessagePassing(16, enc.edge_features).to(F64)
    perms = NodePermutationGroup(state.batch)
    report = check_equivariance(
        lambda s: layer(s).h,
        perms,
        state,
        permute_state,
        lambda p, h: NodePermutationGroup.act_on_nodes(p, h),
    )
    report.assert_equivariant(TOL)
    assert layer.in_type == layer.out_type


def test_readout_is_permutation_invariant(batch):
    enc = DistanceEncoding(ATOM_FEATURES, BOND_FEATURES, 16, 12, 5.0).to(F64)
    state = enc(batch)
    for reduce in ("sum", "mean"):
        readout = MoleculeReadout(16, reduce)
        report = check_equivariance(
            readout, NodePermutationGroup(state.batch), state, permute_state
        )
        report.assert_equivariant(TOL)
        assert readout(state).shape == (3, 16)


def test_message_passing_uses_the_edges(batch):
    """A layer that ignored its neighbours would pass the symmetry test trivially."""
    torch.manual_seed(0)
    enc = DistanceEncoding(ATOM_FEATURES, BOND_FEATURES, 16, 12, 5.0).to(F64)
    state = enc(batch)
    layer = InvariantMessagePassing(16, enc.edge_features).to(F64)
    cut = NodeState(
        state.h, state.edge_index[:, :0], state.edge_feat[:0], state.batch, state.num_graphs
    )
    assert (layer(state).h - layer(cut).h).abs().max() > 1e-3
