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
live model. Use it in a config as ``trainer.callbacks: [{class_path:
gdl_dna.weight_averaging.RCSafeEMA, init_args: {decay: 0.998}}]``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from lightning.pytorch.callbacks import EMAWeightAveraging


def rc_safe_ema_avg_fn(
    decay: float,
) -> Callable[[Sequence[torch.Tensor], Sequence[torch.Tensor], Any], None]:
    """A ``multi_avg_fn`` for ``AveragedModel``: EMA on floats, a plain copy otherwise."""
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"decay must be in [0, 1], got {decay}")

    @torch.no_grad()
    def update(averaged: Sequence[torch.Tensor], current: Sequence[torch.Tensor], _: Any) -> None:
        # AveragedModel groups the tensors by device and dtype, so one list is one dtype.
        if averaged and (averaged[0].is_floating_point() or averaged[0].is_complex()):
            torch._foreach_lerp_(list(averaged), list(current), 1.0 - decay)
        else:
            for a, c in zip(averaged, current, strict=True):
                a.copy_(c)

    return update


class RCSafeEMA(EMAWeightAveraging):
    """``EMAWeightAveraging`` whose average never touches integer buffers (see above)."""

    def __init__(self, decay: float = 0.999, **kwargs: Any) -> None:
        super().__init__(decay=decay, **kwargs)
        # The stock callback hands AveragedModel a per-tensor ``avg_fn``; replace it.
        self._kwargs.pop("avg_fn", None)
        self._kwargs["multi_avg_fn"] = rc_safe_ema_avg_fn(decay)
