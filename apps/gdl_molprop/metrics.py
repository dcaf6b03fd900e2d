"""Per-task metrics with missing targets masked out (a blank CSV cell is NaN, as in Chemprop).

``MaskedTaskMetric`` wraps any torchmetrics metric and feeds it one task's column of
(preds, target) with the NaN targets removed, so a multi-task table with gaps gets the
right RMSE/MAE/R² or auROC/auPRC per task. Metric states sync across DDP ranks as usual.
"""

from __future__ import annotations

import re

import torch
import torchmetrics
from torchmetrics.classification import BinaryAUROC, BinaryAveragePrecision
from torchmetrics.regression import MeanAbsoluteError, MeanSquaredError, R2Score
from torchmetrics.wrappers.abstract import WrapperMetric


class MaskedTaskMetric(WrapperMetric):
    """Column ``task`` of (preds (B, T), target (B, T)); rows whose target is NaN are skipped."""

    full_state_update = False

    def __init__(self, metric: torchmetrics.Metric, task: int, min_samples: int = 1) -> None:
        super().__init__()
        self.metric = metric
        self.task = task
        # R² needs two samples; a tiny val split (or fast_dev_run) must give NaN, not crash.
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

    def forward(self, *args, **kwargs):  # only update/compute are used by the task
        self.update(*args, **kwargs)


def metric_key(task: str) -> str:
    """A task name usable in a metric key: runs of other characters become '_'."""
    return re.sub(r"[^0-9A-Za-z]+", "_", task).strip("_") or "task"


def task_metrics(task_names: list[str], task_type: str) -> torchmetrics.MetricCollection:
    """rmse/mae/r2 (regression) or auroc/auprc (classification), one of each per task."""
    metrics: dict[str, torchmetrics.Metric] = {}
    for i, task in enumerate(task_names):
        name = metric_key(task)
        if task_type == "regression":
            metrics[f"rmse_{name}"] = MaskedTaskMetric(MeanSquaredError(squared=False), i)
            metrics[f"mae_{name}"] = MaskedTaskMetric(MeanAbsoluteError(), i)
            metrics[f"r2_{name}"] = MaskedTaskMetric(R2Score(), i, min_samples=2)
        else:
            metrics[f"auroc_{name}"] = MaskedTaskMetric(BinaryAUROC(), i, min_samples=2)
            metrics[f"auprc_{name}"] = MaskedTaskMetric(BinaryAveragePrecision(), i, min_samples=2)
    return torchmetrics.MetricCollection(metrics, compute_groups=False)
