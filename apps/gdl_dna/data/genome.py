"""Random access to a genome FASTA through its .fai index (pyfaidx), never loading it.

A genome without an index gets one built beside it (what ``samtools faidx`` does), and
so does one whose index is older than the FASTA (pyfaidx's rule) or does not match it
(every entry's sequence must start right after its own ``>name`` header line, so an
index left from another version of the file is never read as garbage). When the folder
is read-only we say how to build it instead (exit 2).

Whole-genome problems are ``UserInputError`` (exit 2): a duplicate chromosome name (the
name a variant or interval gives would be ambiguous), an unreadable index, an
unsupported compression (plain gzip: pyfaidx needs bgzip). A failure to read one
interval is a ``GenomeReadError`` that the readers report for that record.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gdl_science.io import UserInputError


class GenomeReadError(Exception):
    """One interval could not be read (the record that asked for it is reported)."""


class Genome:
    """``fetch(chrom, start, end)`` of a 0-based half-open interval, upper or lower case kept."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise UserInputError(f"{self.path}: genome FASTA not found")
        index = Path(str(self.path) + ".fai")
        stale = index.is_file() and index.stat().st_mtime < self.path.stat().st_mtime
        if (stale or not index.is_file()) and not os.access(self.path.parent, os.W_OK):
            what = "an index older than the FASTA" if stale else f"no index {index.name}"
            raise UserInputError(
                f"{self.path}: genome has {what} and its folder is read-only; "
                f"build one with `samtools faidx {self.path}` (or `faidx {self.path}`)"
            )
        self._open(rebuild=stale)
        if not str(self.path).lower().endswith((".gz", ".bgz")) and not self._index_matches():
            if not os.access(self.path.parent, os.W_OK):
                raise UserInputError(
                    f"{self.path}: its index {index.name} does not match the file and the "
                    f"folder is read-only; rebuild it with `samtools faidx {self.path}`"
                )
            print(f"gdl-dna: note: {index} did not match {self.path.name}; rebuilt it",
                  file=sys.stderr)  # fmt: skip
            self._fasta.close()
            index.unlink()
            self._open(rebuild=True)

    def _open(self, rebuild: bool) -> None:
        import pyfaidx

        index = Path(str(self.path) + ".fai")
        try:
            self._fasta = pyfaidx.Fasta(str(self.path), as_raw=True, rebuild=rebuild)
        except ValueError as err:
            if "Duplicate key" in str(err):
                raise UserInputError(
                    f"{self.path}: chromosome name {str(err).split('Duplicate key')[-1].strip()} "
                    "appears twice; intervals and variants naming it would be ambiguous"
                ) from err
            raise UserInputError(f"{self.path}: cannot index genome ({err})") from err
        except (pyfaidx.FastaIndexingError, pyfaidx.UnsupportedCompressionFormat, OSError,
                EOFError) as err:  # fmt: skip
            raise UserInputError(f"{self.path}: cannot index genome ({err})") from err
        except Exception as err:  # a malformed .fai or a cut bgzip: whatever pyfaidx hits
            message = f"{self.path}: cannot read the genome or its index {index.name} ({err})"
            raise UserInputError(message) from err
        self.lengths = {name: len(rec) for name, rec in self._fasta.records.items()}

    def _index_matches(self) -> bool:
        """Each entry's sequence must follow its own header line (a plain FASTA only)."""
        size = self.path.stat().st_size
        with open(self.path, "rb") as fh:
            for name, entry in self._fasta.faidx.index.items():
                offset = entry.offset
                fh.seek(max(0, offset - len(name) - 400))
                before = fh.read(offset - fh.tell())  # the bytes up to the sequence
                header = before.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
                ok = (
                    offset <= size
                    and before.endswith(b"\n")
                    and header.startswith(b">")
                    and header[1:].split()[:1] == [name.encode()]
                )
                if not ok:
                    return False
        return True

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
        try:
            return str(self._fasta[chrom][start:end])
        except Exception as err:  # pyfaidx FetchError, a bgzip block that fails, ...
            raise GenomeReadError(f"cannot read {chrom}:{start}-{end} from {self.path.name} "
                                  f"({type(err).__name__}: {err})") from err  # fmt: skip
