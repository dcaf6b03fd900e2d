"""prior-report's DNA part: score a cell on the validation sequences as given and
reverse-complemented (the group of ``check-symmetry``: {identity, RC}).

Predictions go through ``DNATask.predict_sequences`` (the window rule and padding of
``predict``); metrics are the app's (``gdl_dna.metrics``: auROC, auPRC, accuracy, MCC).
Consistency: the invariant head, |p(x) - p(RC x)|; the strand head, the two strands'
outputs of RC x against those of x swapped (its equivariance: 0 for ``equivariant``).
For a strand-specific target the RC sequence's label is not the original's, so the
metric "under RC" there measures how strand-aware the model is, not an accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from gdl_dna.metrics import compute_metrics
from gdl_dna.task import DNATask
from gdl_science.prior_report import CellScores, PriorHooks, prediction_change
from gdl_science.symmetry import RCFieldType, ReverseComplementGroup

RC = ReverseComplementGroup()
CHUNK = 256  # sequences per forward pass


@torch.no_grad()
def _predict(task: DNATask, one_hots: Sequence[np.ndarray], both_strands: bool) -> torch.Tensor:
    """(N, n) probabilities / values; (N, 2n) of both strands when ``both_strands``."""
    out = []
    for i in range(0, len(one_hots), CHUNK):
        part = one_hots[i : i + CHUNK]
        if both_strands:
            groups = task.frame(part)
            out.append(task.grouped_output(
                groups, lambda x, m: task.to_values(task.full_output(x, m))))
        else:
            out.append(task.predict_sequences(part))
    return torch.cat(out)


def reverse_complements(one_hots: Sequence[np.ndarray]) -> list[np.ndarray]:
    """(4, L) A,C,G,T one-hots -> their reverse complements (both axes flipped)."""
    return [np.ascontiguousarray(x[::-1, ::-1]) for x in one_hots]


def score(task: Any, datamodule: Any) -> CellScores:
    val = datamodule.datasets["val"]
    one_hots = [val[i][0] for i in range(len(val))]
    target = val.targets
    rc = reverse_complements(one_hots)
    spec = task.spec
    p, p_rc = _predict(task, one_hots, False), _predict(task, rc, False)
    given = compute_metrics(spec.kind, p, target, spec.names, spec.classes)
    transformed = compute_metrics(spec.kind, p_rc, target, spec.names, spec.classes)
    if task.arch.head == "strand" and spec.kind != "multiclass":
        swap = RC.action(RCFieldType(regular=task.n_outputs), length_axis=False)
        both, both_rc = _predict(task, one_hots, True), _predict(task, rc, True)
        consistency = prediction_change(both_rc, swap(1, both))
    else:
        consistency = prediction_change(p, p_rc)
    return CellScores(given, transformed, consistency)


def hooks() -> PriorHooks:
    return PriorHooks(
        group="reverse complement",
        metric="mcc",
        higher_is_better=True,
        change="mean_change",
        change_label="the predicted probability |p(x) - p(RC x)| moves",
        score=score,
        level_tolerance=0.01,
        notes=["with --model.head strand the metric under reverse complement scores "
               "p(RC x) against x's own label, which a strand-specific target does not "
               "keep; consistency there is the strand head's equivariance error"],
    )
