"""Refuse remote URLs (``s3://``, ``gs://``, ``https://``...) where a local path is needed.

``Path("s3://bucket/run")`` silently collapses to ``s3:/bucket/run``, a local folder
named ``s3:``, so a remote ``default_root_dir`` or ``--output`` would write to the wrong
place without a word. We do not read or write through fsspec: the user copies files to
and from the object store (``aws s3 cp``, ``gsutil cp``) and gives us local paths.
A leaf module (no package imports beyond the error class), usable by atomic writing.
"""

from __future__ import annotations

import re
from pathlib import Path

from gdl_science.io.user_error import UserInputError

# A scheme of two or more characters then ':/' (a collapsed '://' included), so a
# Windows drive letter (C:/) is not taken for a URL.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:/")


def is_remote(path: str | Path) -> bool:
    """True for ``scheme://...`` (or its collapsed form ``scheme:/...``)."""
    return bool(_URL.match(str(path)))


def refuse_remote(path: str | Path, what: str) -> None:
    """Raise a one-line UserInputError when ``path`` is a URL; ``what`` names the flag."""
    if is_remote(path):
        raise UserInputError(
            f"{what} {path}: remote paths are not supported; use a local or mounted folder "
            "and copy to or from the object store yourself"
        )
