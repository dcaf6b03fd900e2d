"""Per-task metrics with missing targets masked out (a blank CSV cell is NaN, as in Chemprop).

The masking itself is the core's ``MaskedTaskMetric``; this module only says which
metrics a molecular task reports, one of each per task.
"""

from __future__ import annotations

import re

import torchmetrics
from torchmetrics.classification import BinaryAUROC, BinaryAveragePrecision
from torchmetrics.regression import MeanAbsoluteError, MeanSquaredError, PearsonCorrCoef, R2Score

from gdl_science.training import MaskedTaskMetric


def metric_key(task: str) -> str:
    """A task name usable in a metric key: runs of other characters become '_'."""
    return re.sub(r"[^0-9A-Za-z]+", "_", task).strip("_") or "task"


def task_metrics(task_names: list[str], task_type: str) -> torchmetrics.MetricCollection:
    """rmse/mae/r2/pearson (regression) or auroc/auprc (classification), per task."""
    metrics: dict[str, torchmetrics.Metric] = {}
    for i, task in enumerate(task_names):
        name = metric_key(task)
        if task_type == "regression":
            metrics[f"rmse_{name}"] = MaskedTaskMetric(MeanSquaredError(squared=False), i)
            metrics[f"mae_{name}"] = MaskedTaskMetric(MeanAbsoluteError(), i)
            metrics[f"r2_{name}"] = MaskedTaskMetric(R2Score(), i, min_samples=2)
            metrics[f"pearson_{name}"] = MaskedTaskMetric(PearsonCorrCoef(), i, min_samples=2)
        else:
            metrics[f"auroc_{name}"] = MaskedTaskMetric(BinaryAUROC(), i, min_samples=2)
            metrics[f"auprc_{name}"] = MaskedTaskMetric(BinaryAveragePrecision(), i, min_samples=2)
    return torchmetrics.MetricCollection(metrics, compute_groups=False)
