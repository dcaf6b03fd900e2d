"""D-MPNN over directed bonds and the radial interaction: reference maths, invariances."""

from __future__ import annotations

import torch
from gdl_molprop.data.chem import ATOM_FEATURES, BOND_FEATURES, PrepSettings, prepare_smiles
from gdl_molprop.data.featurize import molecule_graph
from gdl_molprop.layers import DirectedBondEncoder, RadialInteraction, permute_state
from gdl_molprop.layers.dmpnn import bond_edges

from gdl_science.graphs import GraphBatch
from gdl_science.symmetry import NodePermutationGroup

F64 = torch.float64
SETTINGS = PrepSettings(forcefield="none", embed_hydrogens=False)


def _batch(*smiles: str) -> GraphBatch:
    graphs = [molecule_graph(prepare_smiles(s, SETTINGS), 0, "3d", 5.0) for s in smiles]
    return GraphBatch.collate(graphs).to("cpu", F64)


def _reference(enc: DirectedBondEncoder, g: GraphBatch) -> torch.Tensor:
    """D-MPNN written edge by edge, with the reverse edge found by search."""
    sel = bond_edges(g).tolist()
    edges = [tuple(g.edge_index[:, e].tolist()) for e in sel]
    attr = g.edge_attr[sel]
    h0 = torch.stack([enc.w_i(torch.cat([g.x[v], attr[k]])) for k, (v, _) in enumerate(edges)])
    h = torch.relu(h0)
    for _ in range(enc.depth - 1):
        new = []
        for k, (v, w) in enumerate(edges):
            into = [h[j] for j, (a, b) in enumerate(edges) if b == v and a != w]
            m = sum(into, torch.zeros_like(h[0]))
            new.append(torch.relu(h0[k] + enc.w_h(m)))
        h = torch.stack(new)
    atoms = []
    for v in range(g.num_nodes):
        m = sum((h[j] for j, (_, b) in enumerate(edges) if b == v), torch.zeros_like(h[0]))
        atoms.append(torch.relu(enc.w_o(torch.cat([g.x[v], m]))))
    return torch.stack(atoms)


def test_edges_come_in_reverse_pairs():
    g = _batch("CC(=O)Oc1ccccc1C(=O)O", "CCO", "c1ccncc1")
    src, dst = g.edge_index
    assert g.edge_index.shape[1] % 2 == 0
    assert torch.equal(src[0::2], dst[1::2]) and torch.equal(dst[0::2], src[1::2])
    # bond pairs first, then radius pairs, within each molecule
    assert g.edge_attr[bond_edges(g), 0].eq(0).all()


def test_dmpnn_matches_edge_by_edge_reference():
    torch.manual_seed(0)
    g = _batch("CC(=O)Oc1ccccc1C(=O)O", "CC#N")
    enc = DirectedBondEncoder(ATOM_FEATURES, BOND_FEATURES, 8, depth=3, dropout=0.0).to(F64)
    torch.testing.assert_close(enc(g).h, _reference(enc, g))


def test_dmpnn_and_radial_are_permutation_equivariant():
    torch.manual_seed(0)
    g = _batch("CC(=O)Oc1ccccc1C(=O)O", "FC(F)(F)c1ccc(Cl)cc1Br")
    enc = DirectedBondEncoder(ATOM_FEATURES, BOND_FEATURES, 16, depth=3, dropout=0.0).to(F64)
    radial = RadialInteraction(16, 12, 5.0).to(F64)
    perm = NodePermutationGroup(g.batch).sample(torch.Generator().manual_seed(1))
    moved = NodePermutationGroup.act_on_graph(perm, g)
    expected = permute_state(perm, radial(enc(g)))
    torch.testing.assert_close(radial(enc(moved)).h, expected.h)


def test_2d_only_molecule_gets_no_geometric_message():
    torch.manual_seed(0)
    mol = prepare_smiles("CCO", SETTINGS)
    flat = molecule_graph(
        type(mol)(**{**mol.__dict__, "conformers": mol.conformers[:0]}), 0, "3d", 5.0
    ).to("cpu", F64)
    assert flat.pos.abs().sum() == 0 and flat.edge_attr[:, 0].eq(0).all()  # bonds only
    enc = DirectedBondEncoder(ATOM_FEATURES, BOND_FEATURES, 8, depth=2, dropout=0.0).to(F64)
    radial = RadialInteraction(8, 12, 5.0).to(F64)
    state = enc(flat)
    moved = state.replace_h(state.h)
    moved.pos = state.pos + 3.0  # translating zeros changes nothing either
    torch.testing.assert_close(radial(state).h, radial(moved).h)
    no_geometry = radial.norm(state.h + radial.w_2(torch.zeros(1, 64, dtype=F64)))
    torch.testing.assert_close(radial(state).h, no_geometry)
