"""The validation metrics of a whole ensemble, so ``fit`` can say what averaging bought.

Each member's best checkpoint is loaded; the first member's task runs Lightning's
validation loop with its ``forward`` replaced by the mean of every member's forward.
The app's own ``step``, metrics and epoch-end hooks therefore score the ensemble the
same way they score one model. Outputs are averaged as the network returns them
(logits for classifiers): ``predict`` averages probabilities, so a threshold metric
can differ from predict's by a record or two near the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from lightning.pytorch import LightningDataModule, Trainer
from torch import nn

from gdl_science.io.checkpoint import load_task


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


def ensemble_task(task_class: type, checkpoints: Sequence[str]) -> Any:
    """The first member's task, whose forward is the mean over all members."""
    tasks = [load_task(task_class, p) for p in checkpoints]
    lead, others = tasks[0], tasks[1:]
    lead.ensemble_members = nn.ModuleList(others)  # moved to the device with the lead
    plain_forward = type(lead).forward

    def forward(*args: Any, **kwargs: Any) -> Any:
        members = [lead, *lead.ensemble_members]
        return mean_output([plain_forward(m, *args, **kwargs) for m in members])

    lead.forward = forward  # instance attribute: nn.Module.__call__ finds it first
    return lead


def validate_ensemble(
    task_class: type,
    checkpoints: Sequence[str],
    datamodule: LightningDataModule,
    accelerator: Any = "cpu",
) -> dict[str, float]:
    """Validation metrics of the averaged members, on one device, nothing written."""
    trainer = Trainer(
        accelerator=accelerator,
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    results = trainer.validate(ensemble_task(task_class, checkpoints), datamodule=datamodule,
                               verbose=False)
    return {k: float(v) for k, v in (results[0] if results else {}).items()}
