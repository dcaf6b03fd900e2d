"""A CSV/TSV writer that streams rows to disk and publishes the file atomically."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from gdl_science.io.atomic import atomic_path
from gdl_science.io.sharding import ORDER_COLUMN, Shard, merge_parts, part_path


def delimiter_for(path: str | Path) -> str:
    """Tab for .tsv/.txt (and their .gz), comma otherwise."""
    name = Path(path).name.lower().removesuffix(".gz")
    return "\t" if name.endswith((".tsv", ".txt", ".tab")) else ","


class StreamingTableWriter:
    """Write rows one at a time in constant memory; the file appears only when complete.

    Use as a context manager. Rows are written to a temporary file in the destination
    folder; on a clean exit it is fsynced and renamed over ``path``; on an exception it is
    deleted and ``path`` is left as it was.

    In a distributed job (see ``sharding``) each rank publishes a part file instead, its
    rows tagged with ``order`` (the record's input position, which ``write_row`` then
    requires), and rank 0 merges the parts into ``path`` in input order.
    """

    def __init__(
        self,
        path: str | Path,
        columns: Sequence[str],
        delimiter: str | None = None,
        shard: Shard | None = None,
    ) -> None:
        self.path = Path(path)
        self.columns = list(columns)
        self.delimiter = delimiter or delimiter_for(path)
        self.shard = shard if shard is not None else Shard.from_env()
        self.rows_written = 0
        self._fh = None
        self._tmp: Path | None = None
        self._atomic: contextlib.AbstractContextManager[Path] | None = None

    def __enter__(self) -> StreamingTableWriter:
        # The rows go to atomic_path's temporary file; it is renamed into place (the
        # output, or this rank's part file) only on a clean exit.
        target = part_path(self.path, self.shard) if self.shard.active else self.path
        self._atomic = atomic_path(target, suffix="")
        self._tmp = self._atomic.__enter__()
        self._fh = open(self._tmp, "w", encoding="utf-8", newline="")
        fieldnames = [ORDER_COLUMN, *self.columns] if self.shard.active else self.columns
        self._writer = csv.DictWriter(
            self._fh,
            fieldnames=fieldnames,
            delimiter=self.delimiter,
            lineterminator="\n",
            extrasaction="raise",
        )
        self._writer.writeheader()
        return self

    def write_row(self, row: Mapping[str, Any], order: int | None = None) -> None:
        values = {k: _format(v) for k, v in row.items()}
        if self.shard.active:
            if order is None:
                raise ValueError("a sharded prediction must give each row its input order")
            values[ORDER_COLUMN] = order
        self._writer.writerow(values)
        self.rows_written += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._fh is not None and self._atomic is not None
        self._fh.close()
        # atomic_path fsyncs and renames on success, deletes the temporary file on failure.
        self._atomic.__exit__(exc_type, exc, tb)
        if exc_type is not None and self.shard.active:
            part_path(self.path, self.shard).with_suffix(".failed").touch()
        if exc_type is None and self.shard.active:
            merge_parts(self.path, self.shard, self.columns, self.delimiter)


def _format(value: Any) -> Any:
    # Floats with 6 significant digits keep tables readable and diffs stable.
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else value
