"""Training: the base task, the base data module and the symmetry modes."""

from gdl_science.training.datamodule import GDLDataModule, seed_worker, split_indices
from gdl_science.training.symmetry_mode import (
    SYMMETRY_MODES,
    SymmetryMode,
    uses_equivariant_layers,
    validate_symmetry_mode,
)
from gdl_science.training.task import GDLTask, OptimizerName, SchedulerName, StepOutput

__all__ = [
    "SYMMETRY_MODES",
    "GDLDataModule",
    "GDLTask",
    "OptimizerName",
    "SchedulerName",
    "StepOutput",
    "SymmetryMode",
    "seed_worker",
    "split_indices",
    "uses_equivariant_layers",
    "validate_symmetry_mode",
]
