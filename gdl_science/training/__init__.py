"""Training: the base task, the base data module, symmetry modes, masked losses, splits."""

from gdl_science.training.averaging import log_mean_softmax, logit_mean_sigmoid, mean_output
from gdl_science.training.datamodule import GDLDataModule, seed_worker
from gdl_science.training.masked import MaskedTaskMetric, masked_loss
from gdl_science.training.prediction_store import PredictionStore
from gdl_science.training.splits import (
    SPLIT_ALIASES,
    column_split,
    parse_split_value,
    split_indices,
)
from gdl_science.training.symmetry_mode import (
    SYMMETRY_MODES,
    SymmetryMode,
    uses_equivariant_layers,
    validate_symmetry_mode,
)
from gdl_science.training.task import (
    GDLTask,
    OptimizerName,
    SchedulerName,
    SelectionMetric,
    StepOutput,
    SymmetryCheck,
)

__all__ = [
    "SPLIT_ALIASES",
    "SYMMETRY_MODES",
    "GDLDataModule",
    "GDLTask",
    "MaskedTaskMetric",
    "OptimizerName",
    "PredictionStore",
    "SchedulerName",
    "SelectionMetric",
    "StepOutput",
    "SymmetryCheck",
    "SymmetryMode",
    "column_split",
    "log_mean_softmax",
    "logit_mean_sigmoid",
    "masked_loss",
    "mean_output",
    "parse_split_value",
    "seed_worker",
    "split_indices",
    "uses_equivariant_layers",
    "validate_symmetry_mode",
]
