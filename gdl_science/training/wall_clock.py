"""How far a fit has run through its wall-clock budget (``--trainer.max_time``).

A per-step schedule anneals over ``trainer.estimated_stepping_batches``. When the fit is
cut by ``max_time`` first (the usual case on a CPU budget), the learning rate would still
be high at the cut. The base task therefore reads the fraction of the time budget spent
and lets the schedule advance by whichever of steps or time is further along, so a
budgeted fit anneals to zero exactly when its budget ends.

The clock is Lightning's own ``Timer`` callback (added by ``max_time``): it is the clock
that stops the fit, it counts validation time the same way, and its elapsed time is
stored in checkpoints, so a resumed fit continues the schedule where it stopped.
"""

from __future__ import annotations

import lightning.pytorch as pl
from lightning.pytorch.callbacks import Timer


def budget_timer(trainer: pl.Trainer) -> Timer | None:
    """The trainer's ``Timer`` when a time budget is set, else ``None``."""
    for callback in trainer.callbacks:
        if isinstance(callback, Timer) and callback.time_remaining() is not None:
            return callback
    return None


def _budget_of(timer: Timer) -> float:
    remaining = timer.time_remaining()
    assert remaining is not None
    return timer.time_elapsed() + remaining


def budget_seconds(trainer: pl.Trainer) -> float | None:
    """The fit's time budget in seconds, or ``None`` when ``max_time`` is not set."""
    timer = budget_timer(trainer)
    return None if timer is None else _budget_of(timer)


def time_fraction(trainer: pl.Trainer) -> float | None:
    """Elapsed share of the time budget in [0, 1], identical on every DDP rank.

    Called before every training step, so the callbacks are searched once. Rank 0's
    clock is broadcast: ranks that read slightly different times would set different
    learning rates and their replicas would drift apart.
    """
    timer = budget_timer(trainer)
    if timer is None:
        return None
    total = _budget_of(timer)
    if total <= 0:
        return None
    fraction = min(max(timer.time_elapsed() / total, 0.0), 1.0)
    return float(trainer.strategy.broadcast(fraction))


def training_summary(trainer: pl.Trainer, seconds: float) -> str:
    """One line for the end of ``fit``: optimiser steps, minutes, seconds a step, and
    whether the time budget ended the fit.

    The shipped configs budget time, and the same step costs about 4x more on some CPUs
    than on others, so a budgeted fit on a slow machine trains a fraction of the steps;
    this line is where a user sees that, with the flag that fixes it.
    """
    steps = int(trainer.global_step)
    line = f"fit trained {steps:,} optimiser steps in {seconds / 60:.1f} min"
    if steps:
        line += f" ({seconds / steps:.2f} s a step)"
    timer = budget_timer(trainer)
    remaining = None if timer is None else timer.time_remaining()
    if remaining is not None and remaining <= 0:
        line += (
            "; the max_time budget ended it (a slower machine trains fewer steps in the same"
            " time: --trainer.max_time null --trainer.max_steps N sets a step budget instead)"
        )
    return line
