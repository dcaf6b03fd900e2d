"""Pictures of predictions: parity plots (regression) and ROC curves (classification).

One panel per target, measured against predicted with the y = x line, RMSE and Pearson
r in the title; or the ROC curve with its AUROC. Missing targets (NaN) are left out per
panel. Written with matplotlib's Agg backend (no display), atomically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gdl_science.io import atomic_path


def _figure(n: int):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.8 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    return plt, fig, list(axes.flat[:n])


def _panels(y: np.ndarray, p: np.ndarray, names: Sequence[str]):
    """One figure panel per target: (fig, plt, [(ax, name, y_t, p_t), ...]) with the
    rows whose target or prediction is missing left out of that target's panel."""
    plt, fig, axes = _figure(len(names))
    panels = []
    for t, (ax, name) in enumerate(zip(axes, names)):
        ok = np.isfinite(y[:, t]) & np.isfinite(p[:, t])
        panels.append((ax, name, y[ok, t], p[ok, t]))
    return plt, fig, panels


def pearson(y: np.ndarray, p: np.ndarray) -> float:
    if len(y) < 3 or y.std() == 0 or p.std() == 0:
        return math.nan
    return float(np.corrcoef(y, p)[0, 1])


def roc_curve(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(false positive rates, true positive rates, AUROC) of scores p for labels y in {0,1}."""
    order = np.argsort(-p, kind="stable")
    y, p = y[order], p[order]
    distinct = np.r_[np.nonzero(np.diff(p))[0], len(p) - 1]  # last index of each score
    tps = np.cumsum(y)[distinct]
    fps = (distinct + 1) - tps
    pos, neg = max(y.sum(), 1), max(len(y) - y.sum(), 1)
    tpr, fpr = np.r_[0.0, tps / pos], np.r_[0.0, fps / neg]
    return fpr, tpr, float(np.trapz(tpr, fpr))


def parity_plot(
    y: np.ndarray, p: np.ndarray, names: Sequence[str], path: str | Path, label: str = ""
) -> Path:
    """y, p (n, T) with NaN = missing -> a PNG with one parity panel per target."""
    plt, fig, panels = _panels(y, p, names)
    for ax, name, yt, pt in panels:
        rmse = float(np.sqrt(np.mean((pt - yt) ** 2))) if len(yt) else math.nan
        ax.scatter(yt, pt, s=6, alpha=0.6)
        if len(yt):
            lo, hi = float(min(yt.min(), pt.min())), float(max(yt.max(), pt.max()))
            ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set_title(f"{label}{name}\nRMSE {rmse:.3f}, r {pearson(yt, pt):.3f} (n={len(yt)})",
                     fontsize=9)  # fmt: skip
        ax.set_xlabel("measured")
        ax.set_ylabel("predicted")
    return _save(plt, fig, path)


def roc_plot(
    y: np.ndarray, p: np.ndarray, names: Sequence[str], path: str | Path, label: str = ""
) -> Path:
    """y in {0, 1, NaN}, p probabilities (n, T) -> a PNG with one ROC panel per target."""
    plt, fig, panels = _panels(y, p, names)
    for ax, name, yt, pt in panels:
        if 0 < yt.sum() < len(yt):
            fpr, tpr, auc = roc_curve(yt, pt)
            ax.plot(fpr, tpr)
        else:
            auc = math.nan  # one class only: no curve
        ax.plot([0, 1], [0, 1], "k--", lw=0.8)
        ax.set_title(f"{label}{name}\nAUROC {auc:.3f} (n={len(yt)})", fontsize=9)
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
    return _save(plt, fig, path)


def prediction_plot(
    y: np.ndarray, p: np.ndarray, names: Sequence[str], task_type: str, path: str | Path,
    label: str = "",
) -> Path:  # fmt: skip
    """Parity plot for regression, ROC curves for classification."""
    plot = roc_plot if task_type == "classification" else parity_plot
    return plot(y, p, names, path, label)


def _save(plt, fig, path: str | Path) -> Path:
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path
