"""Heads: maps on invariant features, where no symmetry constraint applies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from gdl_science.blueprint.stages import Head

_ACTIVATIONS = {"relu": nn.ReLU, "silu": nn.SiLU, "gelu": nn.GELU, "elu": nn.ELU}


class MLPHead(Head):
    """(B, in_features) -> (B, out_features): Linear-activation-dropout blocks, then Linear."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: Sequence[int] = (),
        dropout: float = 0.0,
        activation: Literal["relu", "silu", "gelu", "elu"] = "silu",
    ) -> None:
        super().__init__()
        self.in_type, self.out_type = in_features, out_features
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), _ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        self.mlp = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x)
