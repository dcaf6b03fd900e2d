"""Resuming a killed fit so that it ends as if it had never stopped.

Rerunning the same ``fit`` command finds the newest ``last.ckpt`` under
``trainer.default_root_dir`` saved with the same model and data settings and resumes it.
Lightning would put the resumed run's checkpoints in a new logger version
(``version_1/checkpoints``) and, because that folder differs from the saved one, reset
``best_model_score``: the first epoch after the resume would become ``best.ckpt`` even
when an earlier epoch was better. ``continue_in_place`` keeps the checkpoints in the
resumed run's folder instead, so Lightning restores the best score and path, and
``best.ckpt`` stays the best over every epoch of the fit. The logger still starts a new
version; ``metrics.png`` merges the resumed run's ``metrics.csv`` with the new one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import ModelCheckpoint

from gdl_science.io.checkpoint import load_checkpoint, safe_torch_load
from gdl_science.io.remote import refuse_remote
from gdl_science.io.user_error import UserInputError

# Values of --ckpt_path that Lightning resolves itself (not file names).
LIGHTNING_CKPT_ALIASES = ("best", "last", "hpc", "registry")


def canonical(hparams: Mapping[str, Any]) -> str:
    """Settings as one comparable string (private ``_`` keys dropped)."""
    public = {k: v for k, v in hparams.items() if not k.startswith("_")}
    return json.dumps(public, sort_keys=True, default=str)


def find_resumable_checkpoint(
    root: str | Path, model_hparams: Mapping[str, Any], data_hparams: Mapping[str, Any]
) -> Path | None:
    """The newest ``last.ckpt`` under ``root`` written by a run with the same settings.

    A checkpoint of a different model or data configuration is never resumed: rerunning
    the *same* command continues it, a changed command starts afresh.
    """
    candidates = sorted(
        Path(root).glob("**/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for path in candidates:
        try:
            ckpt = safe_torch_load(path)
        except UserInputError:  # a foreign or unreadable file is simply not resumable
            continue
        if not isinstance(ckpt, dict):
            continue
        same_model = canonical(ckpt.get("hyper_parameters") or {}) == canonical(model_hparams)
        saved_data = ckpt.get("datamodule_hyper_parameters") or {}
        if same_model and canonical(saved_data) == canonical(data_hparams):
            return path
    return None


def check_ckpt_path(value: Any, command: str) -> None:
    """Refuse a ``--ckpt_path`` that is not a loadable checkpoint, in one line (exit 2),
    before Lightning meets it with a traceback. Lightning's aliases pass through."""
    if value is None or str(value) in LIGHTNING_CKPT_ALIASES:
        return
    refuse_remote(value, f"{command} --ckpt_path")
    load_checkpoint(value)  # a manifest is refused naming a member, as by check-symmetry


def continue_in_place(trainer: Trainer, ckpt_path: str | Path, root: str | Path) -> None:
    """Keep this fit's checkpoints in the folder of ``ckpt_path`` when it is a checkpoint
    of this run (under ``root``), so the best score and path carry over the resume."""
    folder = Path(ckpt_path).resolve().parent
    if not folder.is_relative_to(Path(root).resolve()):
        return  # another run's checkpoint: Lightning's own behaviour (a new folder)
    for cb in trainer.checkpoint_callbacks:
        if isinstance(cb, ModelCheckpoint) and cb.dirpath is None:
            cb.dirpath = str(folder)
