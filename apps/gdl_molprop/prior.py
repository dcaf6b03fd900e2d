"""prior-report's molecule part: score a cell on the validation molecules as given and
moved by the group of ``augment`` / ``check-symmetry``: a random rotation or reflection
with a translation of each batch's conformers, and a random permutation of the atoms of
every molecule (``MolPropTask.random_transform``; permutations alone for 2D graphs).

Predictions are ``predict_values`` (the user's units, or probabilities) of each
molecule's first conformer; metrics are the app's (``task_metrics``: per-target RMSE,
MAE, R², Pearson r, or auROC/auPRC) plus their mean over targets (``rmse``, ``pearson``
or ``auroc``). Transformed metrics and consistency are over ``DRAWS`` random elements.
"""

from __future__ import annotations

from typing import Any

import torch

from gdl_molprop.metrics import task_metrics
from gdl_science.graphs import GraphBatch
from gdl_science.prior_report import CellScores, PriorHooks, mean_over, prediction_change

DRAWS = 3  # random group elements per validation molecule
CHUNK = 128  # molecules per forward pass


@torch.no_grad()
def _predict(
    task: Any, batches: list[GraphBatch], generator: torch.Generator | None
) -> torch.Tensor:
    """(N, T) predictions; each batch moved by a random element when ``generator``."""
    out = []
    for batch in batches:
        if generator is not None:
            batch = task.random_transform(batch, generator)
        out.append(task.predict_values(batch))
    return torch.cat(out)


def metrics(task: Any, preds: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """The app's per-target metrics and their mean over targets per kind."""
    collection = task_metrics(task.task_names, task.task_type)
    collection.update(preds, target)
    values = {k: float(v) for k, v in collection.compute().items()}
    for kind in ("rmse", "mae", "r2", "pearson", "auroc", "auprc"):
        mine = [v for k, v in values.items() if k.startswith(f"{kind}_") and v == v]
        if mine:
            values[kind] = sum(mine) / len(mine)
    return values


def score(task: Any, datamodule: Any) -> CellScores:
    val = datamodule.datasets["val"]
    graphs = [options[0] for options in val.graphs]  # the first conformer, as predict uses
    batches = [GraphBatch.collate(graphs[i : i + CHUNK]) for i in range(0, len(graphs), CHUNK)]
    target = torch.cat([b.y for b in batches])
    p = _predict(task, batches, None)
    given = metrics(task, p, target)
    generator = torch.Generator().manual_seed(0)
    moved, changes = [], []
    for _ in range(DRAWS):
        p_g = _predict(task, batches, generator)
        moved.append(metrics(task, p_g, target))
        changes.append(prediction_change(p, p_g))
    consistency = mean_over(changes)
    consistency["max_change"] = max(c["max_change"] for c in changes)
    return CellScores(given, mean_over(moved), consistency)


def hooks(classification: bool = False) -> PriorHooks:
    """Regression: RMSE (lower is better), changes in the targets' units; classification:
    auROC, changes of the probability."""
    return PriorHooks(
        group="E(3) x atom permutations",
        metric="auroc" if classification else "rmse",
        higher_is_better=classification,
        change="mean_change",
        change_label=("the probability moves" if classification
                      else "the prediction (target units) moves"),
        score=score,
        level_tolerance=0.01 if classification else 0.02,
        for_task=lambda task, data: hooks(task.task_type == "classification"),
    )
