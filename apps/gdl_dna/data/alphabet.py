"""DNA text -> one-hot tensors, in A,C,G,T order so that RC is a flip of both axes.

IUPAC ambiguity codes are spread evenly over the bases they stand for (N -> 0.25 each,
R -> 0.5 A + 0.5 G, ...). The complement of an ambiguity code is the code of the
complemented bases, so spreading commutes with the reverse complement exactly.
Lowercase (soft-masked) letters are accepted; U is read as T. Any other character makes
the record bad: ``encode`` raises ``ValueError`` naming the character and its position.
"""

from __future__ import annotations

import numpy as np

BASES = "ACGT"

# Each code -> the bases it stands for (IUPAC-IUB 1984).
IUPAC: dict[str, str] = {
    "A": "A",
    "C": "C",
    "G": "G",
    "T": "T",
    "U": "T",
    "R": "AG",
    "Y": "CT",
    "S": "CG",
    "W": "AT",
    "K": "GT",
    "M": "AC",
    "B": "CGT",
    "D": "AGT",
    "H": "ACT",
    "V": "ACG",
    "N": "ACGT",
}

_COMPLEMENT_BASE = {"A": "T", "C": "G", "G": "C", "T": "A"}


def _complement_code(code: str) -> str:
    bases = "".join(sorted(_COMPLEMENT_BASE[b] for b in IUPAC[code]))
    return next(c for c, bs in IUPAC.items() if c != "U" and "".join(sorted(bs)) == bases)


COMPLEMENT: dict[str, str] = {c: _complement_code(c) for c in IUPAC}
_TRANSLATION = str.maketrans(
    "".join(COMPLEMENT) + "".join(COMPLEMENT).lower(),
    "".join(COMPLEMENT.values()) + "".join(COMPLEMENT.values()).lower(),
)

# Byte -> (4,) probabilities; rows of bad bytes are NaN so one vectorised lookup finds them.
_TABLE = np.full((256, 4), np.nan, dtype=np.float32)
for _code, _bases in IUPAC.items():
    for _case in (_code, _code.lower()):
        _TABLE[ord(_case)] = [1.0 / len(_bases) if b in _bases else 0.0 for b in BASES]


def reverse_complement(sequence: str) -> str:
    """The reverse complement of a DNA string (IUPAC codes and case kept)."""
    return sequence.translate(_TRANSLATION)[::-1]


def first_bad_character(sequence: str) -> tuple[int, str] | None:
    """(0-based position, character) of the first character that is not IUPAC DNA, or None."""
    raw = np.frombuffer(sequence.encode("latin-1", errors="replace"), dtype=np.uint8)
    bad = np.isnan(_TABLE[raw, 0])
    if not bad.any():
        return None
    i = int(np.argmax(bad))
    return i, sequence[i]


def encode(sequence: str) -> np.ndarray:
    """One-hot (4, L) float32 in A,C,G,T order, IUPAC codes spread over their bases.

    Raises ValueError("unknown character 'X' at position 17") for anything else.
    """
    try:
        raw = np.frombuffer(sequence.encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError:
        raw = None
    if raw is None or np.isnan(_TABLE[raw, 0]).any():
        pos, char = first_bad_character(sequence) or (0, sequence[:1])
        raise ValueError(f"unknown character {char!r} at position {pos + 1}")
    return np.ascontiguousarray(_TABLE[raw].T)


def fit_to_window(one_hot: np.ndarray, window: int) -> np.ndarray:
    """Centre-crop or zero-pad (4, L) to (4, window) so that RC commutes with it.

    When L - window is even the crop/pad is symmetric and RC commutes exactly. When it
    is odd no integer placement is symmetric, so we average the two placements half a
    base either side of the centre; RC swaps them, so RC still commutes exactly.
    Zero columns (not N) mark padding: "no sequence here" rather than "unknown base".
    """
    length = one_hot.shape[1]
    diff = length - window
    if diff == 0:
        return one_hot
    if diff % 2 == 0:
        return _place(one_hot, window, diff // 2)
    left = _place(one_hot, window, (diff - 1) // 2)
    right = _place(one_hot, window, (diff + 1) // 2)
    return 0.5 * (left + right)


def _place(one_hot: np.ndarray, window: int, start: int) -> np.ndarray:
    """Columns [start, start + window) of one_hot, zero outside it (start may be < 0)."""
    out = np.zeros((one_hot.shape[0], window), dtype=one_hot.dtype)
    src_lo, src_hi = max(start, 0), min(start + window, one_hot.shape[1])
    if src_hi > src_lo:
        out[:, src_lo - start : src_hi - start] = one_hot[:, src_lo:src_hi]
    return out
