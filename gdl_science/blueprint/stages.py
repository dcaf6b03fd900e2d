"""The four stage kinds of the geometric deep learning blueprint, and their composition.

Bronstein et al. (2021) build every network from linear G-equivariant layers,
nonlinearities, local pooling (coarse-graining) and, for invariant tasks, a
G-invariant global pooling followed by a head. Each stage is a map between typed
representations: it exposes ``in_type`` and ``out_type`` (any value describing how the
group acts: an ``RCFieldType``, an escnn ``FieldType``, a feature count), so a model's
symmetry is stated in a form the code can check.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from torch import nn


class Stage(nn.Module):
    """A blueprint stage. Subclasses set ``kind`` and, where they know them, the types."""

    kind: ClassVar[str] = "stage"
    in_type: Any = None
    out_type: Any = None

    def extra_repr(self) -> str:
        parts = []
        if self.in_type is not None:
            parts.append(f"in={self.in_type}")
        if self.out_type is not None:
            parts.append(f"out={self.out_type}")
        return ", ".join(parts)


class EquivariantLinear(Stage):
    """A linear map that commutes with the group action (convolution, message passing)."""

    kind = "linear"


class Nonlinearity(Stage):
    """A pointwise nonlinearity chosen so that it commutes with the action on its type."""

    kind = "nonlinearity"


class LocalPooling(Stage):
    """Coarse-graining over a neighbourhood (scale separation); must tile symmetrically."""

    kind = "local_pooling"


class InvariantPooling(Stage):
    """A global pooling whose output does not change under the group: a type change to trivial."""

    kind = "invariant_pooling"


class Head(Stage):
    """Any map on invariant features (an MLP): it cannot break the symmetry."""

    kind = "head"


def stage_kind(module: nn.Module) -> str:
    return getattr(module, "kind", "module")


class Blueprint(nn.Module):
    """Stages applied in order; ``forward`` reads as the composition of the stages.

    Consecutive stages whose types are both declared must agree (checked at build time),
    which catches a wrongly wired network before it silently breaks equivariance.
    """

    def __init__(self, stages: Sequence[tuple[str, nn.Module]]) -> None:
        super().__init__()
        if not stages:
            raise ValueError("a Blueprint needs at least one stage")
        self.stage_names: list[str] = []
        previous: tuple[str, nn.Module] | None = None
        for name, module in stages:
            if previous is not None:
                _check_types_match(previous, (name, module))
            self.add_module(name, module)
            self.stage_names.append(name)
            previous = (name, module)

    @property
    def in_type(self) -> Any:
        return getattr(getattr(self, self.stage_names[0]), "in_type", None)

    @property
    def out_type(self) -> Any:
        return getattr(getattr(self, self.stage_names[-1]), "out_type", None)

    def forward(self, x: Any) -> Any:
        for name in self.stage_names:
            x = getattr(self, name)(x)
        return x

    def summary(self) -> list[tuple[str, str]]:
        """(name, kind) of every stage, e.g. for logging a model's blueprint."""
        return [(name, stage_kind(getattr(self, name))) for name in self.stage_names]


def _check_types_match(prev: tuple[str, nn.Module], nxt: tuple[str, nn.Module]) -> None:
    out_t = getattr(prev[1], "out_type", None)
    in_t = getattr(nxt[1], "in_type", None)
    if out_t is not None and in_t is not None and out_t != in_t:
        raise TypeError(f"stage {prev[0]!r} outputs {out_t} but stage {nxt[0]!r} expects {in_t}")


def count_parameters(module: nn.Module) -> int:
    """Trainable parameters, the unit in which symmetry modes are compared."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


__all__ = [
    "Blueprint",
    "EquivariantLinear",
    "Head",
    "InvariantPooling",
    "LocalPooling",
    "Nonlinearity",
    "Stage",
    "count_parameters",
    "stage_kind",
]
