"""The conformer cache: a second run does no RDKit preparation work."""

from __future__ import annotations

import numpy as np
from gdl_molprop.data import pipeline
from gdl_molprop.data.cache import ConformerCache
from gdl_molprop.data.chem import PrepSettings
from gdl_molprop.data.pipeline import MoleculeSource, prepare_many


def test_second_run_is_served_from_the_cache(tmp_path, monkeypatch):
    settings = PrepSettings()
    sources = [MoleculeSource(smiles=s) for s in ["CCO", "c1ccccc1O", "[Fe]", "OC(=O)c1ccccc1"]]
    first = prepare_many(sources, settings, ConformerCache(tmp_path, settings))

    def no_rdkit_work(*args, **kwargs):
        raise AssertionError("prepare_mol called although the cache holds the molecule")

    monkeypatch.setattr(pipeline, "prepare_mol", no_rdkit_work)
    cache = ConformerCache(tmp_path, settings)
    second = prepare_many(sources, settings, cache)
    assert cache.hits == 4 and cache.misses == 0
    for a, b in zip(first, second):
        assert (a.status, a.note, a.canonical_smiles) == (b.status, b.note, b.canonical_smiles)
        np.testing.assert_array_equal(a.conformers, b.conformers)
        np.testing.assert_array_equal(a.atom_features, b.atom_features)


def test_key_is_canonical_smiles_and_settings(tmp_path):
    settings = PrepSettings()
    prepare_many([MoleculeSource(smiles="OCC")], settings, ConformerCache(tmp_path, settings))
    cache = ConformerCache(tmp_path, settings)
    prepare_many([MoleculeSource(smiles="C(O)C")], settings, cache)  # same molecule
    assert cache.hits == 1
    other = PrepSettings(num_conformers=2)
    cache2 = ConformerCache(tmp_path, other)
    prepare_many([MoleculeSource(smiles="CCO")], other, cache2)
    assert cache2.hits == 0 and cache2.misses == 1


def test_corrupt_entry_is_recomputed(tmp_path):
    settings = PrepSettings()
    cache = ConformerCache(tmp_path, settings)
    prepare_many([MoleculeSource(smiles="CCO")], settings, cache)
    for entry in tmp_path.rglob("*.npz"):
        entry.write_bytes(b"not a zip")
    cache = ConformerCache(tmp_path, settings)
    out = prepare_many([MoleculeSource(smiles="CCO")], settings, cache)
    assert out[0].ok and cache.misses == 1
