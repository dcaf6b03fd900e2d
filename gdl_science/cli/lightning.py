"""LightningCLI for fit/validate/test, with the suite's defaults.

Defaults every app gets: a ModelCheckpoint that also keeps ``last.ckpt``, checkpoint
files written atomically (a crash mid-save never leaves a truncated checkpoint), and a
line at the end of fit naming the checkpoint to use with ``predict``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.plugins.io import TorchCheckpointIO

from gdl_science.io.atomic import atomic_path


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoints are written to a temporary file and renamed into place."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None
    ) -> None:
        with atomic_path(path, suffix=".ckpt") as tmp:
            super().save_checkpoint(checkpoint, tmp, storage_options)


class ReportCheckpoint(Callback):
    """Print where the trained model is, so the next command can use it."""

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        for cb in trainer.checkpoint_callbacks:
            if isinstance(cb, ModelCheckpoint):
                best = cb.best_model_path or cb.last_model_path
                if cb.last_model_path:
                    print(f"last checkpoint: {cb.last_model_path}", file=sys.stderr)
                if best:
                    print(f"best checkpoint: {best}", file=sys.stderr)
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
        if metrics:
            shown = " ".join(f"{k}={v:.4g}" for k, v in sorted(metrics.items()))
            print(f"final metrics: {shown}", file=sys.stderr)


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
        return super()._instantiate_trainer(config, callbacks)

    def add_arguments_to_parser(self, parser: Any) -> None:
        for source, target in self._links:
            parser.link_arguments(source, target, apply_on="instantiate")


def run_lightning(spec: Any, args: Sequence[str]) -> GDLLightningCLI:
    return GDLLightningCLI(
        spec.task_class,
        spec.datamodule_class,
        args=list(args),
        links=spec.links,
        save_config_kwargs={"overwrite": True},
        trainer_defaults={
            "callbacks": [ModelCheckpoint(save_last=True), ReportCheckpoint()],
        },
    )
