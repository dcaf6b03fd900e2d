"""Training-time sequence augmentations that keep the label: random end trims and point
mutations, applied to the one-hot arrays of a batch before the task frames it.

- ``shift``: up to ``shift`` bases are cut in total, split at random between the two ends.
  Framing centres what is left, so the sequence moves by up to ``shift / 2`` bases and the
  model sees a motif at slightly different offsets (a random shift with padding, where
  the padding is masked instead of being read as N).
- ``mutate``: each base is replaced by a uniformly random base with probability
  ``mutate`` (a mild input noise; a motif survives a few changed bases).

Both are symmetric under RC (a trim of (a, b) on x is a trim of (b, a) on RC x, and a
mutation is position-wise), so they do not bias the orientation an equivariant net sees.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def augment_one_hots(
    one_hots: Sequence[np.ndarray], generator: torch.Generator, shift: int = 0, mutate: float = 0.0
) -> list[np.ndarray]:
    """(4, L_i) float32 one-hots -> augmented copies (inputs are never modified)."""
    if shift <= 0 and mutate <= 0:
        return list(one_hots)
    out = []
    for x in one_hots:
        length = x.shape[1]
        if shift > 0 and length > 1:
            cut = int(torch.randint(0, min(shift, length - 1) + 1, (1,), generator=generator))
            left = int(torch.randint(0, cut + 1, (1,), generator=generator))
            x = x[:, left : length - (cut - left)]
        if mutate > 0:
            n = x.shape[1]
            hit = (torch.rand(n, generator=generator) < mutate).numpy()
            if hit.any():
                x = x.copy()
                bases = torch.randint(0, 4, (int(hit.sum()),), generator=generator).numpy()
                x[:, hit] = 0.0
                x[bases, np.flatnonzero(hit)] = 1.0
        out.append(np.ascontiguousarray(x))
    return out
