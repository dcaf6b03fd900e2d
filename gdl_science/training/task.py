"""The base LightningModule every app's task derives from.

The base owns what every app shares (torchgeo's ``BaseTask``, Chemprop's composition):

- the seven shared arguments (symmetry mode, optimiser, schedule, augmentation seed).
  A subclass declares only its own arguments and forwards ``**base_kwargs``; the base
  saves *all* of them as hyperparameters (Lightning collects the subclass's frame too);
- the network: the base calls ``build_network(equivariant)`` once, after the app's
  ``configure`` hook, and ``rebuild_network()`` rebuilds it when the app's plan changes;
- the ``augment`` switch with a seeded per-rank stream;
- ``check_symmetry``: the app only says *what* to check (``symmetry_check``); the base
  runs it on a copy in the requested dtype, so the task itself never changes dtype;
- the checkpoint selection metric (``selection_metric``), used by the CLI for best.ckpt;
- metric bookkeeping per stage (synced across DDP ranks by torchmetrics) and logging.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import lightning.pytorch as pl
import torch
import torchmetrics
from lightning.pytorch.utilities import rank_zero_info
from torch import nn

from gdl_science.symmetry.check import Action, EquivarianceReport, check_equivariance
from gdl_science.symmetry.group import Group
from gdl_science.training.averaging import mean_output
from gdl_science.training.schedules import build_optimizer, build_schedule
from gdl_science.training.symmetry_mode import (
    SymmetryMode,
    uses_equivariant_layers,
    validate_symmetry_mode,
)
from gdl_science.training.wall_clock import budget_seconds, time_fraction, training_summary

OptimizerName = Literal["adamw", "adam", "sgd"]
SchedulerName = Literal["cosine", "constant", "plateau", "poly"]
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


@dataclass
class SymmetryCheck:
    """What an app checks: ``fn(g·x) == out_action(g, fn(x))`` for the group's elements.

    ``fn`` is built from the *copy* the base hands to ``symmetry_check`` (already in the
    requested dtype and eval mode), e.g. ``task.predict_values``.
    """

    fn: Callable[[Any], Any]
    group: Group
    inputs: Any
    in_action: Action
    out_action: Action | None = None
    elements: Sequence[Any] | None = None


@dataclass(frozen=True)
class SelectionMetric:
    """The validation metric that picks ``best.ckpt``: its logged name and direction."""

    name: str = "val/loss"
    mode: Literal["min", "max"] = "min"


class GDLTask(pl.LightningModule):
    """Base task. Subclasses declare their own (primitive) arguments plus ``**base_kwargs``.

    Subclass protocol, in the order the base calls it from ``__init__``:

    1. ``configure()``: derive app state from ``self.hparams`` (label spec, plan, ...);
    2. ``build_network(equivariant)`` -> ``nn.Module``, stored as ``self.net``.

    Then, at run time: ``step``, ``random_transform`` (augment), ``configure_metrics``,
    ``symmetry_check`` and optionally ``selection_metric``.
    """

    # Hyperparameters that a checkpoint saved before they existed was trained with, for
    # ``gdl_science.io.load_task`` (a new default may build another network).
    legacy_hparams: ClassVar[dict[str, Any]] = {}

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
        # Collects the subclass's arguments too (Lightning walks the __init__ frames).
        self.save_hyperparameters()
        self.symmetry = validate_symmetry_mode(symmetry)
        self.lr = lr
        self.weight_decay = weight_decay
        self.optimizer_name = optimizer
        self.scheduler_name = scheduler
        self.warmup_steps = warmup_steps
        self.augment_seed = augment_seed
        self._augment_generator: torch.Generator | None = None
        # Elapsed share of a ``max_time`` budget, refreshed before every training step.
        self._time_progress = 0.0
        self.metrics = nn.ModuleDict()
        self.configure()
        self.net = self.build_network(self.equivariant)

    @property
    def equivariant(self) -> bool:
        """Whether the layers are tied (``equivariant``); ``augment``/``none`` are plain."""
        return uses_equivariant_layers(self.symmetry)

    # ----- hooks an app implements -------------------------------------------------
    def configure(self) -> None:
        """Derive the app's state from ``self.hparams`` before the network is built."""

    def build_network(self, equivariant: bool) -> nn.Module:
        """The network: tied (equivariant) or the same architecture untied (plain)."""
        raise NotImplementedError

    def rebuild_network(self) -> None:
        """Build the network again (e.g. after the data's plan changed the group or sizes)."""
        self.net = self.build_network(self.equivariant)

    def step(self, batch: Any) -> StepOutput:
        """Loss, predictions and targets of one batch."""
        raise NotImplementedError

    def random_transform(self, batch: Any, generator: torch.Generator) -> Any:
        """A random group element applied to a training batch (``augment`` mode)."""
        raise NotImplementedError(f"{type(self).__name__} does not support symmetry='augment'")

    def configure_metrics(self) -> torchmetrics.MetricCollection | None:
        """Metrics of one stage; the base clones them for train/val/test."""
        return None

    def selection_metric(self) -> SelectionMetric:
        """Which logged validation value picks ``best.ckpt`` (default: lowest val/loss)."""
        return SelectionMetric()

    def symmetry_check(
        self, input_path: str | None, dtype: torch.dtype
    ) -> SymmetryCheck:
        """What to check; called on a copy of the task already in ``dtype`` and eval mode."""
        raise NotImplementedError(f"{type(self).__name__} defines no symmetry check")

    # ----- what the base does ------------------------------------------------------
    def check_symmetry(
        self, input_path: str | None = None, dtype: torch.dtype = torch.float64
    ) -> EquivarianceReport:
        """``check_equivariance`` on the whole model, run on a copy in ``dtype``.

        The task itself keeps its dtype, device and train/eval mode.
        """
        model = copy.deepcopy(self).to("cpu", dtype).eval()
        spec = model.symmetry_check(input_path, dtype)
        kwargs: dict[str, Any] = {"elements": spec.elements}
        if spec.out_action is not None:
            kwargs["out_action"] = spec.out_action
        return check_equivariance(spec.fn, spec.group, spec.inputs, spec.in_action, **kwargs)

    def ensemble_output(self, outputs: list[Any]) -> Any:
        """Combine the members' ``forward`` outputs for the ensemble's validation score.

        Default: the mean. A classifier overrides this to average probabilities, the
        space ``predict`` averages in (``averaging.log_mean_softmax`` /
        ``logit_mean_sigmoid``).
        """
        return mean_output(outputs)

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

    def on_train_start(self) -> None:
        self._train_started = time.monotonic()

    def on_train_end(self) -> None:
        started = getattr(self, "_train_started", None)
        if started is not None and not getattr(self.trainer, "fast_dev_run", False):
            rank_zero_info(training_summary(self.trainer, time.monotonic() - started))

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        fraction = time_fraction(self.trainer)
        if fraction is not None:
            self._time_progress = fraction

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        # A ``max_steps`` budget ending mid-epoch would otherwise end the fit without
        # validating its last partial epoch (Lightning validates at epoch ends): raising
        # should_stop here makes Lightning run that validation, so best.ckpt sees the
        # final weights too.
        max_steps = self.trainer.max_steps
        if max_steps is not None and 0 < max_steps <= self.trainer.global_step:
            self.trainer.should_stop = True

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        if self.symmetry == "augment":
            batch = self.random_transform(batch, self.augment_generator())
        return self._shared_step(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._shared_step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._shared_step(batch, "test")

    def configure_optimizers(self) -> Any:
        opt = build_optimizer(self.optimizer_name, self.parameters(), self.lr, self.weight_decay)
        if self.scheduler_name == "plateau":
            sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=5)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val/loss"}}
        if self.scheduler_name == "constant" and not self.warmup_steps:
            return opt
        planned = self.trainer.estimated_stepping_batches
        total = max(int(planned), 1) if math.isfinite(planned) else None
        budget = budget_seconds(self.trainer)
        if total is None and budget is None:
            raise ValueError(
                f"scheduler {self.scheduler_name!r} needs an end: set trainer.max_epochs, "
                "max_steps or max_time"
            )
        if budget is not None:
            rank_zero_info(
                f"{self.scheduler_name} schedule ends at {total or 'unbounded'} steps or "
                f"{budget / 60:.1f} min (max_time), whichever comes first"
            )
        sched = build_schedule(
            opt, self.scheduler_name, total, self.warmup_steps, lambda: self._time_progress
        )
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
