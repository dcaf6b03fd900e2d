"""Readers: TSV/CSV, FASTA/FASTQ and BED + genome -> SequenceRecords (plain or compressed).

Every reader is a generator, so ``predict`` streams files of any size. A problem with
the file as a whole (empty, no ``sequence`` column, no genome index) raises
``UserInputError`` at once; a problem with one record (unknown character, interval past
the chromosome end, a byte that is not UTF-8, the record a truncated file cuts) is
stored in ``record.error`` so that ``predict`` can report it and go on, while training
(``strict``) turns it into a one-line error naming file and line. FASTA/FASTQ live in
``fastx``, BED in ``bed``; compression is found by magic bytes (``lines``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from gdl_dna.data.genome import Genome
from gdl_dna.data.lines import read_lines
from gdl_dna.data.sequence_record import SequenceRecord, check_sequence
from gdl_science.io import UserInputError

__all__ = ["SequenceRecord", "check_sequence", "file_format", "iter_records", "read_table"]

FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".fas")
FASTQ_SUFFIXES = (".fq", ".fastq")
TABLE_SUFFIXES = (".tsv", ".csv", ".txt", ".tab")
BED_SUFFIXES = (".bed", ".narrowpeak", ".broadpeak")
RESERVED_COLUMNS = {"id", "sequence", "split", "chrom", "start", "end", "strand", "score", "name"}


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
        "(optionally compressed) or .bed/.narrowPeak"
    )


def read_table(path: str | Path) -> Iterator[SequenceRecord]:
    """TSV/CSV with a header: ``sequence`` required, ``id`` and ``split`` optional,
    every other column a label. One record per line (quoted fields may not span lines)."""
    from gdl_science.io import delimiter_for

    name = Path(path).name
    delimiter = delimiter_for(path)
    lines = read_lines(path)
    first = next((ln for ln in lines if ln.text is None or ln.text.strip()), None)
    if first is None or first.text is None:
        problem = first.error if first is not None else "empty file"
        raise UserInputError(f"{path}: {problem} (expected a header with a 'sequence' column)")
    header = [h.strip() for h in next(csv.reader([first.text], delimiter=delimiter))]
    if "sequence" not in header:
        raise UserInputError(f"{path}: no 'sequence' column; columns found: {', '.join(header)}")
    seq_col = header.index("sequence")
    id_col = header.index("id") if "id" in header else None
    split_col = header.index("split") if "split" in header else None
    label_cols = [(i, h) for i, h in enumerate(header) if h not in RESERVED_COLUMNS]
    for line in lines:
        where = f"{name} line {line.number}"
        if line.text is None:
            yield SequenceRecord(f"line{line.number}", "", where, error=line.error)
            if line.truncated:
                return
            continue
        if not line.text.strip():
            continue
        row = next(csv.reader([line.text], delimiter=delimiter))
        rid = row[id_col].strip() if id_col is not None and id_col < len(row) else ""
        rid = rid or f"row{line.number - 1}"
        if len(row) != len(header):
            problem = f"{len(row)} fields, header has {len(header)}"
            yield SequenceRecord(rid, "", where, error=problem)
            continue
        yield check_sequence(
            SequenceRecord(
                id=rid,
                sequence=row[seq_col].strip(),
                where=where,
                labels={h: row[i].strip() for i, h in label_cols},
                split=row[split_col].strip() if split_col is not None else None,
            )
        )


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
        from gdl_dna.data.bed import read_bed

        return read_bed(path, Genome(genome))
    from gdl_dna.data.fastx import read_fasta, read_fastq

    return read_fasta(path) if fmt == "fasta" else read_fastq(path)
