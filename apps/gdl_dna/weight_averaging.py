"""An exponential moving average of the weights that leaves integer buffers alone.

Lightning's ``EMAWeightAveraging`` (and torch's ``get_ema_multi_avg_fn``) average *every*
buffer when ``use_buffers=True``; for an integer tensor they compute
``p * decay + p * (1 - decay)`` in floating point and copy it back, which truncates
(7 * 0.9 + 7 * 0.1 -> 6.999... -> 6). Our RC layers keep their weight-tying maps in such
buffers (``weight_index``, ``bias_index``, ``field_index``), so the stock callback swaps a
scrambled network in for validation: best.ckpt is then chosen on wrong scores, while the
checkpoint itself (those buffers are not saved) predicts something else. Measured on
the small config: recorded best val AUROC 0.507, the same checkpoint re-scored 0.427.
``use_buffers=False`` is no way out: the callback still swaps the buffers, so batch-norm
statistics from the start of the fit would be validated.

``RCSafeEMA`` is the stock callback with an averaging function that lerps floating-point
tensors (parameters and batch-norm statistics) and copies every other buffer from the
live model, with two more fixes:
- the average is built once the task's own ``setup`` has run: with ``head: auto`` that
  hook replaces the network by the one the strand test chose, and the stock callback
  (whose ``setup`` runs first) would average a copy of the provisional network;
- a warm-up, decay_n = min(decay, (1 + n) / (10 + n)) after n updates (as TensorFlow's
  and timm's EMA), so the average validated after the first epochs is not mostly the
  random initial weights.

The default config uses it (``trainer.callbacks: [{class_path:
gdl_dna.weight_averaging.RCSafeEMA, init_args: {decay: 0.998}}]``; docs/dna.md says why).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import EMAWeightAveraging
from torch.optim.swa_utils import AveragedModel


def rc_safe_ema_avg_fn(
    decay: float, warmup: bool = True
) -> Callable[[Sequence[torch.Tensor], Sequence[torch.Tensor], Any], None]:
    """A ``multi_avg_fn`` for ``AveragedModel``: EMA on floats, a plain copy otherwise.

    ``warmup``: after n updates the decay is min(decay, (1 + n) / (10 + n))."""
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"decay must be in [0, 1], got {decay}")

    @torch.no_grad()
    def update(averaged: Sequence[torch.Tensor], current: Sequence[torch.Tensor], n: Any) -> None:
        # AveragedModel groups the tensors by device and dtype, so one list is one dtype.
        if averaged and (averaged[0].is_floating_point() or averaged[0].is_complex()):
            d = min(decay, (1.0 + float(n)) / (10.0 + float(n))) if warmup else decay
            torch._foreach_lerp_(list(averaged), list(current), 1.0 - d)
        else:
            for a, c in zip(averaged, current, strict=True):
                a.copy_(c)

    return update


class RCSafeEMA(EMAWeightAveraging):
    """``EMAWeightAveraging`` whose average never touches integer buffers, follows the
    network the task's setup builds, and warms up (see above)."""

    def __init__(self, decay: float = 0.999, warmup: bool = True, **kwargs: Any) -> None:
        super().__init__(decay=decay, **kwargs)
        # The stock callback hands AveragedModel a per-tensor ``avg_fn``; replace it.
        self._kwargs.pop("avg_fn", None)
        self._kwargs["multi_avg_fn"] = rc_safe_ema_avg_fn(decay, warmup)
        self._fitting = False

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        # Callbacks' setup runs before the module's, which may still rebuild its network
        # (head: auto), so the average is made later, by ``_ensure_average``.
        self._fitting = stage == "fit"
        self._average_model = None

    def _ensure_average(self, pl_module: pl.LightningModule) -> None:
        if self._fitting and self._average_model is None:
            self._average_model = AveragedModel(
                model=pl_module,
                device=self._device or pl_module.device,
                use_buffers=self._use_buffers,
                **self._kwargs,
            )

    def on_load_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        # A resumed fit restores its callbacks after every setup hook, before on_fit_start.
        self._ensure_average(pl_module)
        super().on_load_checkpoint(trainer, pl_module, checkpoint)

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._ensure_average(pl_module)
        super().on_fit_start(trainer, pl_module)
