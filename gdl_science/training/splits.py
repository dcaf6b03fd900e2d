"""Train/val/test splits every app shares: seeded random fractions, or a ``split`` column.

A ``split`` column holds ``train``, ``val`` (also ``valid``, ``validation``, ``dev``) or
``test`` per record, case-insensitive and stripped. Anything else is a user error that
names the record.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from gdl_science.io.user_error import UserInputError

SPLITS = ("train", "val", "test")
SPLIT_ALIASES = {
    "train": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "dev": "val",
    "test": "test",
}
Split = tuple[list[int], list[int], list[int]]


def split_indices(n: int, val_fraction: float, test_fraction: float, seed: int) -> Split:
    """A seeded random train/val/test split of range(n); each split non-empty when n >= 3."""
    if not 0 <= val_fraction < 1 or not 0 <= test_fraction < 1 or val_fraction + test_fraction >= 1:
        raise ValueError(f"bad split fractions: val={val_fraction}, test={test_fraction}")
    order = np.random.default_rng(seed).permutation(n).tolist()
    n_val = round(n * val_fraction)
    n_test = round(n * test_fraction)
    if n >= 3:
        n_val = max(n_val, 1) if val_fraction > 0 else 0
        n_test = max(n_test, 1) if test_fraction > 0 else 0
    val, test = order[:n_val], order[n_val : n_val + n_test]
    train = order[n_val + n_test :]
    return sorted(train), sorted(val), sorted(test)


def nested_subset(indices: Sequence[int], fraction: float, seed: int) -> list[int]:
    """The first ceil(fraction * n) entries of a seeded permutation of ``indices``, sorted.

    Nested by construction: for one seed, the subset at a smaller fraction lies inside
    the subset at a larger one (prior-report's 10% inside its 30% inside 100%).
    """
    if not 0 < fraction <= 1:
        raise UserInputError(f"train_fraction {fraction}: must be in (0, 1]")
    items = list(indices)
    if fraction >= 1:
        return items
    order = np.random.default_rng(seed).permutation(len(items))
    keep = max(1, math.ceil(fraction * len(items) - 1e-9))
    return sorted(items[i] for i in order[:keep])


def parse_split_value(value: str | None, where: str) -> str:
    """``train``, ``val`` or ``test`` for one cell; ``where`` names the record in errors."""
    key = (value or "").strip().lower()
    if key not in SPLIT_ALIASES:
        raise UserInputError(f"{where}: split value {value!r} is not one of train, val, test")
    return SPLIT_ALIASES[key]


def column_split(values: Sequence[str | None], where: Sequence[str]) -> Split:
    """Indices of train/val/test from a ``split`` column; ``where[i]`` names record i."""
    out: dict[str, list[int]] = {name: [] for name in SPLITS}
    for i, value in enumerate(values):
        out[parse_split_value(value, where[i])].append(i)
    if not out["train"]:
        raise UserInputError("the split column leaves no training records")
    return out["train"], out["val"], out["test"]
