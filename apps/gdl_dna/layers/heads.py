"""The strand-specific head: equivariant, not invariant, for tasks that depend on strand.

The default head pools both orientations (``RCInvariantPool`` + MLP), so p(x) = p(RC x).
For strand-specific targets (e.g. the strand of a transcript) that is wrong: a
prediction on the reverse strand should be the *other strand's* prediction. This head
averages over the length (which commutes with the flip), then applies two 1x1 RC
convolutions into ``n_outputs`` RC-regular pairs: channel j is the prediction for label
j on the given strand, channel 2n-1-j the same label on the reverse strand, and
RC·x swaps them exactly.
"""

from __future__ import annotations

import torch

from gdl_dna.layers.conv import RCConv1d
from gdl_dna.layers.nonlinearity import RCPointwise
from gdl_science.blueprint import Head
from gdl_science.symmetry import RCFieldType


class StrandHead(Head):
    """(B, C, L) of ``in_type`` -> (B, 2 * n_outputs) laid out as RCFieldType(regular=n)."""

    def __init__(self, in_type: RCFieldType, n_outputs: int, hidden: int = 16) -> None:
        super().__init__()
        self.in_type = in_type
        self.out_type = RCFieldType(regular=n_outputs)
        hidden_type = RCFieldType(regular=hidden)
        self.hidden = RCConv1d(in_type, hidden_type, 1)
        self.act = RCPointwise(hidden_type)
        self.out = RCConv1d(hidden_type, self.out_type, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.mean(dim=-1, keepdim=True)  # (B, C, 1): RC acts on channels only now
        return self.out(self.act(self.hidden(pooled))).squeeze(-1)
