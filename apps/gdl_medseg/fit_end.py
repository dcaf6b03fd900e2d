"""What ``fit`` does after the last epoch: whole-case validation of the best checkpoint,
and the post-processing decision written into the checkpoints.

The best checkpoint (``best.ckpt``, by validation mean Dice) predicts every validation
case whole (sliding window on the preprocessed cache with predict's default test-time
mirroring, the same as ``predict``); for each
label, largest-component post-processing is kept where it raises the mean Dice
(``postprocess.choose_lcc``). ``lcc_labels`` is then stored in the hyperparameters of
best.ckpt and last.ckpt (rewritten atomically), so ``predict`` applies it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from gdl_medseg.layers.sliding_window import sliding_window
from gdl_medseg.postprocess import choose_lcc
from gdl_medseg.tta import task_flips
from gdl_science.io import atomic_path, load_task
from gdl_science.io.checkpoint import load_checkpoint

MAX_CASES = 64  # enough for the decision; bounds the time on big validation sets


def _checkpoints(trainer: Any) -> tuple[str, list[str]]:
    best, paths = "", []
    for cb in trainer.checkpoint_callbacks:
        if isinstance(cb, ModelCheckpoint):
            best = best or cb.best_model_path
            paths += [p for p in (cb.best_model_path, cb.last_model_path) if p]
    return best, sorted(set(paths))


def validation_predictions(task: Any, cases: list[Any]) -> list[np.ndarray]:
    """Label maps (X, Y, Z) of whole cached cases, by ``task``'s network in eval mode,
    with predict's default test-time mirroring (so the decision fits what predict does)."""
    net = task.net.eval()
    flips = task_flips(task, "auto")
    out = []
    for case in cases:
        image = np.asarray(case.image, dtype=np.float32)
        window = task.window_for(image.shape[1:])
        probs = sliding_window(
            [net], image, window, int(task.hparams.n_classes), flips=flips
        )
        out.append(probs.argmax(0).astype(np.uint8))
    return out


def decide_postprocessing(task: Any) -> None:
    trainer = task._trainer
    dm = trainer.datamodule if trainer is not None else None
    if dm is None or getattr(dm, "data", None) is None or not trainer.is_global_zero:
        return
    if trainer.sanity_checking or getattr(trainer, "fast_dev_run", False):
        return
    best, paths = _checkpoints(trainer)
    if not best or not Path(best).is_file():
        return
    model = load_task(type(task), best).to("cpu")
    cases = [dm.data.case(i) for i in dm.splits["val"][:MAX_CASES]]
    with torch.no_grad():
        preds = validation_predictions(model, cases)
    refs = [np.asarray(c.label) for c in cases]
    chosen, effect = choose_lcc(preds, refs, int(task.hparams.n_classes))
    names = task.label_names
    shown = ", ".join(
        f"{names[v]} {b:.4f}->{a:.4f}{' (kept)' if v in chosen else ''}"
        for v, (b, a) in effect.items()
    )
    print(
        f"whole-case validation Dice of {Path(best).name} on {len(cases)} cases, "
        f"largest component: {shown}",
        file=sys.stderr,
        flush=True,
    )
    task.hparams.lcc_labels = chosen
    for path in paths:
        ckpt = load_checkpoint(path)  # tensors and primitives only, like every load
        ckpt["hyper_parameters"]["lcc_labels"] = chosen
        with atomic_path(Path(path), suffix=".ckpt") as tmp:
            torch.save(ckpt, tmp)
