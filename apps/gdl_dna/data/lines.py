"""Numbered lines of an input file, each decoded on its own, for readers that go on.

Compression is detected by magic bytes (``gdl_science.io.open_binary``: gzip/bgzip,
bzip2, xz or plain, whatever the name says). A line that is not UTF-8 comes back with
``text`` None and the reason, and reading continues, so a reader can put that one
record in ``errors.tsv``; a truncated or corrupt compressed stream ends the lines with
one last ``Line`` carrying the reason (the lines before it were read and are kept).
"""

from __future__ import annotations

import lzma
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gdl_science.io import open_binary

# What a broken compressed stream raises mid-read (gzip.BadGzipFile is an OSError).
STREAM_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError)


@dataclass(frozen=True)
class Line:
    number: int  # 1-based
    text: str | None  # without the line end; None when ``error`` is set
    raw: bytes = b""  # the undecoded bytes (to name a record whose bytes are bad)
    error: str | None = None
    truncated: bool = False  # the stream ended here: no line follows


def read_lines(path: str | Path) -> Iterator[Line]:
    """Every line of ``path`` in order (see the module docstring). Opening problems
    (missing file, a folder, zip/zstd) raise UserInputError at once."""
    with open_binary(path) as fh:
        n = 0
        while True:
            try:
                data = fh.readline()
            except STREAM_ERRORS as err:
                reason = (
                    f"truncated or corrupt compressed file ({type(err).__name__}: {err}); "
                    "the lines before it were read"
                )
                yield Line(n + 1, None, b"", reason, truncated=True)
                return
            if not data:
                return
            n += 1
            raw = data.rstrip(b"\r\n")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                bad = raw[err.start : err.start + 1].hex()
                reason = f"byte 0x{bad} at column {err.start + 1} is not UTF-8 text"
                yield Line(n, None, raw, reason)
                continue
            yield Line(n, text, raw)


def lossy(raw: bytes) -> str:
    """A readable rendering of undecodable bytes (for ids in error reports)."""
    return raw.decode("utf-8", errors="replace")
