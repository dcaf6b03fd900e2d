"""Each cell's training budget: the config's, times ``--budget-scale``, in optimizer steps.

A cell on 10% of the data gets as many optimizer steps as the cell on 100% (not a tenth
of them): ``max_epochs`` is converted to steps with the *whole* training split's steps
per epoch, and validation runs every that many steps (``val_check_interval``), so every
cell is validated equally often whatever its subset's size. A ``max_time`` budget is
scaled as it is (the schedules anneal to zero at it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from gdl_science.io.user_error import UserInputError


def max_time_seconds(value: Any) -> float | None:
    """Lightning's ``max_time`` ("DD:HH:MM:SS", a dict of timedelta fields, a timedelta)
    in seconds; None when unset."""
    if value is None or value == "":
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return timedelta(**{k: float(v) for k, v in value.items()}).total_seconds()
    parts = str(value).split(":")
    if len(parts) != 4:
        raise UserInputError(f"trainer.max_time {value!r}: expected DD:HH:MM:SS")
    d, h, m, s = (float(p) for p in parts)
    return ((d * 24 + h) * 60 + m) * 60 + s


def format_max_time(seconds: float) -> str:
    """Seconds -> Lightning's "DD:HH:MM:SS" (whole seconds, at least one)."""
    total = max(1, round(seconds))
    d, rest = divmod(total, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return f"{d:02d}:{h:02d}:{m:02d}:{s:02d}"


@dataclass(frozen=True)
class Budget:
    """One cell's budget (the same for every cell)."""

    max_steps: int | None  # optimizer steps; None: bounded by max_time only
    max_time_s: float | None
    steps_per_epoch: int  # of the whole training split: the validation interval

    def overrides(self) -> list[str]:
        """The ``fit`` arguments that impose this budget."""
        args = [
            "--trainer.max_epochs", "-1",
            "--trainer.max_steps", str(self.max_steps if self.max_steps is not None else -1),
            "--trainer.val_check_interval", str(self.steps_per_epoch),
            "--trainer.check_val_every_n_epoch", "null",
        ]  # fmt: skip
        if self.max_time_s is not None:
            args += ["--trainer.max_time", format_max_time(self.max_time_s)]
        return args

    def describe(self) -> str:
        parts = []
        if self.max_steps is not None:
            parts.append(f"{self.max_steps} optimizer steps")
        if self.max_time_s is not None:
            parts.append(f"at most {self.max_time_s / 60:.1f} min")
        parts.append(f"validation every {self.steps_per_epoch} steps")
        return ", ".join(parts)


def cell_budget(trainer: dict[str, Any], steps_per_epoch: int, scale: float) -> Budget:
    """The budget of every cell from the config's trainer settings.

    Args:
        trainer: the resolved ``trainer`` section (max_steps, max_epochs, max_time).
        steps_per_epoch: training batches per epoch on the whole training split.
        scale: ``--budget-scale``.
    """
    if scale <= 0:
        raise UserInputError(f"--budget-scale {scale}: must be positive")
    steps_per_epoch = max(1, int(steps_per_epoch))
    max_steps = trainer.get("max_steps")
    max_epochs = trainer.get("max_epochs")
    seconds = max_time_seconds(trainer.get("max_time"))
    steps: int | None = None
    if max_steps is not None and int(max_steps) > 0:
        steps = int(max_steps)
    if max_epochs is not None and int(max_epochs) > 0:
        from_epochs = int(max_epochs) * steps_per_epoch
        steps = from_epochs if steps is None else min(steps, from_epochs)
    if steps is None and seconds is None:
        raise UserInputError(
            "the config sets no budget: give trainer.max_steps, max_epochs or max_time"
        )
    return Budget(
        max_steps=None if steps is None else max(1, math.ceil(steps * scale)),
        max_time_s=None if seconds is None else seconds * scale,
        steps_per_epoch=steps_per_epoch,
    )
