"""The base LightningModule every app's task derives from.

An app supplies the parts (torchgeo's hooks, Chemprop's composition): the network, a
``step`` that returns loss, predictions and targets, a ``random_transform`` for the
``augment`` mode, and a ``check_symmetry`` for its group. The base owns the rest:
optimiser and schedule, the augmentation switch, metric bookkeeping per stage (synced
across DDP ranks by torchmetrics), and logging.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import lightning.pytorch as pl
import torch
import torchmetrics
from torch import nn

from gdl_science.symmetry.check import EquivarianceReport
from gdl_science.training.symmetry_mode import SymmetryMode, validate_symmetry_mode

OptimizerName = Literal["adamw", "adam", "sgd"]
SchedulerName = Literal["cosine", "constant", "plateau"]
STAGES = ("train", "val", "test")


def _key(stage: str) -> str:
    # nn.ModuleDict keys must not shadow Module methods such as ``train``.
    return f"{stage}_metrics"


def metrics_for(task: GDLTask, stage: str) -> torchmetrics.MetricCollection | None:
    """The metric collection of one stage (train, val or test), if the task has metrics."""
    return task.metrics.get(_key(stage), None)


@dataclass
class StepOutput:
    """What ``step`` returns: the loss, and predictions/targets for the metrics."""

    loss: torch.Tensor
    preds: torch.Tensor | None = None
    target: torch.Tensor | None = None
    batch_size: int | None = None


class GDLTask(pl.LightningModule):
    """Base task. Subclasses call ``self.save_hyperparameters()`` with primitive args only."""

    def __init__(
        self,
        symmetry: SymmetryMode = "equivariant",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        optimizer: OptimizerName = "adamw",
        scheduler: SchedulerName = "cosine",
        warmup_steps: int = 0,
        augment_seed: int = 0,
    ) -> None:
        super().__init__()
        self.symmetry = validate_symmetry_mode(symmetry)
        self.lr = lr
        self.weight_decay = weight_decay
        self.optimizer_name = optimizer
        self.scheduler_name = scheduler
        self.warmup_steps = warmup_steps
        self.augment_seed = augment_seed
        self._augment_generator: torch.Generator | None = None
        self.metrics = nn.ModuleDict()

    # ----- hooks an app implements -------------------------------------------------
    def step(self, batch: Any) -> StepOutput:
        """Loss, predictions and targets of one batch."""
        raise NotImplementedError

    def random_transform(self, batch: Any, generator: torch.Generator) -> Any:
        """A random group element applied to a training batch (``augment`` mode)."""
        raise NotImplementedError(f"{type(self).__name__} does not support symmetry='augment'")

    def configure_metrics(self) -> torchmetrics.MetricCollection | None:
        """Metrics of one stage; the base clones them for train/val/test."""
        return None

    def check_symmetry(
        self, input_path: str | None = None, dtype: torch.dtype = torch.float64
    ) -> EquivarianceReport:
        """Run ``check_equivariance`` on the whole model with the app's group and inputs."""
        raise NotImplementedError

    # ----- what the base does ------------------------------------------------------
    def setup(self, stage: str) -> None:
        if not len(self.metrics):
            collection = self.configure_metrics()
            if collection is not None:
                for name in STAGES:
                    self.metrics[_key(name)] = collection.clone(prefix=f"{name}/")

    def augment_generator(self) -> torch.Generator:
        # One stream per rank, seeded, so augmented runs are reproducible.
        if self._augment_generator is None:
            rank = self.global_rank if self._trainer is not None else 0
            self._augment_generator = torch.Generator().manual_seed(self.augment_seed + 1000 * rank)
        return self._augment_generator

    def update_metrics(self, stage: str, out: StepOutput) -> None:
        """Default: update the stage's collection with (preds, target)."""
        if _key(stage) in self.metrics and out.preds is not None and out.target is not None:
            self.metrics[_key(stage)].update(out.preds, out.target)

    def _shared_step(self, batch: Any, stage: str) -> torch.Tensor:
        out = self.step(batch)
        self.log(
            f"{stage}/loss",
            out.loss,
            on_step=stage == "train",
            on_epoch=True,
            prog_bar=stage != "test",
            batch_size=out.batch_size,
            sync_dist=True,  # every rank's share, never rank 0's alone
        )
        self.update_metrics(stage, out)
        if _key(stage) in self.metrics:
            self.log_dict(self.metrics[_key(stage)], on_step=False, on_epoch=True)
        return out.loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        if self.symmetry == "augment":
            batch = self.random_transform(batch, self.augment_generator())
        return self._shared_step(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._shared_step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._shared_step(batch, "test")

    def configure_optimizers(self) -> Any:
        params = [p for p in self.parameters() if p.requires_grad]
        if self.optimizer_name == "sgd":
            opt = torch.optim.SGD(params, lr=self.lr, momentum=0.9, weight_decay=self.weight_decay)
        elif self.optimizer_name == "adam":
            opt = torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        else:
            opt = torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)
        if self.scheduler_name == "plateau":
            sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=5)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val/loss"}}
        if self.scheduler_name == "constant" and not self.warmup_steps:
            return opt
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        warmup = min(self.warmup_steps, total - 1)
        scheds: list[torch.optim.lr_scheduler.LRScheduler] = []
        if warmup > 0:
            scheds.append(torch.optim.lr_scheduler.LinearLR(opt, 0.01, 1.0, total_iters=warmup))
        if self.scheduler_name == "cosine":
            main = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(total - warmup, 1))
        else:
            main = torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=0)
        scheds.append(main)
        if len(scheds) == 1:
            sched = scheds[0]
        else:
            sched = torch.optim.lr_scheduler.SequentialLR(opt, scheds, milestones=[warmup])
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
