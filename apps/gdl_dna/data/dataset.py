"""Validated records -> tensors: sequences are encoded lazily, per item, into a window."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from gdl_dna.data.alphabet import encode, fit_to_window


def encode_window(sequence: str, window: int) -> torch.Tensor:
    """(4, window) float32 one-hot of a validated sequence, centred (see fit_to_window)."""
    return torch.from_numpy(fit_to_window(encode(sequence), window))


class SequenceDataset(Dataset):
    """Items (x (4, window) float32, y) with y (T,) float32 (NaN = missing) or () int64 (-1)."""

    def __init__(self, sequences: list[str], targets: np.ndarray, window: int) -> None:
        if len(sequences) != len(targets):
            raise ValueError(f"{len(sequences)} sequences but {len(targets)} targets")
        self.sequences = sequences
        self.targets = torch.from_numpy(targets)
        self.window = window

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return encode_window(self.sequences[i], self.window), self.targets[i]
