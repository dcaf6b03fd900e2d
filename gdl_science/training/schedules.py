"""Optimisers and learning-rate schedules shared by every app (per-step schedules).

``cosine`` anneals to zero; ``poly`` is nnU-Net's ``lr * (1 - t/T)^0.9``; ``constant``
keeps the rate. Each may start with a linear warm-up of ``warmup`` steps.
"""

from __future__ import annotations

from collections.abc import Iterable

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


def lr_factor(name: str, step: int, total: int, warmup: int) -> float:
    """The multiplier of the base rate at ``step`` (0-based) of ``total`` steps."""
    warmup = min(warmup, max(total - 1, 0))
    if step < warmup:
        return 0.01 + 0.99 * step / warmup
    if name == "constant":
        return 1.0
    t = (step - warmup) / max(total - warmup, 1)
    t = min(max(t, 0.0), 1.0)
    if name == "poly":
        return (1.0 - t) ** POLY_EXPONENT
    import math

    return 0.5 * (1.0 + math.cos(math.pi * t))


def build_schedule(
    optimizer: torch.optim.Optimizer, name: str, total: int, warmup: int
) -> LRScheduler:
    """A per-step LambdaLR for ``cosine``, ``poly`` or ``constant`` (with warm-up)."""
    if name not in ("cosine", "poly", "constant"):
        raise ValueError(f"unknown per-step schedule {name!r}")
    return LambdaLR(optimizer, lambda step: lr_factor(name, step, total, warmup))
