"""An epoch's (predictions, targets), gathered over every DDP rank.

Metrics that need the whole epoch at once (auROC, MCC at a threshold, Pearson r) and the
test plots read from this store. It is a pair of torchmetrics ``CatMetric``, so
``compute()`` concatenates every rank's share under DDP; rank 0 alone would see 1/world
of the data. NaN (a missing target) is kept in place (``nan_strategy="disable"``):
CatMetric's default drops NaN entries and flattens, which would misalign predictions
and targets as soon as one label is missing.
"""

from __future__ import annotations

import torch
from torch import nn
from torchmetrics import CatMetric


class PredictionStore(nn.Module):
    """``update((B, T) preds, (B, T) target)`` per batch; ``compute()`` -> ((N, T), (N, T))."""

    def __init__(self) -> None:
        super().__init__()
        self.preds = CatMetric(nan_strategy="disable")
        self.target = CatMetric(nan_strategy="disable")

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        self.preds.update(preds.detach().float())
        self.target.update(target.detach().float())

    def compute(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Everything since the last reset, all ranks; None if nothing was stored."""
        if not self.preds.update_count:
            return None
        return self.preds.compute(), self.target.compute()

    def reset(self) -> None:
        self.preds.reset()
        self.target.reset()
