"""``metrics.png`` beside the checkpoints after every fit: the curves people look at first.

Two panels per epoch: the loss (train and val) and the checkpoint selection metric
(train and val, where the task logs both). The source is Lightning's CSV log
(``metrics.csv``); with another logger the callback's own per-epoch record is used.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from gdl_science.io.atomic import save_figure

Curves = dict[str, dict[int, float]]  # metric name -> {epoch: value}


def read_csv_log(path: str | Path) -> Curves:
    """Per-epoch values of every column of a Lightning ``metrics.csv`` (last one wins)."""
    curves: Curves = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            try:
                epoch = int(float(row.get("epoch") or "nan"))
            except ValueError:
                continue
            for key, text in row.items():
                if key in ("epoch", "step") or not text:
                    continue
                try:
                    value = float(text)
                except ValueError:
                    continue
                if math.isfinite(value):
                    curves.setdefault(key, {})[epoch] = value
    return curves


def _pick(curves: Curves, *names: str) -> tuple[str, dict[int, float]] | None:
    for name in names:
        if curves.get(name):
            return name, curves[name]
    return None


def plot_learning_curves(curves: Curves, selection: str, path: str | Path) -> Path | None:
    """Write the two-panel PNG atomically; None when there is nothing to draw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric = selection.split("/", 1)[-1]
    panels = [
        ("loss", [_pick(curves, "train/loss_epoch", "train/loss"), _pick(curves, "val/loss")]),
        (metric, [_pick(curves, f"train/{metric}"), _pick(curves, f"val/{metric}")]),
    ]
    panels = [(title, [c for c in series if c]) for title, series in panels]
    panels = [(title, series) for title, series in panels if series]
    if metric == "loss":
        panels = panels[:1]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, (title, series) in zip(axes[0], panels):
        for name, values in series:
            epochs = sorted(values)
            ax.plot(epochs, [values[e] for e in epochs], marker="o", ms=3, label=name)
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return save_figure(fig, path)


class LearningCurves(Callback):
    """Records per-epoch metrics and writes ``metrics.png`` at the end of fit (rank 0)."""

    def __init__(self, selection: str = "val/loss") -> None:
        self.selection = selection
        self.history: Curves = {}

    def _record(self, trainer: Trainer) -> None:
        for key, value in trainer.callback_metrics.items():
            if getattr(value, "numel", lambda: 0)() == 1:
                v = float(value)
                if math.isfinite(v):
                    self.history.setdefault(key, {})[trainer.current_epoch] = v

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._record(trainer)

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.sanity_checking:
            self._record(trainer)

    def output_path(self, trainer: Trainer) -> Path | None:
        for cb in trainer.checkpoint_callbacks:
            if isinstance(cb, ModelCheckpoint) and cb.dirpath:
                return Path(cb.dirpath) / "metrics.png"
        return None

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.is_global_zero or trainer.fast_dev_run:
            return
        path = self.output_path(trainer)
        if path is None:
            return
        curves = self._curves(trainer)
        written = plot_learning_curves(curves, self.selection, path)
        if written is not None:
            import sys

            print(f"learning curves: {written}", file=sys.stderr)

    def _curves(self, trainer: Trainer) -> Curves:
        logger: Any = trainer.logger
        curves = self.history
        if isinstance(logger, CSVLogger):
            logger.save()  # flush buffered rows
            log = Path(logger.log_dir) / "metrics.csv"
            if log.exists():
                curves = read_csv_log(log)
        # A resumed fit keeps its checkpoints in the first run's folder but logs to a new
        # version: the epochs before the resume are in the first run's metrics.csv.
        path = self.output_path(trainer)
        earlier = path.parent.parent / "metrics.csv" if path is not None else None
        if earlier is not None and earlier.is_file() and isinstance(logger, CSVLogger) and (
            earlier.resolve() != (Path(logger.log_dir) / "metrics.csv").resolve()
        ):
            merged = read_csv_log(earlier)
            for name, values in curves.items():
                merged.setdefault(name, {}).update(values)
            curves = merged
        return curves
