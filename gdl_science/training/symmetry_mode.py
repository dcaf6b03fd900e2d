"""The three ways every app can train the same network (DESIGN.md section 1).

- ``equivariant``: the symmetry is built into the layers (exact by construction).
- ``augment``: the same architecture with untied weights, trained on randomly
  transformed inputs (the group's ``sample``), so the symmetry is only learned.
- ``none``: the untied network, no augmentation: the baseline without a prior.

Comparing them on one's own data measures what the symmetry prior is worth.
"""

from __future__ import annotations

from typing import Literal, get_args

SymmetryMode = Literal["equivariant", "augment", "none"]
SYMMETRY_MODES: tuple[str, ...] = get_args(SymmetryMode)


def validate_symmetry_mode(mode: str) -> str:
    if mode not in SYMMETRY_MODES:
        raise ValueError(f"symmetry must be one of {', '.join(SYMMETRY_MODES)}; got {mode!r}")
    return mode


def uses_equivariant_layers(mode: str) -> bool:
    """Only ``equivariant`` ties the weights; ``augment`` and ``none`` share one plain net."""
    return validate_symmetry_mode(mode) == "equivariant"
