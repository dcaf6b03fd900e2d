"""Progress display for long non-training work (predict, preprocessing)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def progress(
    iterable: Iterable[T], total: int | None = None, desc: str = "", unit: str = "it"
) -> Iterator[T]:
    """A tqdm bar on stderr; ``GDL_NO_PROGRESS=1`` turns it off (logs, CI)."""
    disable = os.environ.get("GDL_NO_PROGRESS", "") not in ("", "0")
    yield from tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=disable,
        mininterval=0.5,
        dynamic_ncols=True,
    )
