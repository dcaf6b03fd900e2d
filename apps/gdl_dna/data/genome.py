"""Random access to a genome FASTA through its .fai index (pyfaidx), never loading it.

A genome without an index gets one built beside it (what ``samtools faidx`` does); when
its folder is read-only we say how to build it instead of failing obscurely.
"""

from __future__ import annotations

import os
from pathlib import Path

from gdl_science.io import UserInputError


class Genome:
    """``fetch(chrom, start, end)`` of a 0-based half-open interval, upper or lower case kept."""

    def __init__(self, path: str | Path) -> None:
        import pyfaidx

        self.path = Path(path)
        if not self.path.is_file():
            raise UserInputError(f"{self.path}: genome FASTA not found")
        index = Path(str(self.path) + ".fai")
        if not index.is_file() and not os.access(self.path.parent, os.W_OK):
            raise UserInputError(
                f"{self.path}: genome has no index {index.name} and its folder is read-only; "
                f"build one with `samtools faidx {self.path}` (or `faidx {self.path}`)"
            )
        try:
            self._fasta = pyfaidx.Fasta(str(self.path), as_raw=True, rebuild=False)
        except (pyfaidx.FastaIndexingError, pyfaidx.UnsupportedCompressionFormat, OSError) as err:
            raise UserInputError(f"{self.path}: cannot index genome ({err})") from err
        self.lengths = {name: len(rec) for name, rec in self._fasta.records.items()}

    def check_interval(self, chrom: str, start: int, end: int) -> str | None:
        """Why an interval cannot be fetched, or None."""
        if chrom not in self.lengths:
            return f"unknown chromosome {chrom!r} (not in {self.path.name})"
        if start < 0 or end <= start:
            return f"bad interval {start}-{end}"
        if end > self.lengths[chrom]:
            return (
                f"interval {chrom}:{start}-{end} is past the chromosome end ({self.lengths[chrom]})"
            )
        return None

    def fetch(self, chrom: str, start: int, end: int) -> str:
        return str(self._fasta[chrom][start:end])
