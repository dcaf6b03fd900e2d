"""One sequence record as every dna reader yields it, and the per-record sequence check.

A module of its own so the readers (``records``, ``fastx``, ``bed``) can share it
without importing one another in a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gdl_dna.data.alphabet import first_bad_character


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


def check_sequence(record: SequenceRecord) -> SequenceRecord:
    if record.error is None:
        if not record.sequence:
            record.error = "empty sequence"
        else:
            bad = first_bad_character(record.sequence)
            if bad is not None:
                record.error = f"unknown character {bad[1]!r} at position {bad[0] + 1}"
    return record
