"""The one equivariance checker of the suite: compares f(g·x) with g·f(x).

Every layer test, every whole-model test and every ``gdl-<app> check-symmetry`` command
calls ``check_equivariance``. Outputs may be a tensor or any nest of tuples, lists and
dicts of tensors (e.g. a graph batch's fields); errors are the max over all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from gdl_science.symmetry.group import Action, Group, trivial_action

# Per-dtype tolerances for *exact* groups (DESIGN.md section 8).
TOLERANCE: dict[torch.dtype, float] = {torch.float32: 1e-5, torch.float64: 1e-10}


def tolerance(dtype: torch.dtype) -> float:
    """The absolute error allowed for an exact group at this dtype."""
    return TOLERANCE.get(dtype, 1e-2)


@dataclass(frozen=True)
class ElementError:
    """Error of one group element: max |f(g·x) − g·f(x)| and that over max |g·f(x)|."""

    element: str
    max_abs: float
    max_rel: float


@dataclass(frozen=True)
class EquivarianceReport:
    """Per-element errors of one check, with the maxima over elements."""

    group: str
    per_element: tuple[ElementError, ...]

    @property
    def max_abs(self) -> float:
        return max((e.max_abs for e in self.per_element), default=0.0)

    @property
    def max_rel(self) -> float:
        return max((e.max_rel for e in self.per_element), default=0.0)

    def worst(self) -> ElementError:
        return max(self.per_element, key=lambda e: e.max_abs)

    def assert_equivariant(self, atol: float, rtol: float | None = None) -> None:
        """Raise AssertionError naming the worst element when the error exceeds the tolerance."""
        worst = self.worst()
        bad_abs = worst.max_abs > atol
        bad_rel = rtol is not None and self.max_rel > rtol
        if bad_abs or bad_rel:
            raise AssertionError(
                f"not {self.group}-equivariant: element {worst.element} has max abs error "
                f"{worst.max_abs:.3e} (atol {atol:.1e}), max rel error {self.max_rel:.3e}"
            )

    def __str__(self) -> str:
        lines = [f"{self.group}: max_abs={self.max_abs:.3e} max_rel={self.max_rel:.3e}"]
        lines += [
            f"  {e.element}: abs={e.max_abs:.3e} rel={e.max_rel:.3e}" for e in self.per_element
        ]
        return "\n".join(lines)


def _flatten(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        return [t for k in sorted(value) for t in _flatten(value[k])]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _flatten(v)]
    if hasattr(value, "__dataclass_fields__"):
        return [t for k in value.__dataclass_fields__ for t in _flatten(getattr(value, k))]
    if hasattr(value, "tensor") and isinstance(value.tensor, torch.Tensor):  # escnn GeometricTensor
        return [value.tensor]
    return []


@torch.no_grad()
def check_equivariance(
    model: Callable[[Any], Any],
    group: Group,
    inputs: Any,
    in_action: Action,
    out_action: Action = trivial_action,
    elements: Sequence[Any] | None = None,
) -> EquivarianceReport:
    """Compare model(g·x) with g·model(x) for each element g.

    Args:
        model: any callable; an ``nn.Module`` is put in eval mode for the check (batch
            norm and dropout must not differ between the two calls) and restored after.
        group: supplies the elements (``group.test_elements()`` unless ``elements``).
        inputs: x, any value ``in_action`` understands.
        in_action / out_action: ``action(g, value)``; ``trivial_action`` checks invariance.
    Returns: per-element max absolute and relative errors.
    """
    was_training = isinstance(model, torch.nn.Module) and model.training
    if isinstance(model, torch.nn.Module):
        model.eval()
    try:
        reference = model(inputs)
        results = []
        for g in elements if elements is not None else group.test_elements():
            transformed_out = _flatten(model(in_action(g, inputs)))
            expected = _flatten(out_action(g, reference))
            if len(transformed_out) != len(expected):
                raise ValueError("model output structure changed under the group action")
            max_abs, max_ref = 0.0, 0.0
            for a, b in zip(transformed_out, expected):
                if a.shape != b.shape:
                    raise ValueError(
                        f"output shape {tuple(a.shape)} != transformed shape {tuple(b.shape)} "
                        f"for element {group.describe(g)}"
                    )
                if a.numel():
                    max_abs = max(max_abs, (a - b).abs().max().item())
                    max_ref = max(max_ref, b.abs().max().item())
            results.append(ElementError(group.describe(g), max_abs, max_abs / max(max_ref, 1e-12)))
    finally:
        if was_training:
            model.train()
    return EquivarianceReport(group.name, tuple(results))
