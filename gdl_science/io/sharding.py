"""Prediction sharded over the processes of a distributed job, merged into one output.

Under ``torchrun`` (RANK/WORLD_SIZE) or ``srun`` (SLURM_PROCID/SLURM_NTASKS) every process
runs the same ``predict`` command. Record i goes to rank ``i mod world``; each rank
writes its rows, tagged with the record's input position, to a part file beside the
output; rank 0 waits for every part, merges them by position and publishes the single,
complete, input-ordered output atomically. The barrier is the file system (the parts
appear atomically), so no process group is needed, and it works on any shared disk.
"""

from __future__ import annotations

import csv
import heapq
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from gdl_science.io.atomic import atomic_write

ORDER_COLUMN = "__order"


@dataclass(frozen=True)
class Shard:
    """This process's place in a job: rank r of world w (0 of 1 when not distributed)."""

    rank: int = 0
    world: int = 1

    @property
    def active(self) -> bool:
        return self.world > 1

    def owns(self, index: int) -> bool:
        return index % self.world == self.rank

    @staticmethod
    def from_env() -> Shard:
        env = os.environ
        if "WORLD_SIZE" in env and "RANK" in env:
            return Shard(int(env["RANK"]), int(env["WORLD_SIZE"]))
        if "SLURM_NTASKS" in env and "SLURM_PROCID" in env and "SLURM_JOB_ID" in env:
            return Shard(int(env["SLURM_PROCID"]), int(env["SLURM_NTASKS"]))
        return Shard()


def part_path(output: Path, shard: Shard) -> Path:
    return output.with_name(f".{output.name}.part{shard.rank}of{shard.world}")


def _read_part(path: Path, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        next(reader)  # header
        for row in reader:
            yield int(row[0]), row[1:]


def merge_parts(
    output: Path,
    shard: Shard,
    columns: Sequence[str],
    delimiter: str,
    timeout_s: float = 24 * 3600,
    keep_empty: bool = True,
) -> bool:
    """On rank 0: wait for all parts, merge them by input position into ``output``.

    Returns True when a merged file was written (False for an empty merge with
    ``keep_empty=False``, where a stale output is removed). Other ranks return at once.
    """
    if shard.rank != 0:
        return False
    parts = [part_path(output, Shard(r, shard.world)) for r in range(shard.world)]
    deadline = time.monotonic() + timeout_s
    while not all(p.exists() for p in parts):
        failed = [p for p in parts if p.with_suffix(".failed").exists()]
        if failed:
            for p in parts:
                p.unlink(missing_ok=True)
                p.with_suffix(".failed").unlink(missing_ok=True)
            raise RuntimeError(f"{output}: a rank failed ({failed[0].name}); no output written")
        if time.monotonic() > deadline:
            missing = [str(p) for p in parts if not p.exists()]
            raise TimeoutError(f"{output}: ranks never finished their parts: {missing}")
        time.sleep(0.2)
    merged = heapq.merge(*(_read_part(p, delimiter) for p in parts), key=lambda item: item[0])
    rows = 0
    with atomic_write(output, newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter, lineterminator="\n")
        writer.writerow(columns)
        for _, row in merged:
            writer.writerow(row)
            rows += 1
    for p in parts:
        p.unlink(missing_ok=True)
    if rows == 0 and not keep_empty:
        output.unlink(missing_ok=True)
        return False
    return True
