"""On-disk cache of prepared molecules, keyed by canonical SMILES + preparation settings.

Conformer generation is the slow part of the app (about 10 ms per molecule for
ETKDGv3 + MMFF, far more for large flexible ones), so a second run over the same data,
or a predict on molecules seen in training, re-uses the stored result. Layout::

    <root>/<settings hash>/settings.json
    <root>/<settings hash>/<sha1(canonical SMILES)[:2]>/<sha1>.npz

Each entry is a numpy ``.npz`` (read with ``allow_pickle=False``: a cache file can never
run code), written to a temporary name and renamed, so concurrent workers and crashed
runs never leave a half-written entry. Failures are cached too: a SMILES that failed
to embed fails quickly the next time.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from gdl_molprop.data.chem import PreparedMolecule
from gdl_molprop.data.settings import PrepSettings

DEFAULT_CACHE_ENV = "GDL_MOLPROP_CACHE"


def default_cache_dir() -> Path:
    """``$GDL_MOLPROP_CACHE``, else ``$XDG_CACHE_HOME/gdl-science/molprop`` (~/.cache/...)."""
    env = os.environ.get(DEFAULT_CACHE_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gdl-science" / "molprop"


class ConformerCache:
    """get/put of PreparedMolecule by canonical SMILES for one PrepSettings."""

    def __init__(self, root: str | Path, settings: PrepSettings) -> None:
        self.folder = Path(root) / settings.key()
        self.folder.mkdir(parents=True, exist_ok=True)
        meta = self.folder / "settings.json"
        if not meta.exists():
            meta.write_text(json.dumps(asdict(settings), indent=1, sort_keys=True))
        self.hits = 0
        self.misses = 0

    def _path(self, canonical_smiles: str) -> Path:
        digest = hashlib.sha1(canonical_smiles.encode()).hexdigest()
        return self.folder / digest[:2] / f"{digest}.npz"

    def get(self, canonical_smiles: str) -> PreparedMolecule | None:
        path = self._path(canonical_smiles)
        if not path.exists():
            self.misses += 1
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["canonical_smiles"]) != canonical_smiles:  # sha1 collision guard
                    self.misses += 1
                    return None
                mol = PreparedMolecule(
                    status=str(z["status"]),
                    note=str(z["note"]),
                    canonical_smiles=canonical_smiles,
                    atom_features=z["atom_features"],
                    bonds=z["bonds"],
                    bond_features=z["bond_features"],
                    conformers=z["conformers"],
                    descriptors=z["descriptors"],
                )
        except (OSError, ValueError, KeyError):  # a corrupt entry is recomputed
            self.misses += 1
            return None
        self.hits += 1
        return mol

    def put(self, mol: PreparedMolecule) -> None:
        path = self._path(mol.canonical_smiles)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".entry.", suffix=".npz", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh,
                    status=np.asarray(mol.status),
                    note=np.asarray(mol.note),
                    canonical_smiles=np.asarray(mol.canonical_smiles),
                    atom_features=mol.atom_features,
                    bonds=mol.bonds,
                    bond_features=mol.bond_features,
                    conformers=mol.conformers,
                    descriptors=mol.descriptors,
                )
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
