"""Blueprint stages for molecules: edge encoders, invariant message passing, readout."""

from gdl_molprop.layers.geometry import (
    CartesianEncoding,
    DistanceEncoding,
    NoGeometry,
    cosine_cutoff,
    gaussian_basis,
)
from gdl_molprop.layers.message_passing import InvariantMessagePassing
from gdl_molprop.layers.readout import MoleculeReadout
from gdl_molprop.layers.types import GraphInput, InvariantNodes, NodeState, permute_state

__all__ = [
    "CartesianEncoding",
    "DistanceEncoding",
    "GraphInput",
    "InvariantMessagePassing",
    "InvariantNodes",
    "MoleculeReadout",
    "NoGeometry",
    "NodeState",
    "cosine_cutoff",
    "gaussian_basis",
    "permute_state",
]
