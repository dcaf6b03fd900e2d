"""The task's batches: variable-length one-hots padded by the window rule, in batch order.

Training batches arrive as (list of (4, L_i) arrays, targets) from ``collate_sequences``
and are padded here (``gdl_dna.data.framing``), so ``predict``, ``explain`` and
``variant-effect`` pad exactly as training did: the rule travels with the checkpoint.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from gdl_dna.data.augment import augment_one_hots
from gdl_dna.data.framing import FramedGroup, FrameRule, count_cropped, frame_groups


class FramedBatches:
    """Mixin for ``DNATask``: needs ``frame_rule``, ``hparams``, ``forward`` and
    ``predict_values`` (the LightningModule supplies ``device``, ``trainer``, ...)."""

    # Set by DNATask.configure; the rest (hparams, training, device, ...) by Lightning.
    frame_rule: FrameRule
    sequence_length: int
    requested_length: int
    hparams: Any

    def frame(self, one_hots: Sequence[np.ndarray]) -> list[FramedGroup]:
        """(4, L_i) one-hots -> groups padded by the window rule (``framing``)."""
        from gdl_dna.layers.batchnorm import sync_group

        keep_empty = self.training and sync_group()
        return frame_groups(one_hots, self.frame_rule, keep_empty=keep_empty)

    def on_before_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        items = batch[0] if isinstance(batch, (list, tuple)) and len(batch) == 2 else None
        if isinstance(items, list) and items and isinstance(items[0], np.ndarray):
            if self._trainer is not None and self.trainer.training:
                items = self.augment_items(items)
            return self.frame(items), batch[1]
        return batch

    def augment_items(
        self, items: Sequence[np.ndarray], generator: torch.Generator | None = None
    ) -> list[np.ndarray]:
        """Random trims / point mutations of a training batch's (4, L_i) one-hots."""
        hp = self.hparams
        if hp.augment_shift <= 0 and hp.augment_mutate <= 0:
            return list(items)
        if generator is None:
            if getattr(self, "_sequence_generator", None) is None:
                rank = self.global_rank if self._trainer is not None else 0
                seed = self.augment_seed + 7919 + 1000 * rank
                # Not the RC stream: its own seed.
                self._sequence_generator = torch.Generator().manual_seed(seed)
            generator = self._sequence_generator
        return augment_one_hots(items, generator, hp.augment_shift, hp.augment_mutate)

    def grouped_output(self, groups: Sequence[FramedGroup], fn: Any = None) -> torch.Tensor:
        """``fn(x, mask)`` (default: the logits) of every group, back in batch order."""
        fn = fn or self.forward
        outs = [(g.index, fn(g.x, g.mask)) for g in groups]
        n = sum(len(i) for i, _ in outs)
        first = outs[0][1]
        result = first.new_empty((n, *first.shape[1:]))
        for index, out in outs:
            result[index.to(result.device)] = out
        return result

    @torch.no_grad()
    def predict_sequences(self, one_hots: Sequence[np.ndarray]) -> torch.Tensor:
        """(B, n_outputs) probabilities / values of variable-length one-hots, in order."""
        dev = self.device
        groups = [
            FramedGroup(g.index, g.x.to(dev), None if g.mask is None else g.mask.to(dev))
            for g in self.frame(one_hots)
        ]
        return self.grouped_output(groups, self.predict_values)

    def window_note(self) -> str | None:
        """The one line a user sees when their window was padded up to a valid length."""
        if self.sequence_length == self.requested_length:
            return None
        what = "window" if self.hparams.fixed_window else "longest sequence"
        pools = list(self.arch.pool_sizes)
        return (
            f"{what} {self.requested_length} padded to {self.sequence_length}: every pool "
            f"(sizes {pools}) must tile the length after padding it by an "
            "even number of zeros, so an even pool window needs an even length at its input"
        )

    def report_window(self, lengths: np.ndarray | None) -> None:
        """Print the window note and how many training sequences are cropped (rank 0)."""
        note = self.window_note()
        if note:
            print(f"gdl-dna: note: {note}", file=sys.stderr)
        if lengths is not None:
            cropped = count_cropped(lengths, self.frame_rule)
            if cropped:
                print(
                    f"gdl-dna: warning: {cropped} of {len(lengths)} sequences are longer than "
                    f"the window {self.sequence_length} and are centre-cropped (longest "
                    f"{int(lengths.max())}); --data.window auto keeps every base",
                    file=sys.stderr,
                )
