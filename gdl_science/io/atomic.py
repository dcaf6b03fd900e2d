"""Atomic output writing: a reader sees the old file or the complete new one, never half.

Everything is written to a temporary file in the destination folder (same file system,
so ``os.replace`` is atomic), flushed and fsynced, then renamed over the destination. On
any exception the temporary file is removed and the destination is untouched. The file
gets the permissions ``open()`` would give it (the umask), not mkstemp's 0600.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from gdl_science.io.remote import refuse_remote


def _file_mode(path: Path) -> int:
    """The permission bits a new file gets from ``open()``: 0o666 less the umask, or the
    bits of the file being replaced (so a chmod'ed output keeps its permissions)."""
    try:
        if path.is_file():
            return path.stat().st_mode & 0o7777
    except OSError:
        pass
    mask = os.umask(0)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path to write with any library; renamed to ``path`` on success.

    ``suffix`` defaults to the destination's full suffix (e.g. ``.nii.gz``), because some
    writers (nibabel) choose the format from the file name.
    """
    refuse_remote(path, "output")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = suffix if suffix is not None else "".join(path.suffixes)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent)
    # mkstemp creates the file 0600; collaborators on a shared cluster need the mode
    # every other program would give it (0644 under umask 022).
    os.fchmod(fd, _file_mode(path))
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


def save_figure(fig: Any, path: str | Path, dpi: int = 100) -> Path:
    """Write a matplotlib figure as PNG atomically and close it (frees its memory)."""
    import matplotlib.pyplot as plt

    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    plt.close(fig)
    return path
