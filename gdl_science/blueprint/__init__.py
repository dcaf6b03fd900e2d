"""The blueprint: linear equivariant layers, nonlinearities, local pooling, invariant pooling."""

from gdl_science.blueprint.heads import MLPHead
from gdl_science.blueprint.invariant_pooling import GraphReadout, RCInvariantPool
from gdl_science.blueprint.param_matching import match_parameter_count, scaled_widths
from gdl_science.blueprint.stages import (
    Blueprint,
    EquivariantLinear,
    Head,
    InvariantPooling,
    LocalPooling,
    Nonlinearity,
    Stage,
    count_parameters,
    stage_kind,
)

__all__ = [
    "Blueprint",
    "EquivariantLinear",
    "GraphReadout",
    "Head",
    "InvariantPooling",
    "LocalPooling",
    "MLPHead",
    "Nonlinearity",
    "RCInvariantPool",
    "Stage",
    "count_parameters",
    "match_parameter_count",
    "scaled_widths",
    "stage_kind",
]
