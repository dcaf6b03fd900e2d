"""Strict loading for training: every record valid, ids unique, labels complete, splits.

Unlike ``predict`` (which reports bad records and goes on), training refuses a file with
a bad record: a one-line ``UserInputError`` naming the file, the line and the id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gdl_dna.data.labels import LabelSpec, attach_labels, build_targets, infer_kind
from gdl_dna.data.records import SequenceRecord, file_format, iter_records
from gdl_science.io import UserInputError
from gdl_science.training import column_split, split_indices


@dataclass
class LabelledData:
    records: list[SequenceRecord]
    spec: LabelSpec
    targets: np.ndarray  # (N, T) float32 with NaN, or (N,) int64 with -1


def load_labelled(
    path: str,
    labels: str | None = None,
    genome: str | None = None,
    label_columns: Sequence[str] | None = None,
    task_type: str = "auto",
) -> LabelledData:
    records = list(iter_records(path, genome))
    if not records:
        raise UserInputError(f"{path}: no records")
    seen: dict[str, str] = {}
    for r in records:
        if r.error is not None:
            raise UserInputError(f"{r.describe()}: {r.error}")
        if r.id in seen:
            raise UserInputError(f"{r.describe()}: duplicate id (first seen at {seen[r.id]})")
        seen[r.id] = r.where
    fmt = file_format(path)
    if fmt in ("fasta", "fastq") and labels is None:
        raise UserInputError(f"{path}: FASTA/FASTQ input needs a label table (--data.labels)")
    if labels is not None and fmt in ("fasta", "fastq", "bed"):
        names = attach_labels(records, labels)
    else:
        names = list(records[0].labels)
    if not names and fmt == "bed":
        raise UserInputError(
            f"{path}: no label columns; BED labels come from a named header line "
            "(#chrom<TAB>start<TAB>end<TAB>name<TAB>label ...) or a label table (--data.labels)"
        )
    if label_columns:
        unknown = [c for c in label_columns if c not in names]
        if unknown:
            raise UserInputError(f"{path}: label columns {unknown} not found; columns: {names}")
        names = list(label_columns)
    if not names:
        raise UserInputError(f"{path}: no label columns (every column is id/sequence/split)")
    kind = infer_kind(records, names) if task_type == "auto" else task_type
    targets, classes = build_targets(records, names, kind)
    return LabelledData(records, LabelSpec(kind, names, classes), targets)


def split_records(
    records: Sequence[SequenceRecord],
    how: str,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    val_chroms: Sequence[str] = (),
    test_chroms: Sequence[str] = (),
) -> tuple[list[int], list[int], list[int]]:
    """Indices of train/val/test: 'random' (seeded), 'chrom' (BED) or 'column' (split)."""
    if how == "random":
        return split_indices(len(records), val_fraction, test_fraction, seed)
    if how == "column":
        return column_split([r.split for r in records], [r.describe() for r in records])
    parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for i, r in enumerate(records):
        if r.chrom is None:
            raise UserInputError(f"{r.describe()}: split 'chrom' needs BED input (no chromosome)")
        part = "val" if r.chrom in val_chroms else "test" if r.chrom in test_chroms else "train"
        parts[part].append(i)
    if not parts["train"]:
        raise UserInputError(f"split {how!r} left no training records")
    return parts["train"], parts["val"], parts["test"]
