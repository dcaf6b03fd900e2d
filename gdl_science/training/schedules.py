"""Optimisers and learning-rate schedules shared by every app (per-step schedules).

``cosine`` anneals to zero; ``poly`` is nnU-Net's ``lr * (1 - t/T)^0.9``; ``constant``
keeps the rate. Each may start with a linear warm-up of ``warmup`` steps.

Progress through the schedule is the larger of the step fraction and, when the fit has a
wall-clock budget, the time fraction (``wall_clock.time_fraction``): whichever limit ends
the fit, the rate has annealed by then.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
from torch.optim.lr_scheduler import LambdaLR, LRScheduler

POLY_EXPONENT = 0.9  # nnU-Net's value


def build_optimizer(
    name: str, parameters: Iterable[torch.nn.Parameter], lr: float, weight_decay: float
) -> torch.optim.Optimizer:
    params = [p for p in parameters if p.requires_grad]
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)


def lr_factor(
    name: str, step: int, total: int | None, warmup: int, time_progress: float = 0.0
) -> float:
    """The multiplier of the base rate at ``step`` (0-based).

    ``total`` is the planned number of steps (``None``: unbounded, time decides alone);
    ``time_progress`` the elapsed share of the wall-clock budget (0 without one).
    """
    if total is not None:
        warmup = min(warmup, max(total - 1, 0))
    if step < warmup:
        return 0.01 + 0.99 * step / warmup
    if name == "constant":
        return 1.0
    t = 0.0 if total is None else (step - warmup) / max(total - warmup, 1)
    t = min(max(t, time_progress, 0.0), 1.0)
    if name == "poly":
        return (1.0 - t) ** POLY_EXPONENT
    return 0.5 * (1.0 + math.cos(math.pi * t))


def build_schedule(
    optimizer: torch.optim.Optimizer,
    name: str,
    total: int | None,
    warmup: int,
    time_progress: Callable[[], float] | None = None,
) -> LRScheduler:
    """A per-step LambdaLR for ``cosine``, ``poly`` or ``constant`` (with warm-up).

    ``time_progress`` is read at every step; it returns the budget's elapsed share.
    """
    if name not in ("cosine", "poly", "constant"):
        raise ValueError(f"unknown per-step schedule {name!r}")
    progress = time_progress or (lambda: 0.0)
    return LambdaLR(optimizer, lambda step: lr_factor(name, step, total, warmup, progress()))
