"""Readers of the three input formats: CSV/TSV with a SMILES column, SDF, and ``.smi``.

Each reader is a lazy iterator of ``MolRecord`` (constant memory, so predict streams
files of any size). File-level problems (missing SMILES column, missing target column)
raise ``UserInputError`` naming the file and line. A target cell holding text (``>10``,
``high``) is not a reason to drop a whole data set: it is masked like a blank cell and
the record carries the note ``non-numeric target`` (counted on stderr by the data
module). Molecule-level problems are left to preparation, which turns them into a
per-row status.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gdl_molprop.data.pipeline import MoleculeSource
from gdl_science.io import UserInputError, delimiter_for

ID_COLUMNS = ("id", "ID", "name", "Name", "Compound ID", "compound_id", "mol_id")
SPLIT_COLUMN = "split"
MISSING = {"", "nan", "na", "n/a", "none", "null"}  # blank-like cells: a missing target


@dataclass
class MolRecord:
    """One input row. ``line`` is the 1-based line (CSV, .smi) or record number (SDF)."""

    line: int
    id: str
    source: MoleculeSource
    targets: list[float] = field(default_factory=list)  # NaN where missing
    columns: dict[str, str] = field(default_factory=dict)  # the row as read, for predict
    split: str | None = None
    notes: list[str] = field(default_factory=list)  # e.g. non-numeric target 'y'='high'


def input_format(path: str | Path) -> str:
    name = Path(path).name.lower()
    if name.endswith(".sdf"):
        return "sdf"
    if name.endswith((".smi", ".smiles")):
        return "smi"
    if name.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    raise UserInputError(f"{path}: unknown input format (use .csv, .tsv, .sdf or .smi)")


NON_NUMERIC = "non-numeric target"


class NonNumericTarget(UserInputError):
    """A target cell with text that is not a number (the readers mask it with a note)."""


def parse_target(text: str, path: str | Path, line: int, column: str) -> float:
    """A target cell -> float; blank-like cells are NaN (masked), text raises
    ``NonNumericTarget`` (which the readers turn into a masked cell with a note)."""
    value = text.strip()
    if value.lower() in MISSING:
        return math.nan
    try:
        number = float(value)
    except ValueError:
        raise NonNumericTarget(
            f"{path} line {line}: target column {column!r} has non-numeric value {value!r}"
        ) from None
    if math.isinf(number):
        raise UserInputError(f"{path} line {line}: target column {column!r} is infinite")
    return number


def parse_targets(
    cells: Sequence[str], columns: Sequence[str], path: str | Path, line: int
) -> tuple[list[float], list[str]]:
    """The target cells of one record -> (values with NaN where missing or text, notes)."""
    values, notes = [], []
    for cell, column in zip(cells, columns):
        try:
            values.append(parse_target(cell, path, line, column))
        except NonNumericTarget:
            values.append(math.nan)
            notes.append(f"{NON_NUMERIC} {column!r}={cell.strip()!r}")
    return values, notes


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_csv(
    path: str | Path,
    smiles_column: str = "smiles",
    targets: Sequence[str] | None = None,
    with_targets: bool = True,
) -> Iterator[MolRecord]:
    """Rows of a CSV/TSV. ``targets=None`` picks every numeric column except id/split."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: file not found")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter_for(path))
        columns = reader.fieldnames or []
        if smiles_column not in columns:
            raise UserInputError(
                f"{path} line 1: no SMILES column {smiles_column!r}; columns found: "
                + ", ".join(repr(c) for c in columns)
            )
        id_column = next((c for c in ID_COLUMNS if c in columns), None)
        target_columns: list[str] = []
        if with_targets:
            target_columns = list(targets) if targets is not None else []
            missing = [c for c in target_columns if c not in columns]
            if missing:
                raise UserInputError(
                    f"{path} line 1: target column(s) {missing} not found; columns found: "
                    + ", ".join(repr(c) for c in columns)
                )
        first = True
        for row in reader:
            line = reader.line_num
            error = None
            if None in row:  # more cells than header fields
                if with_targets:
                    raise UserInputError(f"{path} line {line}: more fields than the header has")
                error = f"{len(columns) + len(row[None])} fields, the header has {len(columns)}"
                del row[None]
            if first and with_targets and targets is None:
                target_columns = target_names_csv(path, smiles_column, None)
                if not target_columns:
                    raise UserInputError(
                        f"{path} line {line}: no numeric target column found; name them "
                        "with --data.targets"
                    )
            first = False
            smiles = row.get(smiles_column) or ""
            cells = [row.get(c) or "" for c in target_columns]
            values, notes = parse_targets(cells, target_columns, path, line)
            yield MolRecord(
                line=line,
                id=(row.get(id_column) or "").strip() if id_column else str(line),
                source=MoleculeSource(smiles=smiles, error=error),
                targets=values,
                columns={k: (v if v is not None else "") for k, v in row.items()},
                split=(row.get(SPLIT_COLUMN) or "").strip() or None,
                notes=notes,
            )


def target_names_csv(
    path: str | Path, smiles_column: str, targets: Sequence[str] | None, scan_rows: int = 1000
) -> list[str]:
    """The target columns ``read_csv`` uses: as given, or every column other than
    smiles/id/split whose first non-blank cell (within ``scan_rows`` rows) is a number.
    Blank cells are missing targets, so a blank first row does not hide a column; a later
    non-numeric cell in a target column is then an error naming its line."""
    if targets is not None:
        return list(targets)
    path = Path(path)
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter_for(path))
        columns = reader.fieldnames or []
        id_column = next((c for c in ID_COLUMNS if c in columns), None)
        skip = {smiles_column, id_column, SPLIT_COLUMN}
        decided: dict[str, bool] = {}  # column -> its first non-blank cell is a number
        undecided = [c for c in columns if c not in skip]
        for i, row in enumerate(reader):
            if i >= scan_rows or not undecided:
                break
            for c in list(undecided):
                cell = (row.get(c) or "").strip()
                if cell.lower() not in MISSING:
                    decided[c] = _looks_numeric(cell)
                    undecided.remove(c)
    return [c for c in columns if decided.get(c)]


def _sdf_blocks(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(record number, lines) of each SDF record, split on ``$$$$`` without RDKit."""
    lines: list[str] = []
    number = 1
    with open(path, encoding="utf-8", errors="replace") as fh:
        for raw in fh:
            if raw.startswith("$$$$"):
                yield number, lines
                number += 1
                lines = []
            else:
                lines.append(raw.rstrip("\r\n"))
    if any(s.strip() for s in lines):
        yield number, lines


def _sdf_properties(lines: list[str]) -> tuple[str, dict[str, str]]:
    """(mol block, {property: value}) of one record's lines."""
    end = next((i for i, s in enumerate(lines) if s.startswith("M  END")), len(lines) - 1)
    block = "\n".join(lines[: end + 1]) + "\n"
    props: dict[str, str] = {}
    i = end + 1
    while i < len(lines):
        s = lines[i]
        if s.startswith(">") and "<" in s and ">" in s[s.index("<") :]:
            name = s[s.index("<") + 1 : s.index(">", s.index("<"))]
            values = []
            i += 1
            while i < len(lines) and lines[i].strip():
                values.append(lines[i])
                i += 1
            props[name] = "\n".join(values).strip()
        i += 1
    return block, props


def numeric_properties(props: dict[str, str]) -> list[str]:
    """Default SDF targets: properties with a numeric value, except an ``ID`` field."""
    return [k for k, v in props.items() if k.upper() != "ID" and _looks_numeric(v)]


def read_sdf(
    path: str | Path, targets: Sequence[str] | None = None, with_targets: bool = True
) -> Iterator[MolRecord]:
    """Records of an SDF; 3D coordinates are used as given (2D depictions are re-embedded)."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: file not found")
    target_columns = list(targets) if targets is not None else None
    for number, lines in _sdf_blocks(path):
        block, props = _sdf_properties(lines)
        if with_targets and target_columns is None:
            target_columns = numeric_properties(props)
            if not target_columns:
                raise UserInputError(
                    f"{path} record {number}: no numeric property to use as a target; name them "
                    "with --data.targets"
                )
        title = lines[0].strip() if lines else ""
        wanted = (target_columns or []) if with_targets else []
        for c in wanted:
            if c not in props:
                raise UserInputError(
                    f"{path} record {number} ({title or 'untitled'}): no property {c!r}; "
                    f"properties found: {', '.join(props) or 'none'}"
                )
        values, notes = parse_targets([props[c] for c in wanted], wanted, path, number)
        yield MolRecord(
            line=number,
            id=title or props.get("ID", "") or f"record_{number}",
            source=MoleculeSource(molblock=block),
            targets=values,
            columns={"id": title, **props},
            split=props.get(SPLIT_COLUMN) or None,
            notes=notes,
        )


def read_smi(path: str | Path) -> Iterator[MolRecord]:
    """``SMILES [name]`` per line; a header line starting with ``smiles`` is skipped."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: file not found")
    with open(path, encoding="utf-8") as fh:
        for line_number, raw in enumerate(fh, start=1):
            text = raw.strip()
            if not text:
                continue
            smiles, _, name = text.replace("\t", " ").partition(" ")
            if line_number == 1 and smiles.lower() == "smiles":
                continue
            name = name.strip() or str(line_number)
            yield MolRecord(
                line=line_number,
                id=name,
                source=MoleculeSource(smiles=smiles),
                columns={"smiles": smiles, "name": name},
            )


def read_records(
    path: str | Path,
    smiles_column: str = "smiles",
    targets: Sequence[str] | None = None,
    with_targets: bool = True,
) -> Iterator[MolRecord]:
    """Dispatch on the file's extension."""
    fmt = input_format(path)
    if fmt == "sdf":
        return read_sdf(path, targets, with_targets)
    if fmt == "smi":
        if with_targets:
            raise UserInputError(f"{path}: a .smi file has no targets; train on a CSV or SDF")
        return read_smi(path)
    return read_csv(path, smiles_column, targets, with_targets)
