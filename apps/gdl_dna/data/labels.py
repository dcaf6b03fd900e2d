"""Labels: label tables for FASTA input, task kinds, and raw strings -> target arrays.

Kinds: ``binary`` (one sigmoid per label column: binary and multi-label), ``multiclass``
(one column of class names -> softmax), ``regression`` (numbers). Missing cells
("", NA, nan, ., ?) are masked in the loss and metrics: NaN for binary/regression
targets, -1 for multiclass.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gdl_dna.data.records import SequenceRecord
from gdl_science.io import UserInputError, delimiter_for, open_text

MISSING = {"", "na", "nan", "none", ".", "?"}
TASK_KINDS = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class LabelSpec:
    kind: str  # one of TASK_KINDS
    names: list[str]  # label columns
    classes: list[str]  # multiclass only: class names in output order

    @property
    def n_outputs(self) -> int:
        return len(self.classes) if self.kind == "multiclass" else len(self.names)

    def output_names(self) -> list[str]:
        """Prediction column stems: one per label, or one per class."""
        if self.kind == "multiclass":
            return [f"{self.names[0]}_{c}" for c in self.classes]
        return list(self.names)


def read_label_table(path: str | Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    """(label columns, id -> {column: value}) from a TSV/CSV keyed by an ``id`` column."""
    name = Path(path).name
    with open_text(path, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter_for(path))
        header = next(reader, None)
        if not header:
            raise UserInputError(f"{path}: empty label table")
        header = [h.strip() for h in header]
        if "id" not in header:
            raise UserInputError(
                f"{path}: label table has no 'id' column; columns found: {', '.join(header)}"
            )
        id_col = header.index("id")
        cols = [(i, h) for i, h in enumerate(header) if h not in ("id", "split")]
        table: dict[str, dict[str, str]] = {}
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise UserInputError(
                    f"{name} line {line_no}: {len(row)} fields, header has {len(header)}"
                )
            rid = row[id_col].strip()
            if rid in table:
                raise UserInputError(f"{name} line {line_no}: duplicate id {rid!r}")
            table[rid] = {h: row[i].strip() for i, h in cols}
            if "split" in header:
                table[rid]["__split__"] = row[header.index("split")].strip()
    return [h for _, h in cols], table


def attach_labels(records: list[SequenceRecord], label_path: str | Path) -> list[str]:
    """Give FASTA records their labels from a table keyed by id; every id must be there."""
    names, table = read_label_table(label_path)
    missing = [r.id for r in records if r.id not in table]
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise UserInputError(f"{label_path}: no labels for {len(missing)} record id(s): {shown}")
    for r in records:
        row = dict(table[r.id])
        r.split = row.pop("__split__", r.split)
        r.labels = row
    return names


def _is_missing(value: str) -> bool:
    return value.strip().lower() in MISSING


def _as_float(value: str) -> float | None:
    try:
        out = float(value)
    except ValueError:
        return None
    return out if math.isfinite(out) else None


def infer_kind(records: Sequence[SequenceRecord], names: Sequence[str]) -> str:
    """binary if every value is 0/1, regression if numeric, multiclass for one text column.

    A column that mixes numbers and text (a 0/1 column with one ``yes``) is an error
    naming the first record whose value differs from the rest, never a silent
    multiclass task; numeric class ids need ``--data.task_type multiclass``."""
    for n in names:
        numeric = [
            _as_float(r.labels[n]) is not None for r in records if not _is_missing(r.labels[n])
        ]
        if any(numeric) and not all(numeric):
            odd = not (sum(numeric) > len(numeric) / 2)  # the minority kind is the odd one
            culprit = next(
                r for r in records
                if not _is_missing(r.labels[n]) and (_as_float(r.labels[n]) is not None) == odd
            )  # fmt: skip
            kind = "a number" if odd else "text"
            raise UserInputError(
                f"{culprit.describe()}: label {culprit.labels[n]!r} in column {n!r} is {kind} "
                f"where the column's other values are {'text' if odd else 'numbers'}; fix it "
                "or set --data.task_type"
            )
    values = {r.labels[n] for r in records for n in names if not _is_missing(r.labels[n])}
    if values <= {"0", "1", "0.0", "1.0"}:
        return "binary"
    if all(_as_float(v) is not None for v in values):
        return "regression"
    if len(names) == 1:
        return "multiclass"
    raise UserInputError(
        f"cannot infer the task from label columns {', '.join(names)}: they mix text and "
        "numbers; set --data.task_type"
    )


def build_targets(
    records: Sequence[SequenceRecord], names: Sequence[str], kind: str, classes: Sequence[str] = ()
) -> tuple[np.ndarray, list[str]]:
    """(targets, classes): float32 (N, T) with NaN for missing, or int64 (N,) with -1."""
    if kind == "multiclass":
        if len(names) != 1:
            raise UserInputError(
                f"multiclass needs exactly one label column, got {', '.join(names)}"
            )
        col = names[0]
        classes = list(classes) or sorted(
            {r.labels[col] for r in records if not _is_missing(r.labels[col])}
        )
        index = {c: i for i, c in enumerate(classes)}
        y = np.full(len(records), -1, dtype=np.int64)
        for i, r in enumerate(records):
            v = r.labels[col]
            if not _is_missing(v):
                if v not in index:
                    raise UserInputError(f"{r.describe()}: unknown class {v!r} in column {col!r}")
                y[i] = index[v]
        return y, classes
    y = np.full((len(records), len(names)), np.nan, dtype=np.float32)
    for i, r in enumerate(records):
        for j, n in enumerate(names):
            v = r.labels[n]
            if _is_missing(v):
                continue
            number = _as_float(v)
            if number is None:
                raise UserInputError(
                    f"{r.describe()}: non-numeric {kind} label {v!r} in column {n!r}"
                )
            if kind == "binary" and number not in (0.0, 1.0):
                raise UserInputError(
                    f"{r.describe()}: binary label must be 0 or 1, got {v!r} in {n!r}"
                )
            y[i, j] = number
    return y, []
