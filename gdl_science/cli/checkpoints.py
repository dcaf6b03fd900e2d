"""The checkpoint callbacks every fit gets: best.ckpt, last.ckpt, atomic saves, the report.

- ``best.ckpt``: the epoch with the best value of the task's ``selection_metric``;
- ``last.ckpt``: every epoch, for resuming a killed fit;
- both written atomically (a crash mid-save never leaves a truncated checkpoint);
- both keep their state across a resume: ``resume.continue_in_place`` points them at the
  resumed run's folder, and a folder that was moved is followed (``Relocatable``), so
  ``best.ckpt`` is the best over *all* epochs of the fit, not of the epochs since the
  resume (Lightning resets ``best_model_score`` when the dirpath changes).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO

from gdl_science.cli.learning_curves import LearningCurves
from gdl_science.io.atomic import atomic_path


class Relocatable(ModelCheckpoint):
    """A ModelCheckpoint whose resumed state follows its folder.

    Lightning restores ``best_model_score`` only when the saved ``dirpath`` string equals
    the current one. Ours is set to the folder of the checkpoint being resumed; when that
    folder was moved or reached by another name, the saved paths are rebased onto it.
    """

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        saved = state_dict.get("dirpath")
        if saved and self.dirpath and str(saved) != str(self.dirpath):
            state_dict = _rebase(state_dict, str(saved), str(self.dirpath))
        super().load_state_dict(state_dict)


class BestCheckpoint(Relocatable):
    """``best.ckpt`` on the selection metric (see ``selection_callbacks``)."""

    @property
    def state_key(self) -> str:
        # The key this callback's state had when it was a plain ModelCheckpoint, so
        # last.ckpt files written before it had a class of its own resume with their best.
        return super().state_key.replace(type(self).__qualname__, "ModelCheckpoint", 1)


def _rebase(state: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """The callback state with its paths moved from ``old`` to ``new``, when its checkpoint
    files are found there (the folder was moved or is named differently)."""

    def move(path: Any) -> Any:
        if not isinstance(path, str) or not path:
            return path
        candidate = os.path.join(new, os.path.relpath(path, old))
        return candidate if os.path.isfile(candidate) else path

    best = state.get("best_model_path") or state.get("last_model_path")
    if not best or move(best) == best:
        return state  # the files did not move here: Lightning's own rule (a warning) applies
    out = dict(state, dirpath=new)
    for key in ("best_model_path", "kth_best_model_path", "last_model_path"):
        if key in out:
            out[key] = move(out[key])
    if isinstance(out.get("best_k_models"), dict):
        out["best_k_models"] = {move(k): v for k, v in out["best_k_models"].items()}
    return out


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoints are written to a temporary file and renamed into place."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None
    ) -> None:
        with atomic_path(path, suffix=".ckpt") as tmp:
            super().save_checkpoint(checkpoint, tmp, storage_options)


class LastCheckpoint(Relocatable):
    """``last.ckpt`` after every epoch, for resuming a killed fit.

    A callback of its own: since Lightning 2.6 a monitored ModelCheckpoint's
    ``save_last`` writes only on epochs that improved the monitor, which would leave
    ``last.ckpt`` at the best epoch and a resumed run would repeat epochs.
    """

    def __init__(self) -> None:
        super().__init__(filename="last", monitor=None, save_top_k=1, enable_version_counter=False)


class ReportCheckpoint(Callback):
    """Print where the trained model is, so the next command can use it.

    When no validation value of the selection metric was ever logged (no validation
    data, e.g. a split that left the val set empty), ``best.ckpt`` is a copy of
    ``last.ckpt`` and the line says so: the documented ``best.ckpt`` always exists.
    """

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        last = next(
            (cb.best_model_path for cb in trainer.checkpoint_callbacks
             if isinstance(cb, LastCheckpoint) and cb.best_model_path),
            "",
        )
        if last:
            print(f"last checkpoint: {last}", file=sys.stderr)
        for cb in trainer.checkpoint_callbacks:
            if isinstance(cb, LastCheckpoint) or not isinstance(cb, ModelCheckpoint):
                continue
            if cb.best_model_path:
                score = cb.best_model_score
                shown = f" ({cb.monitor}={float(score):.4g})" if score is not None else ""
                print(f"best checkpoint: {cb.best_model_path}{shown}", file=sys.stderr)
            elif last and cb.dirpath:
                best = Path(cb.dirpath) / f"{cb.filename}{cb.FILE_EXTENSION}"
                with atomic_path(best, suffix=".ckpt") as tmp:
                    shutil.copyfile(last, tmp)
                print(
                    f"best checkpoint: {best} (no {cb.monitor} was logged, so it is the last "
                    "epoch: is the validation set empty?)",
                    file=sys.stderr,
                )
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
        if metrics:
            shown = " ".join(f"{k}={v:.4g}" for k, v in sorted(metrics.items()))
            print(f"final metrics: {shown}", file=sys.stderr)


def selection_callbacks(model: Any, early_stopping_patience: int = 0) -> list[Callback]:
    """best.ckpt + last.ckpt on the model's selection metric, learning curves, and early
    stopping when ``early_stopping_patience`` > 0."""
    selection = model.selection_metric()
    callbacks: list[Callback] = [
        BestCheckpoint(
            filename="best",
            monitor=selection.name,
            mode=selection.mode,
            save_top_k=1,
            enable_version_counter=False,
        ),
        LastCheckpoint(),
        LearningCurves(selection.name),
        ReportCheckpoint(),
    ]
    if early_stopping_patience > 0:
        callbacks.append(
            EarlyStopping(
                monitor=selection.name,
                mode=selection.mode,
                patience=early_stopping_patience,
                check_finite=False,
            )
        )
    return callbacks
