"""Invariant readout: per-atom scalars -> per-molecule scalars (the blueprint's global pooling).

A sum (or mean) over the atoms of each molecule does not depend on their order, so this
is the stage where S_N-equivariant features become S_N-invariant: a type change from
``InvariantNodes(F)`` to F plain features per graph.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from gdl_molprop.layers.types import InvariantNodes, NodeState
from gdl_science.blueprint import GraphReadout, InvariantPooling


class MoleculeReadout(InvariantPooling):
    """NodeState (h (N, F), batch) -> (num_graphs, F)."""

    def __init__(self, width: int, reduce: Literal["sum", "mean"] = "sum") -> None:
        super().__init__()
        self.in_type = InvariantNodes(width)
        self.out_type = width
        self.pool = GraphReadout(reduce)

    def forward(self, state: NodeState) -> torch.Tensor:
        return self.pool(state.h, state.batch, state.num_graphs)


class HybridReadout(InvariantPooling):
    """NodeState (h (N, F), descriptors (G, D)) -> (G, F + D).

    ``norm`` is Chemprop's default aggregation: the sum over atoms divided by 100, which
    keeps molecule size visible (unlike the mean) at an O(1) scale. Descriptors (already
    squashed by sign·log1p at preparation) are standardised by a BatchNorm without
    affine parameters; its running statistics are in the checkpoint. They are molecule-
    level and coordinate-free, so they do not touch the invariance.
    """

    def __init__(
        self, width: int, reduce: Literal["sum", "mean", "norm"] = "norm", descriptors: int = 0
    ) -> None:
        super().__init__()
        self.in_type = InvariantNodes(width)
        self.out_type = width + descriptors
        self.reduce = reduce
        self.pool = GraphReadout("mean" if reduce == "mean" else "sum")
        self.descriptors = descriptors
        self.norm = nn.BatchNorm1d(descriptors, affine=False) if descriptors else None

    def forward(self, state: NodeState) -> torch.Tensor:
        pooled = self.pool(state.h, state.batch, state.num_graphs)  # (G, F)
        if self.reduce == "norm":
            pooled = pooled / 100.0
        if self.norm is None:
            return pooled
        d = state.descriptors
        assert d is not None and d.shape[-1] == self.descriptors, "descriptor width mismatch"
        # A training batch of one molecule has no batch statistics: use the running ones.
        use_batch = self.training and d.shape[0] > 1
        d = nn.functional.batch_norm(
            d,
            self.norm.running_mean,
            self.norm.running_var,
            training=use_batch,
            momentum=0.1,
            eps=1e-5,
        )
        return torch.cat([pooled, d.clamp(-6.0, 6.0)], dim=-1)
