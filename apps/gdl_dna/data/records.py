"""Readers: TSV/CSV, FASTA/FASTQ (plain or .gz) and BED + genome -> SequenceRecords.

Every reader is a generator, so ``predict`` streams files of any size. A problem with
the file as a whole (empty, no ``sequence`` column, no genome index) raises
``UserInputError`` at once; a problem with one record (unknown character, interval past
the chromosome end) is stored in ``record.error`` so that ``predict`` can report it and
go on, while training (``strict``) turns it into a one-line error naming file and line.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gdl_dna.data.alphabet import first_bad_character, reverse_complement
from gdl_dna.data.genome import Genome
from gdl_science.io import UserInputError

FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".fas")
FASTQ_SUFFIXES = (".fq", ".fastq")
TABLE_SUFFIXES = (".tsv", ".csv", ".txt", ".tab")
BED_SUFFIXES = (".bed",)
RESERVED_COLUMNS = {"id", "sequence", "split", "chrom", "start", "end", "strand", "score", "name"}


@dataclass
class SequenceRecord:
    """One sequence with its raw label strings; ``where`` names it in error messages."""

    id: str
    sequence: str
    where: str  # e.g. "seqs.tsv line 12"
    labels: dict[str, str] = field(default_factory=dict)
    chrom: str | None = None
    split: str | None = None
    error: str | None = None

    def describe(self) -> str:
        return f"{self.where} (id={self.id})"


def file_format(path: str | Path) -> str:
    """'table', 'fasta', 'fastq' or 'bed' from the file name (.gz allowed)."""
    name = Path(path).name.lower().removesuffix(".gz")
    for fmt, suffixes in (
        ("fasta", FASTA_SUFFIXES),
        ("fastq", FASTQ_SUFFIXES),
        ("table", TABLE_SUFFIXES),
        ("bed", BED_SUFFIXES),
    ):
        if name.endswith(suffixes):
            return fmt
    raise UserInputError(
        f"{path}: unknown input type; expected .tsv/.csv, .fa/.fasta/.fna, .fq/.fastq "
        "(optionally .gz) or .bed"
    )


def open_text(path: str | Path) -> io.TextIOBase:
    """Open plain or gzip text; a missing file is a UserInputError."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: file not found")
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _check_sequence(record: SequenceRecord) -> SequenceRecord:
    if record.error is None:
        if not record.sequence:
            record.error = "empty sequence"
        else:
            bad = first_bad_character(record.sequence)
            if bad is not None:
                record.error = f"unknown character {bad[1]!r} at position {bad[0] + 1}"
    return record


def read_table(path: str | Path) -> Iterator[SequenceRecord]:
    """TSV/CSV with a header: ``sequence`` required, ``id`` and ``split`` optional,
    every other column a label."""
    from gdl_science.io import delimiter_for

    name = Path(path).name
    with open_text(path) as fh:
        reader = csv.reader(fh, delimiter=delimiter_for(path))
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise UserInputError(f"{path}: empty file (expected a header with a 'sequence' column)")
        header = [h.strip() for h in header]
        if "sequence" not in header:
            raise UserInputError(
                f"{path}: no 'sequence' column; columns found: {', '.join(header)}"
            )
        seq_col = header.index("sequence")
        id_col = header.index("id") if "id" in header else None
        split_col = header.index("split") if "split" in header else None
        label_cols = [(i, h) for i, h in enumerate(header) if h not in RESERVED_COLUMNS]
        for line_no, row in enumerate(reader, start=2):
            if not row or not any(c.strip() for c in row):
                continue
            where = f"{name} line {line_no}"
            rid = row[id_col].strip() if id_col is not None and id_col < len(row) else ""
            rid = rid or f"row{line_no - 1}"
            if len(row) != len(header):
                yield SequenceRecord(
                    rid, "", where, error=f"{len(row)} fields, header has {len(header)}"
                )
                continue
            yield _check_sequence(
                SequenceRecord(
                    id=rid,
                    sequence=row[seq_col].strip(),
                    where=where,
                    labels={h: row[i].strip() for i, h in label_cols},
                    split=row[split_col].strip() if split_col is not None else None,
                )
            )


def read_fastx(path: str | Path) -> Iterator[SequenceRecord]:
    """FASTA or FASTQ records (Biopython), plain or .gz; no labels (see ``attach_labels``)."""
    from Bio import SeqIO

    fmt = file_format(path)
    name = Path(path).name
    n = 0
    with open_text(path) as fh:
        try:
            for n, rec in enumerate(SeqIO.parse(fh, fmt), start=1):
                yield _check_sequence(SequenceRecord(rec.id, str(rec.seq), f"{name} record {n}"))
        except ValueError as err:  # Biopython's malformed-file errors
            raise UserInputError(
                f"{path}: not valid {fmt.upper()} after record {n} ({err})"
            ) from err
    if n == 0:
        raise UserInputError(f"{path}: empty file (no {fmt.upper()} records)")


def read_bed(path: str | Path, genome: Genome) -> Iterator[SequenceRecord]:
    """BED intervals fetched from an indexed genome.

    Columns: chrom, start, end (0-based, half-open), then either the fields named by a
    header line (``#chrom start end name strand label...``; ``strand`` '-' reverse-
    complements the interval, ``split`` sets the split, other names are labels) or,
    without a header, an optional name followed by label columns ``label_1, ...``.
    """
    name = Path(path).name
    columns: list[str] | None = None
    seen = False
    with open_text(path) as fh:
        for line_no, line in enumerate(fh, start=1):
            text = line.rstrip("\r\n")
            if not text.strip() or text.startswith(("track", "browser")):
                continue
            if text.startswith("#"):
                columns = [c.strip() for c in text.lstrip("#").split("\t")]
                continue
            seen = True
            fields = text.split("\t")
            where = f"{name} line {line_no}"
            if columns is None:
                columns = ["chrom", "start", "end", "name"] + [
                    f"label_{i}" for i in range(1, len(fields) - 3)
                ]
            yield _bed_record(fields, columns, where, genome)
    if not seen:
        raise UserInputError(f"{path}: empty file (no BED intervals)")


def _bed_record(
    fields: list[str], columns: list[str], where: str, genome: Genome
) -> SequenceRecord:
    if len(fields) < 3:
        return SequenceRecord(f"{where}", "", where, error="fewer than 3 BED columns")
    values = dict(zip(columns, fields))
    chrom = fields[0]
    rid = values.get("name") or f"{chrom}:{fields[1]}-{fields[2]}"
    record = SequenceRecord(rid, "", where, chrom=chrom, split=values.get("split"))
    record.labels = {c: v.strip() for c, v in values.items() if c not in RESERVED_COLUMNS}
    try:
        start, end = int(fields[1]), int(fields[2])
    except ValueError:
        record.error = f"start/end are not integers: {fields[1]!r}, {fields[2]!r}"
        return record
    problem = genome.check_interval(chrom, start, end)
    if problem:
        record.error = problem
        return record
    record.sequence = genome.fetch(chrom, start, end)
    strand = values.get("strand", "+").strip()
    if strand == "-":
        record.sequence = reverse_complement(record.sequence)
    elif strand not in ("+", "."):
        record.error = f"strand must be '+', '-' or '.', got {strand!r}"
    return _check_sequence(record)


def iter_records(path: str | Path, genome: str | Path | None = None) -> Iterator[SequenceRecord]:
    """Records of any supported input, lazily; per-record problems in ``record.error``."""
    fmt = file_format(path)
    if fmt == "table":
        return read_table(path)
    if fmt == "bed":
        if genome is None:
            raise UserInputError(
                f"{path}: BED input needs a genome FASTA (--genome / --data.genome)"
            )
        return read_bed(path, Genome(genome))
    return read_fastx(path)
