"""How an ensemble's members' outputs are averaged, in the space predict averages them.

``predict`` averages what users read (probabilities, values). For the ensemble's
validation score to match, classifier logits are averaged as probabilities and turned
back into logits, so the app's loss and metrics can take the result unchanged:
``log(mean softmax)`` is a valid logit vector for a softmax, ``logit(mean sigmoid)``
for a sigmoid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch


def mean_output(outputs: Sequence[Any]) -> Any:
    """Element-wise mean of equal-structured outputs (tensors, tuples/lists, dicts)."""
    first = outputs[0]
    if isinstance(first, torch.Tensor):
        return torch.stack(list(outputs)).mean(0)
    if isinstance(first, (list, tuple)):
        return type(first)(mean_output(parts) for parts in zip(*outputs))
    if isinstance(first, dict):
        return {k: mean_output([o[k] for o in outputs]) for k in first}
    raise TypeError(f"cannot average outputs of type {type(first).__name__}")


def log_mean_softmax(logits: Sequence[torch.Tensor], dim: int = 1) -> torch.Tensor:
    """(M, ...) member logits -> log of the mean softmax over members (same shape as one)."""
    stacked = torch.stack([torch.log_softmax(x, dim=dim) for x in logits])
    return torch.logsumexp(stacked, dim=0) - math.log(len(logits))


def logit_mean_sigmoid(logits: Sequence[torch.Tensor], eps: float = 1e-7) -> torch.Tensor:
    """Member logits -> logit of the mean sigmoid probability."""
    p = torch.stack([torch.sigmoid(x) for x in logits]).mean(0).clamp(eps, 1 - eps)
    return torch.log(p) - torch.log1p(-p)
