"""Dice per label over a whole stage (global counts, not a mean of per-patch scores)."""

from __future__ import annotations

import torch
import torchmetrics


class LabelDice(torchmetrics.Metric):
    """2|P∩T| / (|P|+|T|) of one label, accumulated over the epoch; 1.0 when both are empty."""

    full_state_update = False
    higher_is_better = True

    def __init__(self, label: int) -> None:
        super().__init__()
        self.label = label
        self.add_state("intersection", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("total", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        """preds, target: integer label maps of equal shape, e.g. (B, D, H, W)."""
        p = preds == self.label
        t = target == self.label
        self.intersection += (p & t).sum()
        self.total += p.sum() + t.sum()

    def compute(self) -> torch.Tensor:
        if self.total == 0:
            return torch.ones((), dtype=torch.float64)
        return 2 * self.intersection / self.total


class MeanDice(torchmetrics.Metric):
    """The mean over foreground labels 1..n-1 of ``LabelDice``."""

    full_state_update = False
    higher_is_better = True

    def __init__(self, n_classes: int) -> None:
        super().__init__()
        self.n_classes = n_classes
        zeros = torch.zeros(n_classes, dtype=torch.float64)
        self.add_state("intersection", zeros.clone(), dist_reduce_fx="sum")
        self.add_state("total", zeros.clone(), dist_reduce_fx="sum")

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        for c in range(1, self.n_classes):
            p, t = preds == c, target == c
            self.intersection[c] += (p & t).sum()
            self.total[c] += p.sum() + t.sum()

    def compute(self) -> torch.Tensor:
        inter, total = self.intersection[1:], self.total[1:]
        dice = torch.where(total > 0, 2 * inter / total.clamp(min=1), torch.ones_like(total))
        return dice.mean()


def _sum_over_ranks(t: torch.Tensor) -> torch.Tensor:
    """Sum a tensor over DDP ranks, differentiably; the identity in a single process."""
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
        return t
    from torch.distributed.nn.functional import all_reduce

    return all_reduce(t)


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Batch soft Dice over the foreground classes present: logits (B, K, ...), target (B, ...).

    Under DDP the Dice statistics are summed over all ranks first (as nnU-Net does for
    batch Dice), so every rank computes the Dice of the *global* batch. Its gradient is
    then exact: the all-reduce's backward sums the W identical upstream gradients and
    DDP's averaging divides by W, so a DDP run trains like one process on the same batch.
    """
    probs = logits.softmax(1)
    onehot = torch.nn.functional.one_hot(target, logits.shape[1]).movedim(-1, 1).to(probs)
    dims = (0, *range(2, logits.dim()))
    inter = _sum_over_ranks((probs * onehot).sum(dims))
    counts = _sum_over_ranks(onehot.sum(dims))
    denom = _sum_over_ranks(probs.sum(dims)) + counts
    dice = (2 * inter + eps) / (denom + eps)
    # Classes absent from the batch's target would score ~0 whatever the network does
    # (a constant +1/K on the loss); cross-entropy already penalises false positives.
    present = counts[1:] > 0
    if not present.any():
        return logits.sum() * 0.0
    return 1 - dice[1:][present].mean()
