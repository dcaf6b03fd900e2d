"""Losses and metrics with missing targets masked out, as Chemprop does.

A blank cell in a multi-task table is NaN (binary / regression targets) or -1 (a class
index). It contributes nothing to the loss or to the metric of its column, and a batch
whose targets are all missing gives a zero loss that still has a gradient graph (so DDP
ranks stay in step).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
import torchmetrics
from torchmetrics.classification import BinaryAUROC, BinaryAveragePrecision
from torchmetrics.wrappers.abstract import WrapperMetric

LossKind = Literal["binary", "multiclass", "regression"]


def masked_loss(
    output: torch.Tensor,
    target: torch.Tensor,
    kind: LossKind,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean loss over the *present* targets.

    Args:
        output: (B, T) logits (binary), (B, C) logits (multiclass) or (B, T) values.
        target: (B, T) with NaN = missing, or (B,) class indices with -1 = missing.
        kind: BCE-with-logits per entry, cross-entropy over classes, or squared error.
        weight: optional (T,) per-task weight (binary/regression).
    """
    if kind == "multiclass":
        if not (target >= 0).any():
            return output.sum() * 0.0
        return F.cross_entropy(output, target.long(), ignore_index=-1)
    present = ~torch.isnan(target)
    if not present.any():
        return output.sum() * 0.0
    safe = torch.where(present, target, torch.zeros_like(target))
    if kind == "binary":
        losses = F.binary_cross_entropy_with_logits(output, safe, reduction="none")
    else:
        losses = F.mse_loss(output, safe, reduction="none")
    if weight is not None:
        losses = losses * weight.to(losses)
    return (losses * present).sum() / present.sum()


class MaskedTaskMetric(WrapperMetric):
    """Column ``task`` of (preds (B, T), target (B, T)); rows whose target is NaN are skipped.

    Wraps any torchmetrics metric, so a multi-task table with gaps gets the right
    RMSE/MAE/R² or auROC/auPRC per task. Metric states sync across DDP ranks as usual.
    """

    full_state_update = False

    def __init__(self, metric: torchmetrics.Metric, task: int, min_samples: int = 1) -> None:
        super().__init__()
        self.metric = metric
        self.task = task
        # R² and auROC need two samples; a tiny val split (or fast_dev_run) gives NaN.
        self.min_samples = min_samples
        self.add_state("count", default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        p, t = preds[:, self.task], target[:, self.task]
        keep = ~torch.isnan(t)
        self.count += keep.sum()
        if keep.any():
            if isinstance(self.metric, (BinaryAUROC, BinaryAveragePrecision)):
                self.metric.update(p[keep], t[keep].long())
            else:
                self.metric.update(p[keep], t[keep])

    def compute(self) -> torch.Tensor:
        if int(self.count) < self.min_samples:
            return torch.tensor(float("nan"))
        return self.metric.compute()

    def reset(self) -> None:
        self.metric.reset()
        super().reset()

    def forward(self, *args, **kwargs):  # only update/compute are used by the tasks
        self.update(*args, **kwargs)
