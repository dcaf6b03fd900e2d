"""Width matching: the plain (``none``/``augment``) network gets the equivariant one's size.

Comparing the modes at equal parameter count is the fair default (DESIGN.md section 1).
A plain network's widths are the equivariant channel counts times one scale factor; its
parameter count grows monotonically with the scale, so we bisect on it (geometrically,
since counts grow about quadratically).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


def scaled_widths(base: Sequence[int], scale: float) -> list[int]:
    """``base`` widths times ``scale``, rounded, at least 1 each."""
    return [max(1, round(b * scale)) for b in base]


def match_parameter_count(
    base: Sequence[int],
    count: Callable[[list[int]], int],
    target: int,
    lo: float = 0.05,
    hi: float = 64.0,
    iterations: int = 30,
) -> list[int]:
    """The widths ``scaled_widths(base, s)`` whose ``count(widths)`` is closest to ``target``.

    Args:
        base: reference widths (e.g. the equivariant net's channel counts).
        count: builds the plain net for given widths and returns its parameter count.
        target: the parameter count to match.
    """
    cache: dict[tuple[int, ...], int] = {}

    def params(scale: float) -> int:
        widths = tuple(scaled_widths(base, scale))
        if widths not in cache:
            cache[widths] = count(list(widths))
        return cache[widths]

    for _ in range(iterations):
        mid = (lo * hi) ** 0.5
        lo, hi = (mid, hi) if params(mid) < target else (lo, mid)
        if scaled_widths(base, lo) == scaled_widths(base, hi):
            break
    best = min((lo, hi), key=lambda s: abs(params(s) - target))
    return scaled_widths(base, best)
