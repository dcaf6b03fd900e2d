"""The validation metrics of a whole ensemble, so ``fit`` can say what averaging bought.

Each member's best checkpoint is loaded; the first member's task runs Lightning's
validation loop with its ``forward`` replaced by the task's ``ensemble_output`` of
every member's forward (by default the mean; classifiers average probabilities, as
``predict`` does, see ``gdl_science.training.averaging``). The app's own ``step``,
metrics and epoch-end hooks therefore score the ensemble the same way they score one
model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lightning.pytorch import LightningDataModule, Trainer
from torch import nn

from gdl_science.io.checkpoint import load_task
from gdl_science.training.averaging import mean_output


def ensemble_task(task_class: type, checkpoints: Sequence[str]) -> Any:
    """The first member's task, whose forward is the mean over all members."""
    tasks = [load_task(task_class, p) for p in checkpoints]
    lead, others = tasks[0], tasks[1:]
    lead.ensemble_members = nn.ModuleList(others)  # moved to the device with the lead
    plain_forward = type(lead).forward

    def forward(*args: Any, **kwargs: Any) -> Any:
        members = [lead, *lead.ensemble_members]
        outputs = [plain_forward(m, *args, **kwargs) for m in members]
        combine = getattr(lead, "ensemble_output", None)
        return combine(outputs) if combine is not None else mean_output(outputs)

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
