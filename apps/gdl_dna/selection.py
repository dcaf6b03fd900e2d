"""Which epoch ``best.ckpt`` keeps: the best val auROC, or the latest on its plateau.

The default (``selection_tolerance: 0``) is the best-auROC epoch. The plateau rule is an
option, measured and not the default: on GUE TATA dev it lifts the single fit (0.768
against 0.748 MCC, 3 seeds) but lowers the 3-member ensemble (0.777 against 0.788),
because late, overfit members are less diverse (``docs/dna.md``, selection).

Why not simply the best auROC: on GUE TATA dev the auROC is flat from about epoch 6
(epoch-to-epoch differences of 0.001, far below its sampling error), so the maximum lands
on a more or less random plateau epoch, while the cosine schedule keeps annealing and
the late epochs are better calibrated at the 0.5 threshold (last epoch 0.768 dev MCC
against 0.748 for the best-auROC epoch, ``benchmarks/results/dna_selection.md``).
So with ``selection_tolerance`` d > 0 an epoch replaces ``best.ckpt`` when its auROC is
within d of the best so far: the kept epoch is the *latest* one within d of the best.

How it reaches Lightning's ``ModelCheckpoint`` (which keeps strictly larger values
only): the task logs ``val/auroc_plateau`` = best auROC so far + 1e-6 * n on plateau
epochs, n counting validations (the tie-break that makes later plateau epochs win;
Lightning logs float32, so it must exceed its resolution, 6e-8 near 1; it stays below
1e-4 for 100 validations), and the epoch's own auROC elsewhere, which is below every
earlier plateau value. The running best is kept in the checkpoint, so a resumed fit
continues the same rule. With d = 0 the rule is the plain best-auROC one (``val/auroc``).
Regression keeps ``val/loss``.
"""

from __future__ import annotations

from typing import Any

from gdl_science.training import SelectionMetric

PLATEAU = "val/auroc_plateau"
TIE_BREAK = 1e-6  # per validation (see the module docstring)
STATE_KEY = "gdl_dna_auroc_best"


def plateau_score(
    auroc: float, best_so_far: float | None, tolerance: float, n: int
) -> tuple[float, float]:
    """(the value to log, the new best so far) for one validation epoch."""
    best = auroc if best_so_far is None else max(best_so_far, auroc)
    if auroc >= best - tolerance:
        return best + TIE_BREAK * n, best
    return auroc, best


class PlateauSelection:
    """Mixin for the dna task: the selection metric and its state across a resume.

    The host has ``hparams.selection_tolerance``, ``spec.kind``, ``trainer`` and
    Lightning's ``log``; it calls ``log_plateau(auroc)`` after logging ``val/auroc``."""

    _auroc_best: float | None = None
    _validations = 0

    def selection_metric(self) -> SelectionMetric:
        if self.spec.kind == "regression":
            return SelectionMetric("val/loss", "min")
        if self.hparams.selection_tolerance > 0:
            return SelectionMetric(PLATEAU, "max")
        return SelectionMetric("val/auroc", "max")

    def log_plateau(self, auroc: float) -> None:
        if self.hparams.selection_tolerance <= 0 or self.trainer.sanity_checking:
            return
        self._validations += 1
        value, self._auroc_best = plateau_score(
            float(auroc), self._auroc_best, self.hparams.selection_tolerance, self._validations
        )
        self.log(PLATEAU, value, sync_dist=True)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[STATE_KEY] = (self._auroc_best, self._validations)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self._auroc_best, self._validations = checkpoint.get(STATE_KEY, (None, 0))
