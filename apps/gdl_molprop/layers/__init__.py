"""Blueprint stages for molecules: edge encoders, invariant message passing, readout."""

from gdl_molprop.layers.dmpnn import DirectedBondEncoder
from gdl_molprop.layers.geometry import (
    CartesianEncoding,
    DistanceEncoding,
    NoGeometry,
    cosine_cutoff,
    gaussian_basis,
)
from gdl_molprop.layers.message_passing import InvariantMessagePassing
from gdl_molprop.layers.radial import RadialInteraction
from gdl_molprop.layers.readout import HybridReadout, MoleculeReadout
from gdl_molprop.layers.types import GraphInput, InvariantNodes, NodeState, permute_state

__all__ = [
    "CartesianEncoding",
    "DirectedBondEncoder",
    "DistanceEncoding",
    "GraphInput",
    "HybridReadout",
    "InvariantMessagePassing",
    "InvariantNodes",
    "MoleculeReadout",
    "NoGeometry",
    "NodeState",
    "RadialInteraction",
    "cosine_cutoff",
    "gaussian_basis",
    "permute_state",
]
