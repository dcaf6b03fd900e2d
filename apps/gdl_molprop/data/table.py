"""The training table: read the file(s), check the targets, assign train/val/test.

Cheap (no RDKit 3D work), so the data module runs it lazily the first time the CLI links
ask for task names or target scaling. The test-file policy lives here: a separate test
file is the test set (``path`` is then split into train/val only), except under k-fold
cross-validation, where the folds are the test sets and a test file would mix two
protocols (it is then ignored).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gdl_molprop.data.quality import report_duplicates, report_non_numeric
from gdl_molprop.data.readers import (
    NON_NUMERIC,
    MolRecord,
    input_format,
    numeric_properties,
    read_records,
    target_names_csv,
)
from gdl_molprop.data.splits import assign_splits
from gdl_science.io import UserInputError


@dataclass
class TableOptions:
    """What the data module passes on (see ``MolPropDataModule`` for each argument)."""

    smiles_column: str = "smiles"
    task_type: str = "regression"
    split: str = "random"
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    num_folds: int = 0
    fold: int = 0
    limit: int | None = None
    seed: int = 0


@dataclass
class Table:
    records: list[MolRecord]  # training file rows, then test file rows
    names: list[str]  # target names
    assign: list[int]  # 0 train, 1 val, 2 test per record
    non_numeric_rows: int  # rows with a text target cell (masked)
    conflicting_duplicates: int  # molecules listed twice with different targets


def _unit(path: str) -> str:
    return "record" if str(path).lower().endswith(".sdf") else "line"


def _read(path: str, opts: TableOptions, targets: list[str] | None) -> list[MolRecord]:
    records = []
    for rec in read_records(path, opts.smiles_column, targets):
        records.append(rec)
        if opts.limit is not None and len(records) >= opts.limit:
            break
    if not records:
        raise UserInputError(f"{path}: no records")
    return records


def _infer_names(path: str, opts: TableOptions, records: list[MolRecord]) -> list[str]:
    if input_format(path) == "csv":
        return target_names_csv(path, opts.smiles_column, None)
    return numeric_properties({k: v for k, v in records[0].columns.items() if k != "id"})


def check_classification(records: list[MolRecord], names: list[str], path: str) -> None:
    """Binary targets must be 0, 1 or blank. A text cell (``yes``, ``active``) is an error
    here, not a masked cell as in regression: it is a label the user meant, and masking it
    would silently change the class balance."""
    for r in records:
        for note in r.notes:
            if note.startswith(NON_NUMERIC):
                raise UserInputError(
                    f"{path} {_unit(path)} {r.line}: classification targets must be 0 or 1 "
                    f"(blank = missing); {note}"
                )
        for name, v in zip(names, r.targets):
            if not math.isnan(v) and v not in (0.0, 1.0):
                raise UserInputError(
                    f"{path} {_unit(path)} {r.line}: classification target {name!r} must be "
                    f"0 or 1 (blank = missing), got {v:g}"
                )


def _smiles_of_block(block: str | None) -> str:
    """SMILES of an SDF record for scaffold grouping ("" if unreadable)."""
    from rdkit import Chem

    mol = Chem.MolFromMolBlock(block or "", sanitize=True) if block else None
    return Chem.MolToSmiles(mol) if mol is not None else ""


def load_table(
    path: str, test_path: str | None, targets: list[str] | None, opts: TableOptions
) -> Table:
    records = _read(path, opts, targets)
    names = list(targets) if targets is not None else _infer_names(path, opts, records)
    use_test_file = test_path is not None and opts.num_folds <= 1
    test_records = _read(test_path, opts, names) if use_test_file else []
    if opts.task_type == "classification":
        check_classification(records, names, path)
        check_classification(test_records, names, str(test_path))
    all_records = records + test_records
    non_numeric = report_non_numeric(all_records, str(path))
    duplicates = report_duplicates(all_records, str(path))
    unit = _unit(path)
    assign = assign_splits(
        smiles=[r.source.smiles or _smiles_of_block(r.source.molblock) for r in records],
        split_labels=[r.split for r in records],
        where=[f"{path} {unit} {r.line}" for r in records],
        strategy=opts.split,
        val_fraction=opts.val_fraction,
        test_fraction=0.0 if use_test_file else opts.test_fraction,
        seed=opts.seed,
        num_folds=opts.num_folds,
        fold=opts.fold,
    )
    assign += [2] * len(test_records)
    return Table(all_records, names, assign, non_numeric, duplicates)
