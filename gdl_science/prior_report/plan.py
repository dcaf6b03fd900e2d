"""The plan of a prior-report run: the grid, the per-cell budget and a wall-time estimate.

The config is read once through the product's own LightningCLI (``run=False``), so the
budget, the data's split sizes and the steps per epoch are the ones a ``fit`` of the
same arguments would use. The estimate times three real training steps of the config's
model (a probe, seconds) and multiplies by the grid's total steps; a ``max_time``
budget caps it.
"""

from __future__ import annotations

import copy
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from lightning.pytorch import Callback, Trainer

from gdl_science.prior_report.budget import Budget, cell_budget
from gdl_science.prior_report.grid import Cell

# Validation, checkpoints and start-up on top of the training steps: a rough allowance,
# printed as such (measured cells' wall times replace the estimate in the report).
OVERHEAD = 1.25


@dataclass
class Plan:
    cells: list[Cell]
    budget: Budget
    fit_args: list[str]
    n_train: int
    n_val: int
    seconds_per_step: float | None
    task: Any = field(default=None, repr=False)  # the task the config builds (untrained)
    datamodule: Any = field(default=None, repr=False)  # its data module, set up

    def cell_seconds(self) -> float | None:
        """Estimated wall seconds of one cell (None when it cannot be estimated)."""
        by_steps = None
        if self.seconds_per_step is not None and self.budget.max_steps is not None:
            by_steps = self.budget.max_steps * self.seconds_per_step * OVERHEAD
        by_time = self.budget.max_time_s * OVERHEAD if self.budget.max_time_s else None
        known = [s for s in (by_steps, by_time) if s is not None]
        return min(known) if known else None

    def describe(self, todo: int | None = None) -> str:
        modes = sorted({c.mode for c in self.cells})
        fractions = sorted({c.fraction for c in self.cells})
        seeds = sorted({c.seed for c in self.cells})
        lines = [
            f"prior-report grid: {len(self.cells)} cells = {len(modes)} modes "
            f"({' '.join(modes)}) x {len(fractions)} fractions "
            f"({' '.join(f'{f:g}' for f in fractions)}) x {len(seeds)} seeds "
            f"({' '.join(map(str, seeds))})",
            f"data: {self.n_train} training records (whole split; a fraction f trains on "
            f"ceil(f x {self.n_train}), nested), {self.n_val} validation records (every cell)",
            f"budget per cell: {self.budget.describe()}",
        ]
        each = self.cell_seconds()
        n = len(self.cells) if todo is None else todo
        if each is None:
            lines.append("estimated wall time: unknown (the step probe failed)")
        else:
            step = (f"{self.seconds_per_step:.3g} s per training step measured"
                    if self.seconds_per_step is not None else "max_time")
            lines.append(
                f"estimated wall time: {n} cells to train x ~{each / 60:.1f} min = "
                f"~{n * each / 3600:.2f} h ({step}, x{OVERHEAD} for validation and start-up)"
            )
        return "\n".join(lines)


def _as_dict(section: Any) -> dict[str, Any]:
    if section is None:
        return {}
    if hasattr(section, "as_dict"):
        return section.as_dict()
    return dict(section)


def split_sizes(datamodule: Any) -> tuple[int, int]:
    """(training, validation) record counts of the whole training split."""
    splits = getattr(datamodule, "splits", None)  # medseg: case ids per split
    if isinstance(splits, dict) and "train" in splits:
        return len(splits["train"]), len(splits.get("val", []))
    sets = datamodule.datasets
    return len(sets["train"]), len(sets["val"]) if "val" in sets else 0


def train_size(datamodule: Any) -> int:
    """Records the cell actually trained on (its nested subset)."""
    splits = getattr(datamodule, "splits", None)
    if isinstance(splits, dict) and "train" in splits:
        return len(splits["train"])
    return len(datamodule.training_subset(datamodule.datasets["train"]))


class _StepTimer(Callback):
    def __init__(self) -> None:
        self.times: list[float] = []

    def on_train_batch_end(self, trainer: Trainer, *args: Any) -> None:
        self.times.append(time.perf_counter())


def probe_seconds_per_step(cli: Any, steps: int = 3) -> float | None:
    """Seconds per training step of the config's model on its data (the first step,
    with its one-off set-up, excluded). None if the probe cannot run here."""
    timer = _StepTimer()
    trainer_cfg = _as_dict(cli.config.get("trainer"))
    try:
        trainer = Trainer(
            max_steps=steps,
            limit_val_batches=0,
            num_sanity_val_steps=0,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            accelerator=trainer_cfg.get("accelerator") or "auto",
            devices=1,
            callbacks=[timer],
        )
        trainer.fit(copy.deepcopy(cli.model), datamodule=cli.datamodule)
    except Exception as err:  # an estimate only: the grid itself must still run
        print(f"prior-report: step probe failed ({type(err).__name__}: {err})", file=sys.stderr)
        return None
    gaps = [b - a for a, b in zip(timer.times, timer.times[1:])]
    return sum(gaps) / len(gaps) if gaps else None


def make_plan(spec: Any, fit_args: list[str], cells: list[Cell], scale: float,
              probe: bool = True) -> Plan:
    """Read the config through LightningCLI, size the data, budget and time the cells."""
    from gdl_science.cli.lightning import GDLLightningCLI

    cli = GDLLightningCLI(
        spec.task_class, spec.datamodule_class, args=list(fit_args), links=spec.links,
        run=False, save_config_kwargs={"overwrite": True},
    )
    dm = cli.datamodule
    dm.prepare_data()
    dm.setup("fit")
    n_train, n_val = split_sizes(dm)
    steps_per_epoch = len(dm.train_dataloader())
    budget = cell_budget(_as_dict(cli.config.get("trainer")), steps_per_epoch, scale)
    seconds = probe_seconds_per_step(cli) if probe else None
    return Plan(cells, budget, list(fit_args), n_train, n_val, seconds, cli.model, dm)
