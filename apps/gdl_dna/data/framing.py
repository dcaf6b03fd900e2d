"""Sequences of any length -> one padded batch tensor and its mask: the window rule.

A *frame* is the length a batch is padded to. Every sequence sits centred in it, so
the reverse complement of the padded row is the padded reverse complement (RC stays a
flip of both axes). Two rules, chosen by ``data.window`` and stored in the checkpoint:

- ``auto`` (default): each batch gets the shortest frame that holds its longest
  sequence, among lengths ``reference + k * period`` that the pools accept. Frames of
  one such class put the pooling grid at the same place relative to the centre, so
  with the mask (see ``gdl_dna.layers.masking``) a sequence's prediction does not depend
  on the batch it is in. Nothing is cropped.
- fixed (``data.window N``): every sequence is centre-cropped or padded to the frame.

A sequence whose length differs from the frame by an odd number cannot be centred on
whole bases; it is placed as the average of the two placements half a base either
side (exactly RC-symmetric, see ``alphabet.fit_to_window``). With the default odd pool
windows, frames follow the data's parity, so equal-length data never needs this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from gdl_dna.data.alphabet import fit_to_window


@dataclass(frozen=True)
class FrameRule:
    """How a model pads batches.

    ``reference``: the checkpoint's window (supported by the pools); ``period``: the step
    between frames on one pooling grid; ``minimum``: the shortest supported frame of the
    reference's class; ``fixed``: one frame for everything; ``both_parities``: odd pool
    windows accept every length, so a sequence of the other parity gets frames
    ``reference + 1 + k * period`` instead of being placed half a base off-centre.
    """

    reference: int
    period: int
    minimum: int
    fixed: bool = False
    both_parities: bool = False

    def parity_class(self, length: int) -> int:
        """0: frames ``reference + k * period``; 1: frames ``reference + 1 + k * period``."""
        if self.fixed or not self.both_parities:
            return 0
        return (length - self.reference) % 2

    def frame_for(self, longest: int, parity_class: int = 0) -> int:
        """The frame length of a batch (of one class) whose longest sequence is ``longest``."""
        if self.fixed:
            return self.reference
        ref, low = self.reference + parity_class, self.minimum + parity_class
        steps = -((ref - longest) // self.period)  # ceil((longest - ref) / period)
        return max(ref + steps * self.period, low)


class FramedGroup(NamedTuple):
    """Rows ``index`` of a batch, padded to one frame: x (b, 4, W), mask (b, 1, W) or None.

    A named tuple, so Lightning moves it to the device like any batch."""

    index: torch.Tensor
    x: torch.Tensor
    mask: torch.Tensor | None


def frame_batch(
    one_hots: Sequence[np.ndarray], rule: FrameRule, frame: int | None = None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(4, L_i) one-hot arrays -> x (B, 4, W), mask (B, 1, W) or None, all in one frame.

    The mask is None when no row needed padding (the fast path for equal lengths).
    """
    lengths = [a.shape[1] for a in one_hots]
    if frame is None:
        frame = rule.frame_for(max(lengths))
    x = np.stack([fit_to_window(a, frame) for a in one_hots])
    if all(n >= frame for n in lengths):
        return torch.from_numpy(x), None
    ones = [np.ones((1, n), dtype=np.float32) for n in lengths]
    mask = np.stack([(fit_to_window(m, frame) > 0).astype(np.float32) for m in ones])
    return torch.from_numpy(x), torch.from_numpy(mask)


def frame_groups(
    one_hots: Sequence[np.ndarray], rule: FrameRule, keep_empty: bool = False
) -> list[FramedGroup]:
    """A batch split by parity class (at most two groups), each padded to its frame.

    ``keep_empty`` returns both classes even when one has no rows (DDP ranks must run the
    same number of forward passes, since the batch norm synchronises in each).
    """
    classes = [rule.parity_class(a.shape[1]) for a in one_hots]
    n_classes = 2 if rule.both_parities and not rule.fixed else 1
    groups = []
    for c in range(n_classes):
        rows = [i for i, k in enumerate(classes) if k == c]
        if not rows and not keep_empty:
            continue
        if rows:
            longest = max(one_hots[i].shape[1] for i in rows)
            frame = rule.frame_for(longest, c)
            x, mask = frame_batch([one_hots[i] for i in rows], rule, frame)
        else:
            x, mask = torch.zeros(0, 4, rule.frame_for(rule.reference, c)), None
        groups.append(FramedGroup(torch.tensor(rows, dtype=torch.long), x, mask))
    return groups


def count_cropped(lengths: Sequence[int] | np.ndarray, rule: FrameRule) -> int:
    """How many sequences a fixed window crops (``auto`` never crops)."""
    return int((np.asarray(lengths) > rule.reference).sum()) if rule.fixed else 0
