"""LightningCLI for fit/validate/test, with the suite's defaults.

Defaults every app gets:

- ``best.ckpt`` (the epoch with the best value of the task's ``selection_metric``) and
  ``last.ckpt`` (for resuming), both written atomically: a crash mid-save never leaves
  a truncated checkpoint;
- optional early stopping on the same metric (``--early_stopping_patience N``);
- optional seed ensembles (``--ensemble_size N``: members in ``member_<i>/`` and an
  ``ensemble.json`` that predict accepts as one checkpoint; see ``ensemble_fit``);
- ``metrics.png`` (learning curves) beside the checkpoints;
- lines at the end of fit naming the checkpoints to use with ``predict``.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.plugins.io import TorchCheckpointIO

from gdl_science.cli.ensemble_fit import run_ensemble_fit
from gdl_science.cli.learning_curves import LearningCurves
from gdl_science.io.atomic import atomic_path
from gdl_science.io.user_error import UserInputError


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoints are written to a temporary file and renamed into place."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None
    ) -> None:
        with atomic_path(path, suffix=".ckpt") as tmp:
            super().save_checkpoint(checkpoint, tmp, storage_options)


class LastCheckpoint(ModelCheckpoint):
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
        ModelCheckpoint(
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


class GDLLightningCLI(LightningCLI):
    """LightningCLI plus the app's argument links (data attributes -> model arguments)."""

    def __init__(self, *args: Any, links: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        self._links = tuple(links)
        super().__init__(*args, **kwargs)

    def _instantiate_trainer(self, config: dict[str, Any], callbacks: list[Callback]) -> Trainer:
        # Added here rather than in trainer_defaults: a plugin instance cannot be written
        # into the saved config.yaml, and users never need to configure it.
        plugins = config.get("plugins") or []
        plugins = plugins if isinstance(plugins, list) else [plugins]
        if not any(isinstance(p, TorchCheckpointIO) for p in plugins):
            plugins.append(AtomicCheckpointIO())
        config["plugins"] = plugins
        patience = self._get(self.config_init, "early_stopping_patience", default=0) or 0
        callbacks = [*callbacks, *selection_callbacks(self.model, int(patience))]
        return super()._instantiate_trainer(config, callbacks)

    def add_arguments_to_parser(self, parser: Any) -> None:
        for source, target in self._links:
            parser.link_arguments(source, target, apply_on="instantiate")
        parser.add_argument(
            "--resume",
            type=Literal["auto", "never"],
            default="auto",
            help="fit only: with 'auto', rerunning a fit that was killed resumes from the newest "
            "last.ckpt under trainer.default_root_dir saved with the same model and data settings",
        )
        parser.add_argument(
            "--early_stopping_patience",
            type=int,
            default=0,
            help="fit only: stop after this many validation epochs without improvement of the "
            "selection metric (0: off, train for trainer.max_epochs)",
        )
        parser.add_argument(
            "--ensemble_size",
            type=int,
            default=1,
            help="fit only: train this many members (seeds seed_everything+0, +1, ...) under "
            "trainer.default_root_dir/member_<i> and write ensemble.json there, which predict "
            "takes as one --checkpoint (mean and std over the members)",
        )

    def current_settings(self) -> str:
        """The model and data settings, canonical: what must match to skip or resume."""
        return _canonical(dict(self.model.hparams)) + _canonical(_hparams(self.datamodule))

    def run_single_fit(self) -> None:
        super()._run_subcommand("fit")

    def _run_subcommand(self, subcommand: str) -> None:
        size = int(self.config[subcommand].get("ensemble_size") or 1)
        if subcommand != "fit" or size == 1:
            return super()._run_subcommand(subcommand)
        if size < 1:
            raise UserInputError(f"--ensemble_size must be 1 or more, got {size}")
        if self.config[subcommand].get("ckpt_path") is not None:
            raise UserInputError(
                "--ckpt_path cannot be combined with --ensemble_size: rerun the same ensemble "
                "command and each member resumes from its own last.ckpt"
            )
        run_ensemble_fit(self, size)

    def before_fit(self) -> None:
        config = self.config_init[self.subcommand]
        if config.get("resume") != "auto" or config.get("ckpt_path") is not None:
            return
        ckpt = find_resumable_checkpoint(
            self.trainer.default_root_dir, dict(self.model.hparams), _hparams(self.datamodule)
        )
        if ckpt is not None:
            print(f"resuming from {ckpt} (pass --resume never to start afresh)", file=sys.stderr)
            config["ckpt_path"] = str(ckpt)


def _hparams(obj: Any) -> dict[str, Any]:
    return dict(getattr(obj, "hparams", {}) or {})


def _canonical(hparams: Mapping[str, Any]) -> str:
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
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # a foreign or unreadable file is simply not resumable
            continue
        same_model = _canonical(ckpt.get("hyper_parameters") or {}) == _canonical(model_hparams)
        saved_data = ckpt.get("datamodule_hyper_parameters") or {}
        same_data = _canonical(saved_data) == _canonical(data_hparams)
        if same_model and same_data:
            return path
    return None


def run_lightning(spec: Any, args: Sequence[str]) -> GDLLightningCLI:
    return GDLLightningCLI(
        spec.task_class,
        spec.datamodule_class,
        args=list(args),
        links=spec.links,
        save_config_kwargs={"overwrite": True},
    )
