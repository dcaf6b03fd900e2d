"""What the data module tells the task (LightningCLI links), in one place.

The data module knows the targets, their scaling and how molecules were prepared; the
model records them, so a checkpoint alone can predict on new molecules. Both ``cli`` and
``crossval`` read this module, so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from gdl_molprop.datamodule import MolPropDataModule
from gdl_molprop.task import MolPropTask

LINKS = (
    ("data.task_names", "model.task_names"),
    ("data.task_type", "model.task_type"),
    ("data.target_mean", "model.target_mean"),
    ("data.target_std", "model.target_std"),
    # the whole PrepSettings object, as the dict of primitives the checkpoint keeps
    ("data.prep_hparams", "model.prep"),
    ("data.smiles_column", "model.smiles_column"),
)


@dataclass(frozen=True)
class LightningSpec:
    """What ``gdl_science.cli.lightning.run_lightning`` needs of an app."""

    task_class: type = MolPropTask
    datamodule_class: type = MolPropDataModule
    links: tuple = LINKS
