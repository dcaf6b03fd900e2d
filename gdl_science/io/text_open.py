"""Open an input text file, compressed or not, with errors a user can act on.

The compression is detected from the file's first bytes, not its name: a ``.bgz`` VCF,
a gzipped file named ``.txt`` and a plain file named ``.gz`` all open correctly. BGZF
(bgzip) is multi-member gzip, which ``gzip`` reads. bzip2 and xz are read as well.

Lines are decoded one at a time, so a failure is pinned to its line and the stream
stays usable after a bad byte: a reader can report that record and read on. Every
failure is a ``TextReadError`` (a UserInputError, exit 2) naming the file and the line:
- a byte that is not valid in the encoding (``UnicodeDecodeError``): recoverable, the
  stream continues with the next line;
- a truncated or corrupt compressed stream (``EOFError``, ``gzip.BadGzipFile``,
  ``zlib.error``, ...): not recoverable, later reads return end of file.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from pathlib import Path
from typing import IO

from gdl_science.io.user_error import UserInputError

# First bytes of the formats we read, and of some we refuse with a clear line.
_MAGIC_READ = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}
_MAGIC_REFUSE = {b"PK\x03\x04": "a zip archive", b"\x28\xb5\x2f\xfd": "zstd-compressed"}
_STREAM_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, OSError, lzma.LZMAError)


class TextReadError(UserInputError):
    """A failure while reading ``path``; ``line`` is the 1-based line (0: before any).

    ``recoverable`` is True when only that line is bad and reading may go on.
    """

    def __init__(self, message: str, path: Path, line: int, recoverable: bool) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.recoverable = recoverable


def compression_of(path: str | Path) -> str | None:
    """'gzip', 'bzip2', 'xz' or None (plain), from the first bytes; refuses zip/zstd."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(6)
    except FileNotFoundError as err:
        raise UserInputError(f"{path}: file not found") from err
    except IsADirectoryError as err:
        raise UserInputError(f"{path}: is a folder, not a file") from err
    except PermissionError as err:
        raise UserInputError(f"{path}: cannot read (permission denied)") from err
    for magic, name in _MAGIC_REFUSE.items():
        if head.startswith(magic):
            raise UserInputError(f"{path}: {name}; decompress it (or gzip it) first")
    for magic, name in _MAGIC_READ.items():
        if head.startswith(magic):
            return name
    return None


def open_binary(path: str | Path) -> IO[bytes]:
    """The file's decompressed bytes (gzip/bgzip, bzip2, xz by magic bytes, or plain)."""
    path = Path(path)
    kind = compression_of(path)
    if kind == "gzip":
        return gzip.open(path, "rb")
    if kind == "bzip2":
        return bz2.open(path, "rb")
    if kind == "xz":
        return lzma.open(path, "rb")
    return open(path, "rb")


class TextStream(io.TextIOBase):
    """A read-only text stream decoded line by line; see the module docstring.

    ``line_number`` is the number of lines read so far (the current line after a
    ``readline``), for readers that want to name it in their own messages.
    """

    def __init__(self, path: Path, raw: IO[bytes], encoding: str, newline: str | None) -> None:
        super().__init__()
        self.path = path
        self.line_number = 0
        self._raw = raw
        self._encoding = encoding
        self._translate = newline is None
        self._pending = ""  # decoded text not yet returned by read(n)
        self._broken = False

    @property
    def name(self) -> str:  # type: ignore[override]
        return str(self.path)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding

    def readable(self) -> bool:
        return True

    def _next_line(self) -> str:
        """The next decoded line (with its newline), or '' at end of file."""
        if self._broken:
            return ""
        try:
            data = self._raw.readline()
        except _STREAM_ERRORS as err:
            self._broken = True
            raise TextReadError(
                f"{self.path} line {self.line_number + 1}: truncated or corrupt compressed "
                f"file ({type(err).__name__}: {err}); the lines before it were read",
                self.path,
                self.line_number + 1,
                recoverable=False,
            ) from err
        if not data:
            return ""
        self.line_number += 1
        try:
            text = data.decode(self._encoding)
        except UnicodeDecodeError as err:
            bad = data[err.start : err.start + 1].hex()
            raise TextReadError(
                f"{self.path} line {self.line_number}: byte 0x{bad} at column {err.start + 1} "
                f"is not {self._encoding} text",
                self.path,
                self.line_number,
                recoverable=True,
            ) from err
        if self._translate and text.endswith("\r\n"):
            text = text[:-2] + "\n"
        return text

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        if self._pending:
            line, self._pending = self._split_pending()
        else:
            line = self._next_line()
        if size is not None and 0 <= size < len(line):
            line, self._pending = line[:size], line[size:] + self._pending
        return line

    def _split_pending(self) -> tuple[str, str]:
        cut = self._pending.find("\n") + 1
        if cut == 0:  # the pending text ends mid-line: complete it from the file
            return self._pending + self._next_line(), ""
        return self._pending[:cut], self._pending[cut:]

    def read(self, size: int | None = -1) -> str:
        parts = [self._pending]
        have = len(self._pending)
        self._pending = ""
        while size is None or size < 0 or have < size:
            line = self._next_line()
            if not line:
                break
            parts.append(line)
            have += len(line)
        text = "".join(parts)
        if size is not None and 0 <= size < len(text):
            text, self._pending = text[:size], text[size:]
        return text

    def __next__(self) -> str:
        # The hot path of ``for line in stream``: one bytes readline and one decode a line.
        line = self.readline() if self._pending else self._next_line()
        if not line:
            raise StopIteration
        return line

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def open_text(path: str | Path, encoding: str = "utf-8", newline: str | None = None) -> TextStream:
    """Open ``path`` for reading text; gzip/bgzip/bzip2/xz detected by magic bytes.

    ``encoding`` must be ASCII-compatible (utf-8, latin-1, ...): lines are split on the
    byte ``\n`` before decoding.

    ``newline=None`` turns ``\\r\\n`` line ends into ``\\n``; ``newline=""`` keeps them
    (as ``open`` does; the csv module accepts both). Use it as a context manager.
    A missing, unreadable or zip/zstd file is a UserInputError at once.
    """
    path = Path(path)
    return TextStream(path, open_binary(path), encoding, newline)
