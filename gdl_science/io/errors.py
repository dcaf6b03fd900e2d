"""Errors a user can act on, and the per-record error report of ``predict``."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from gdl_science.io.atomic import atomic_write


class UserInputError(Exception):
    """Bad input or usage. The CLI prints it as one line and exits with code 2.

    The message must name the file and the record or line, e.g.
    ``seqs.tsv line 12 (id=chr1_55): unknown character 'X' at position 40``.
    """


def errors_path(output: str | Path) -> Path:
    """``<output>.errors.tsv`` beside the output (DESIGN.md section 4)."""
    output = Path(output)
    return output.with_name(output.name + ".errors.tsv")


class ErrorReport:
    """Collects bad records during predict and writes ``<output>.errors.tsv``.

    Records are kept in memory as (id, reason) pairs; a bad record is a line of text, so
    even millions of them stay small next to the predictions themselves.
    """

    def __init__(self, output: str | Path) -> None:
        self.path = errors_path(output)
        self.rows: list[tuple[str, str]] = []

    def add(self, record_id: str, reason: str) -> None:
        # Reasons are one line: tabs/newlines would break the TSV.
        clean = " ".join(str(reason).split())
        self.rows.append((str(record_id), clean))

    @property
    def count(self) -> int:
        return len(self.rows)

    def write(self) -> Path | None:
        """Write the report atomically; remove a stale one when there were no bad records."""
        if not self.rows:
            self.path.unlink(missing_ok=True)
            return None
        with atomic_write(self.path, newline="") as fh:
            writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
            writer.writerow(["id", "reason"])
            writer.writerows(self.rows)
        print(f"{self.count} bad record(s) skipped; see {self.path}", file=sys.stderr)
        return self.path
