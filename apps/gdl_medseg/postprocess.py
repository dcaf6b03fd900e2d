"""Largest-connected-component post-processing, decided on validation Dice.

As nnU-Net's ``find_best_configuration``: for each foreground label, keep only the
largest 26-connected component of that label (the other components become
background) *if* doing so raises that label's mean validation Dice. The decision is a
list of labels stored in the checkpoint (``lcc_labels``) and applied by ``predict``.
Distant false-positive islands are what inflate HD95; this removes them where the data
says a structure is one piece.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

STRUCTURE = np.ones((3, 3, 3), dtype=bool)  # 26-connectivity


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest connected component of a boolean (X, Y, Z) mask (empty stays empty)."""
    components, n = ndimage.label(mask, structure=STRUCTURE)
    if n <= 1:
        return mask
    sizes = np.bincount(components.ravel())
    sizes[0] = 0
    return components == int(sizes.argmax())


def apply_lcc(labels: np.ndarray, lcc_labels: Sequence[int]) -> np.ndarray:
    """(X, Y, Z) integer label map with each listed label reduced to its largest component."""
    out = labels.copy()
    for value in lcc_labels:
        mask = labels == value
        out[mask & ~largest_component(mask)] = 0
    return out


def dice(pred: np.ndarray, ref: np.ndarray) -> float:
    total = int(pred.sum()) + int(ref.sum())
    return 1.0 if total == 0 else 2.0 * int((pred & ref).sum()) / total


def choose_lcc(
    preds: Sequence[np.ndarray], refs: Sequence[np.ndarray], n_classes: int
) -> tuple[list[int], dict[int, tuple[float, float]]]:
    """Labels whose mean Dice over the cases improves with LCC; and per label (before, after)."""
    chosen, effect = [], {}
    for value in range(1, n_classes):
        before = [dice(p == value, r == value) for p, r in zip(preds, refs)]
        after = [dice(largest_component(p == value), r == value) for p, r in zip(preds, refs)]
        effect[value] = (float(np.mean(before)), float(np.mean(after)))
        if effect[value][1] > effect[value][0]:
            chosen.append(value)
    return chosen, effect
