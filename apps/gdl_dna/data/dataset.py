"""Validated records -> tensors: sequences are encoded lazily, per item, at their own length.

Items keep their length; the task pads each batch to a frame by its window rule
(``framing.frame_batch``), so the rule travels with the checkpoint, not with the data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from gdl_dna.data.alphabet import encode, fit_to_window


def encode_window(sequence: str, window: int) -> torch.Tensor:
    """(4, window) float32 one-hot of a validated sequence, centred (see fit_to_window)."""
    return torch.from_numpy(fit_to_window(encode(sequence), window))


class SequenceDataset(Dataset):
    """Items (one-hot (4, L) float32 array, y) with y (T,) float32 (NaN = missing) or () int64."""

    def __init__(self, sequences: list[str], targets: np.ndarray) -> None:
        if len(sequences) != len(targets):
            raise ValueError(f"{len(sequences)} sequences but {len(targets)} targets")
        self.sequences = sequences
        self.targets = torch.from_numpy(targets)

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, i: int) -> tuple[np.ndarray, torch.Tensor]:
        return encode(self.sequences[i]), self.targets[i]


def collate_sequences(
    items: Sequence[tuple[np.ndarray, torch.Tensor]],
) -> tuple[list[np.ndarray], torch.Tensor]:
    """A batch of variable-length one-hots (framed later by the task) and stacked targets."""
    return [x for x, _ in items], torch.stack([y for _, y in items])
