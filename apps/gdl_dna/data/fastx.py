"""FASTA and FASTQ readers that report a bad record and read on.

Record ids are the header's first word (as Biopython and samtools take them). A record
whose header or sequence has a byte that is not UTF-8 is reported with its own number
(``in.fa record 5``) and the next record is read as usual; a truncated compressed file
reports the record it cut and stops, keeping the records before it. FASTQ is the
four-line layout (``@id``, sequence, ``+``, qualities) that sequencers write.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from gdl_dna.data.lines import Line, lossy, read_lines
from gdl_dna.data.sequence_record import SequenceRecord, check_sequence
from gdl_science.io import UserInputError


def _record(n: int, name: str, header: Line, parts: list[str], error: str | None) -> SequenceRecord:
    title = header.text if header.text is not None else lossy(header.raw)
    words = title[1:].split()
    rid = words[0] if words else f"record{n}"
    where = f"{name} record {n} (line {header.number})"
    if error is None and not words:
        error = "header has no id"
    return check_sequence(SequenceRecord(rid, "".join(parts), where, error=error))


def read_fasta(path: str | Path) -> Iterator[SequenceRecord]:
    name = Path(path).name
    n, header, parts, error = 0, None, [], None
    for line in read_lines(path):
        if line.truncated:
            if header is None:
                raise UserInputError(f"{path}: {line.error}")
            yield _record(n, name, header, parts, error or line.error)
            return
        is_header = line.raw.startswith(b">")
        if header is None and not is_header:
            if not line.raw.strip():
                continue  # blank lines before the first record
            raise UserInputError(f"{path} line {line.number}: not FASTA (a record starts with '>')")
        if is_header:
            if header is not None:
                yield _record(n, name, header, parts, error)
            n, header, parts, error = n + 1, line, [], None
            if line.error:
                error = f"header: {line.error}"
        elif line.error:
            error = error or f"line {line.number}: {line.error}"
        else:
            parts.append("".join(line.text.split()))
    if header is not None:
        yield _record(n, name, header, parts, error)
    if n == 0:
        raise UserInputError(f"{path}: empty file (no FASTA records)")


def read_fastq(path: str | Path) -> Iterator[SequenceRecord]:
    name = Path(path).name
    n = 0
    block: list[Line] = []
    for line in read_lines(path):
        if not block and line.text is not None and not line.text.strip():
            continue
        if line.truncated and not block:
            if n == 0:
                raise UserInputError(f"{path}: {line.error}")
            return
        block.append(line)
        if line.truncated or len(block) == 4:
            n += 1
            yield _fastq_record(n, name, block)
            if line.truncated:
                return
            block = []
    if block:
        n += 1
        yield _fastq_record(n, name, block, "incomplete record at the end of the file")
    if n == 0:
        raise UserInputError(f"{path}: empty file (no FASTQ records)")


def _fastq_record(n: int, name: str, block: list[Line], error: str | None = None) -> SequenceRecord:
    header = block[0]
    if not (header.text or lossy(header.raw)).startswith("@"):
        error = error or f"line {header.number}: a FASTQ record starts with '@'"
    for line in block:
        if line.error:
            error = error or f"line {line.number}: {line.error}"
    if error is None and len(block) == 4:
        seq, plus, qual = (b.text or "" for b in block[1:])
        if not plus.startswith("+"):
            error = f"line {block[2].number}: expected the '+' separator line"
        elif len(qual) != len(seq):
            error = f"{len(qual)} quality values for {len(seq)} bases"
    sequence = block[1].text or "" if len(block) > 1 else ""
    as_fasta = Line(header.number, ">" + (header.text or lossy(header.raw))[1:], header.raw)
    return _record(n, name, as_fasta, [sequence.strip()], error)
