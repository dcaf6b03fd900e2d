"""Errors a user can act on, and the per-record error report of ``predict``."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from gdl_science.io.atomic import atomic_write
from gdl_science.io.sharding import ORDER_COLUMN, Shard, merge_parts, part_path
from gdl_science.io.user_error import UserInputError

__all__ = ["ErrorReport", "UserInputError", "errors_path"]


def errors_path(output: str | Path) -> Path:
    """``<output>.errors.tsv`` beside the output (DESIGN.md section 4)."""
    output = Path(output)
    return output.with_name(output.name + ".errors.tsv")


class ErrorReport:
    """Collects bad records during predict and writes ``<output>.errors.tsv``.

    Records are kept in memory as (id, reason) pairs; a bad record is a line of text, so
    even millions of them stay small next to the predictions themselves.
    """

    def __init__(self, output: str | Path, shard: Shard | None = None) -> None:
        self.path = errors_path(output)
        self.shard = shard if shard is not None else Shard.from_env()
        self.rows: list[tuple[str, str]] = []
        self.orders: list[int] = []

    def add(self, record_id: str, reason: str, order: int = -1) -> None:
        """One bad record; ``order`` is its input position (needed when sharded)."""
        # Reasons are one line: tabs/newlines would break the TSV.
        clean = " ".join(str(reason).split())
        self.rows.append((str(record_id), clean))
        self.orders.append(order)

    @property
    def count(self) -> int:
        return len(self.rows)

    def write(self) -> Path | None:
        """Write the report atomically; remove a stale one when there were no bad records."""
        if self.shard.active:
            return self._write_sharded()
        if not self.rows:
            self.path.unlink(missing_ok=True)
            return None
        with atomic_write(self.path, newline="") as fh:
            writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
            writer.writerow(["id", "reason"])
            writer.writerows(self.rows)
        print(f"{self.count} bad record(s) skipped; see {self.path}", file=sys.stderr)
        return self.path

    def _write_sharded(self) -> Path | None:
        # Every rank publishes a part, even an empty one: rank 0 waits for all of them.
        with atomic_write(part_path(self.path, self.shard), newline="") as fh:
            writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
            writer.writerow([ORDER_COLUMN, "id", "reason"])
            writer.writerows((o, i, r) for o, (i, r) in zip(self.orders, self.rows))
        if self.rows:
            print(f"rank {self.shard.rank}: {self.count} bad record(s) skipped", file=sys.stderr)
        written = merge_parts(self.path, self.shard, ["id", "reason"], "\t", keep_empty=False)
        if written:
            print(f"bad records of all ranks: {self.path}", file=sys.stderr)
        return self.path if written else None
