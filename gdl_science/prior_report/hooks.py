"""What an app supplies to prior-report: how to score a trained task on the validation
set as given and under its group, and how the report should talk about the numbers.

The core runs the grid, the fits, the report and the plot; an app's ``prior.py`` builds
one ``PriorHooks`` whose ``score`` reuses the app's own predict path, metrics and group
elements (those of ``check-symmetry``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class CellScores:
    """One trained cell's numbers on the common validation set.

    given: the app's usual metrics (name -> value).
    transformed: the same metrics with every input moved by a group element (the mean
        over the elements used).
    consistency: how much the prediction changes between x and g·x, mapped back (e.g.
        ``mean_change`` / ``max_change``; medseg: the share of voxels that change).
    """

    given: dict[str, float]
    transformed: dict[str, float]
    consistency: dict[str, float]

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {"given": self.given, "transformed": self.transformed,
                "consistency": self.consistency}


@dataclass
class PriorHooks:
    """An app's part of prior-report.

    group: how the report names the group ("reverse complement", "E(3) x atom order").
    metric / higher_is_better: the headline metric (a key of ``given`` and
        ``transformed``) and its direction.
    change / change_label: the consistency key the verdict quotes and the phrase it
        completes: "Under <group>, <change_label> by ..." ("the prediction moves").
    level_tolerance: with one seed (no spread), differences up to this are "level".
    score: ``score(task, datamodule) -> CellScores``: ``task`` is the cell's best
        checkpoint, loaded and in eval mode; ``datamodule`` is set up (``val`` split).
    """

    group: str
    metric: str
    higher_is_better: bool
    change: str
    change_label: str
    score: Callable[[Any, Any], CellScores]
    level_tolerance: float = 0.01
    percent_change: bool = False  # the change is a share: the verdict prints it in %
    notes: list[str] = field(default_factory=list)
    # Optional: hooks adapted to the config (e.g. auROC for a classifier, the group the
    # data's plan chose), called with the task and the set-up data module the config
    # builds, before any cell runs.
    for_task: Callable[[Any, Any], PriorHooks] | None = None

    def specialise(self, task: Any, datamodule: Any) -> PriorHooks:
        return self.for_task(task, datamodule) if self.for_task is not None else self


def prediction_change(a: torch.Tensor, b: torch.Tensor) -> dict[str, float]:
    """Mean and max |a - b| over every entry that is finite in both (predictions of x and
    of g·x mapped back, any matching shape)."""
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    if a.shape != b.shape:
        raise ValueError(f"prediction shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    diff = (a - b).abs()
    diff = diff[torch.isfinite(diff)]
    if not diff.numel():
        return {"mean_change": float("nan"), "max_change": float("nan")}
    return {"mean_change": float(diff.mean()), "max_change": float(diff.max())}


def mean_over(dicts: list[dict[str, float]]) -> dict[str, float]:
    """Key-wise mean of metric dicts (NaN-free values only; NaN when none)."""
    keys = sorted({k for d in dicts for k in d})
    out = {}
    for k in keys:
        vals = [d[k] for d in dicts if k in d and d[k] == d[k]]
        out[k] = sum(vals) / len(vals) if vals else float("nan")
    return out
