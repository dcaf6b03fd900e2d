"""Epoch metrics per label and macro: auROC/auPRC/accuracy/MCC or Pearson/Spearman/MSE.

Predictions and targets of a stage are gathered with the core's ``PredictionStore``
(synced across DDP ranks, NaN kept in place) and scored at the end of the epoch, with
missing targets masked per label (NaN for binary/regression, -1 for multiclass).
"""

from __future__ import annotations

import math

import torch
import torchmetrics.functional as tmf

from gdl_science.training import PredictionStore

__all__ = [
    "PredictionStore",
    "binary_metrics",
    "compute_metrics",
    "mcc",
    "multiclass_metrics",
    "regression_metrics",
]


def _mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else float("nan")


def mcc(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Matthews correlation of 0/1 predictions and targets (0 when a margin is constant)."""
    p, t = pred.double(), target.double()
    tp, tn = float((p * t).sum()), float(((1 - p) * (1 - t)).sum())
    fp, fn = float((p * (1 - t)).sum()), float(((1 - p) * t).sum())
    denom = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return (tp * tn - fp * fn) / denom if denom > 0 else 0.0


def binary_metrics(probs: torch.Tensor, target: torch.Tensor, names: list[str]) -> dict[str, float]:
    """Per-label and macro auROC, auPRC, accuracy and MCC (at 0.5); probs/target (N, T),
    target NaN = missing."""
    out: dict[str, float] = {}
    per: dict[str, list[float]] = {"auroc": [], "auprc": [], "accuracy": [], "mcc": []}
    for j, name in enumerate(names):
        keep = ~torch.isnan(target[:, j])
        p, t = probs[keep, j], target[keep, j].long()
        both = t.numel() > 0 and 0 < int(t.sum()) < t.numel()
        values = {
            "auroc": float(tmf.classification.binary_auroc(p, t)) if both else float("nan"),
            "auprc": float(tmf.classification.binary_average_precision(p, t))
            if both
            else float("nan"),
            "accuracy": float(((p > 0.5).long() == t).float().mean())
            if t.numel()
            else float("nan"),
            "mcc": mcc((p > 0.5).long(), t) if t.numel() else float("nan"),
        }
        for k, v in values.items():
            per[k].append(v)
            out[f"{k}_{name}"] = v
    out.update({k: _mean(v) for k, v in per.items()})
    return out


def multiclass_metrics(
    probs: torch.Tensor, target: torch.Tensor, classes: list[str]
) -> dict[str, float]:
    """Macro and per-class auROC, macro auPRC and accuracy; target (N,) with -1 missing."""
    keep = target >= 0
    p, t = probs[keep], target[keep].long()
    k = len(classes)
    if t.numel() == 0:
        return {}
    out = {"accuracy": float((p.argmax(dim=1) == t).float().mean())}
    if t.unique().numel() > 1:
        per_class = tmf.classification.multiclass_auroc(p, t, num_classes=k, average="none")
        # One-vs-rest auROC is undefined for a class absent from (or alone in) the targets.
        present = torch.bincount(t, minlength=k)
        defined = (present > 0) & (present < t.numel())
        per_class = torch.where(defined, per_class, torch.full_like(per_class, float("nan")))
        out.update({f"auroc_{c}": float(v) for c, v in zip(classes, per_class)})
        out["auroc"] = _mean([float(v) for v in per_class])
        out["auprc"] = float(tmf.classification.multiclass_average_precision(p, t, num_classes=k))
    return out


def regression_metrics(
    preds: torch.Tensor, target: torch.Tensor, names: list[str]
) -> dict[str, float]:
    """Per-target and macro Pearson, Spearman and MSE; target NaN = missing."""
    out: dict[str, float] = {}
    per: dict[str, list[float]] = {"pearson": [], "spearman": [], "mse": []}
    for j, name in enumerate(names):
        keep = ~torch.isnan(target[:, j])
        p, t = preds[keep, j], target[keep, j]
        enough = t.numel() > 1 and float(t.std()) > 0 and float(p.std()) > 0
        values = {
            "pearson": float(tmf.pearson_corrcoef(p, t)) if enough else float("nan"),
            "spearman": float(tmf.spearman_corrcoef(p, t)) if enough else float("nan"),
            "mse": float(((p - t) ** 2).mean()) if t.numel() else float("nan"),
        }
        for k, v in values.items():
            per[k].append(v)
            out[f"{k}_{name}"] = v
    out.update({k: _mean(v) for k, v in per.items()})
    return out


def compute_metrics(
    kind: str, preds: torch.Tensor, target: torch.Tensor, names: list[str], classes: list[str]
) -> dict[str, float]:
    if kind == "binary":
        return binary_metrics(preds, target, names)
    if kind == "multiclass":
        return multiclass_metrics(preds, target, classes)
    return regression_metrics(preds, target, names)
