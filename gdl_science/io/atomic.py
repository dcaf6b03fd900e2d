"""Atomic output writing: a reader sees the old file or the complete new one, never half.

Everything is written to a temporary file in the destination folder (same file system,
so ``os.replace`` is atomic), flushed and fsynced, then renamed over the destination. On
any exception the temporary file is removed and the destination is untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from gdl_science.io.user_error import UserInputError


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path to write with any library; renamed to ``path`` on success.

    ``suffix`` defaults to the destination's full suffix (e.g. ``.nii.gz``), because some
    writers (nibabel) choose the format from the file name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = suffix if suffix is not None else "".join(path.suffixes)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_write(
    path: str | Path, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None
) -> Iterator[IO[Any]]:
    """``open()`` for writing, made atomic. ``mode`` is "w" or "wb"."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write supports modes 'w' and 'wb', not {mode!r}")
    with atomic_path(path) as tmp:
        kwargs = {} if "b" in mode else {"encoding": encoding, "newline": newline}
        with open(tmp, mode, **kwargs) as fh:
            yield fh
            fh.flush()


def check_output_path(output: str | Path, inputs: Sequence[str | Path] = ()) -> Path:
    """Refuse an output that is one of the inputs or that cannot be written.

    Raises UserInputError (exit 2) naming the path; returns the output as a Path.
    """
    out = Path(output)
    for inp in inputs:
        inp = Path(inp)
        if out.resolve() == inp.resolve() or (out.exists() and inp.exists() and out.samefile(inp)):
            raise UserInputError(f"{out}: output would overwrite the input; choose another path")
    parent = out if out.is_dir() else out.parent
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK):
        raise UserInputError(f"{out}: cannot write to {probe} (permission denied)")
    if probe.is_file():
        raise UserInputError(f"{out}: {probe} is a file, not a folder")
    return out
