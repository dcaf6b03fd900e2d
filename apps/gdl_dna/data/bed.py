"""BED intervals read by the BED column schema, fetched from an indexed genome.

Columns are taken by position, as UCSC, bioframe and pyranges do: chrom, start, end
(0-based, half-open), then BED4-BED12's name, score, strand, thickStart, thickEnd,
itemRgb, blockCount, blockSizes, blockStarts; a 10-column file (or ``.narrowPeak``) is
ENCODE narrowPeak (name, score, strand, signalValue, pValue, qValue, peak). None of
these is a label. The whole interval is fetched (BED12 blocks are not spliced) and a
``-`` strand reverse-complements it.

Labels come from a named header or from a label table keyed by the name column
(``--data.labels``). A header is either the last ``#`` line before the first interval
whose tab-separated names match the interval's column count and include chrom, start
and end (``#chrom start end name strand bound``), or a first line with those names and
no ``#`` whose start/end are not numbers. Its other names are labels, apart from the
schema's field names above and ``split``. Every other ``#``, ``track`` or ``browser``
line is a comment.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from gdl_dna.data.alphabet import reverse_complement
from gdl_dna.data.genome import Genome, GenomeReadError
from gdl_dna.data.lines import read_lines
from gdl_dna.data.sequence_record import SequenceRecord, check_sequence
from gdl_science.io import UserInputError

BED_FIELDS = ("chrom", "start", "end", "name", "score", "strand", "thickStart", "thickEnd",
              "itemRgb", "blockCount", "blockSizes", "blockStarts")  # fmt: skip
NARROW_PEAK = (*BED_FIELDS[:6], "signalValue", "pValue", "qValue", "peak")
ALIASES = {"chromstart": "start", "chromend": "end", "chr": "chrom"}
# Names that are never labels (compared in lower case).
SCHEMA_NAMES = {f.lower() for f in (*BED_FIELDS, *NARROW_PEAK)} | {"split", "id"}


def _canonical(name: str) -> str:
    name = name.strip()
    return ALIASES.get(name.lower(), name)


def _as_header(text: str, n_columns: int | None) -> list[str] | None:
    """The column names if ``text`` (no leading '#') is a header for the data, else None."""
    names = [_canonical(c) for c in text.split("\t")]
    if n_columns is not None and len(names) != n_columns:
        return None
    return names if {"chrom", "start", "end"} <= {n.lower() for n in names} else None


def positional_columns(n: int, narrow_peak: bool) -> list[str]:
    """Column names of a headerless row of ``n`` fields (extra columns: ``column_<i>``)."""
    schema = NARROW_PEAK if narrow_peak or n == len(NARROW_PEAK) else BED_FIELDS
    return [schema[i] if i < len(schema) else f"column_{i + 1}" for i in range(n)]


def read_bed(path: str | Path, genome: Genome) -> Iterator[SequenceRecord]:
    name = Path(path).name
    narrow = name.lower().removesuffix(".gz").endswith(".narrowpeak")
    columns: list[str] | None = None
    candidate: str | None = None  # the last '#' line: a header if it fits the data
    seen = False
    for line in read_lines(path):
        where = f"{name} line {line.number}"
        if line.text is None:
            if line.truncated and not seen:
                raise UserInputError(f"{path}: {line.error}")
            yield SequenceRecord(where, "", where, error=line.error)
            if line.truncated:
                return
            continue
        text = line.text
        if not text.strip() or text.startswith(("track", "browser")):
            continue
        if text.startswith("#"):
            if not seen:
                candidate = text.lstrip("#")
            continue
        fields = text.split("\t")
        if not seen:
            seen = True
            if candidate is not None:
                columns = _as_header(candidate, len(fields))
            if columns is None and not _integers(fields[1:3]):
                columns = _as_header(text, len(fields))
                if columns is not None:
                    continue  # a header line without '#'
        row_columns = columns or positional_columns(len(fields), narrow)
        yield _bed_record(fields, row_columns, where, genome, labelled=columns is not None)
    if not seen:
        raise UserInputError(f"{path}: empty file (no BED intervals)")


def _integers(values: list[str]) -> bool:
    return all(v.strip().lstrip("-").isdigit() for v in values)


def _bed_record(
    fields: list[str], columns: list[str], where: str, genome: Genome, labelled: bool
) -> SequenceRecord:
    if len(fields) < 3:
        return SequenceRecord(where, "", where, error=f"{len(fields)} columns, BED needs >= 3")
    if len(fields) != len(columns):
        return SequenceRecord(
            where, "", where, error=f"{len(fields)} columns, the header has {len(columns)}"
        )
    values = {c.lower(): v.strip() for c, v in zip(columns, fields)}
    chrom = values["chrom"]
    rid = values.get("name") or values.get("id") or f"{chrom}:{values['start']}-{values['end']}"
    record = SequenceRecord(rid, "", where, chrom=chrom, split=values.get("split"))
    if labelled:
        record.labels = {
            c.strip(): v.strip() for c, v in zip(columns, fields) if c.lower() not in SCHEMA_NAMES
        }
    try:
        start, end = int(values["start"]), int(values["end"])
    except ValueError:
        record.error = f"start/end are not integers: {values['start']!r}, {values['end']!r}"
        return record
    problem = genome.check_interval(chrom, start, end)
    if problem:
        record.error = problem
        return record
    try:
        record.sequence = genome.fetch(chrom, start, end)
    except GenomeReadError as err:
        record.error = str(err)
        return record
    strand = values.get("strand", "+")
    if strand == "-":
        record.sequence = reverse_complement(record.sequence)
    elif strand not in ("+", "."):
        record.error = f"strand must be '+', '-' or '.', got {strand!r}"
    return check_sequence(record)
