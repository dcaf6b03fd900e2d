"""The group interface: what every symmetry in the suite must provide.

A group here is a small value object. It lists the *exact* elements a test must check
(`test_elements`), can draw random elements for augmentation (`sample`), and knows its
own law (`identity`, `compose`, `inverse`). How an element moves a tensor is an
*action*: a plain callable ``action(g, x) -> g·x`` that the group or the caller supplies,
so one group can act on several tensor kinds (a scalar volume, regular-representation
channels, coordinates, ...).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import torch

E = TypeVar("E")  # a group element
T = TypeVar("T")  # whatever the action moves: a tensor, a graph batch, ...

Action = Callable[[Any, Any], Any]
"""``action(g, x)`` returns ``g·x``; it must not modify ``x`` in place."""


def trivial_action(g: Any, x: T) -> T:
    """The trivial representation: every element leaves the value unchanged (invariance)."""
    return x


class Group(ABC, Generic[E]):
    """A symmetry group with exact test elements and random sampling."""

    name: str = "group"
    exact: bool = True
    """False where the group's action on the data is only approximate (e.g. SO(3) on a grid)."""

    @property
    @abstractmethod
    def identity(self) -> E: ...

    @abstractmethod
    def compose(self, a: E, b: E) -> E:
        """The element ``a∘b``: act with ``b`` first, then ``a``."""

    @abstractmethod
    def inverse(self, a: E) -> E: ...

    @abstractmethod
    def test_elements(self) -> Sequence[E]:
        """The elements an equivariance test checks (all of them for a finite group)."""

    @abstractmethod
    def sample(self, generator: torch.Generator | None = None) -> E:
        """One random element, for augmentation."""

    def describe(self, g: E) -> str:
        """A short printable name of an element, for error reports."""
        return repr(g)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ProductGroup(Group[tuple]):
    """The direct product G1 × G2 × ...; elements are tuples, one component per factor.

    Test elements are the union of each factor's test elements (with the identity in the
    other factors) plus the pairing of the factors' elements by index, which keeps the
    count linear instead of the size of the full product.
    """

    def __init__(self, *factors: Group) -> None:
        if not factors:
            raise ValueError("ProductGroup needs at least one factor")
        self.factors = tuple(factors)
        self.name = " x ".join(f.name for f in factors)
        self.exact = all(f.exact for f in factors)

    @property
    def identity(self) -> tuple:
        return tuple(f.identity for f in self.factors)

    def compose(self, a: tuple, b: tuple) -> tuple:
        return tuple(f.compose(x, y) for f, x, y in zip(self.factors, a, b))

    def inverse(self, a: tuple) -> tuple:
        return tuple(f.inverse(x) for f, x in zip(self.factors, a))

    def test_elements(self) -> list[tuple]:
        ident = self.identity
        out: list[tuple] = []
        per_factor = [list(f.test_elements()) for f in self.factors]
        for i, elems in enumerate(per_factor):
            for g in elems:
                out.append((*ident[:i], g, *ident[i + 1 :]))
        for k in range(max(len(e) for e in per_factor)):
            out.append(tuple(e[k % len(e)] for e in per_factor))
        return out

    def sample(self, generator: torch.Generator | None = None) -> tuple:
        return tuple(f.sample(generator) for f in self.factors)

    def describe(self, g: tuple) -> str:
        return "(" + ", ".join(f.describe(x) for f, x in zip(self.factors, g)) + ")"

    def __repr__(self) -> str:
        return f"ProductGroup({', '.join(map(repr, self.factors))})"


def product_action(*actions: Action) -> Action:
    """The action of a product element: apply each factor's action in turn (last first)."""

    def act(g: tuple, x: Any) -> Any:
        for action, component in reversed(list(zip(actions, g))):
            x = action(component, x)
        return x

    return act
