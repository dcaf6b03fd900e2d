"""What the data module tells the task (LightningCLI links), in one place.

The data module knows the targets, their scaling and how molecules were prepared; the
model records them, so a checkpoint alone can predict on new molecules. Both ``cli`` and
``crossval`` read this module, so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from gdl_molprop.datamodule import MolPropDataModule
from gdl_molprop.task import MolPropTask

LINKS = tuple(
    (f"data.{name}", f"model.{name}")
    for name in [
        "task_names",
        "task_type",
        "target_mean",
        "target_std",
        "geometry",
        "cutoff",
        "hydrogens",
        "num_conformers",
        "conformer_seed",
        "max_heavy_atoms",
        "forcefield",
        "fallback_2d",
        "descriptors",
        "embed_hydrogens",
        "smiles_column",
    ]
)


@dataclass(frozen=True)
class LightningSpec:
    """What ``gdl_science.cli.lightning.run_lightning`` needs of an app."""

    task_class: type = MolPropTask
    datamodule_class: type = MolPropDataModule
    links: tuple = LINKS
