"""E(3) on point coordinates and permutations of graph nodes.

E(3) elements are (Q, t): an orthogonal 3×3 matrix Q (det ±1, so reflections included)
and a translation t, acting on points by p -> Q p + t and on vectors by v -> Q v.
Permutation elements are index tensors over the nodes of one concrete batch: element
``perm`` sends node ``perm[i]`` of the input to position i of the output.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gdl_science.graphs import GraphBatch
from gdl_science.symmetry.group import Group
from gdl_science.symmetry.so3 import axis_angle_rotation, random_rotation


@dataclass(frozen=True)
class E3Element:
    """An isometry of R^3: rotation/reflection Q (3, 3) and translation t (3,), float64."""

    rotation: torch.Tensor
    translation: torch.Tensor

    def __repr__(self) -> str:
        det = torch.linalg.det(self.rotation).item()
        kind = "reflection" if det < 0 else "rotation"
        return f"E3({kind}, t={[round(v, 3) for v in self.translation.tolist()]})"


class E3Group(Group[E3Element]):
    """Rotations, reflections and translations of 3D space."""

    name = "E(3)"

    @property
    def identity(self) -> E3Element:
        return E3Element(torch.eye(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64))

    def compose(self, a: E3Element, b: E3Element) -> E3Element:
        return E3Element(a.rotation @ b.rotation, a.rotation @ b.translation + a.translation)

    def inverse(self, a: E3Element) -> E3Element:
        qt = a.rotation.T.contiguous()
        return E3Element(qt, -(qt @ a.translation))

    def test_elements(self) -> list[E3Element]:
        g = torch.Generator().manual_seed(0)
        zero = torch.zeros(3, dtype=torch.float64)
        mirror = torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64))
        rot = random_rotation(g)
        return [
            self.identity,
            E3Element(axis_angle_rotation(2, 0.5 * torch.pi), zero),
            E3Element(rot, zero),
            E3Element(mirror, zero),
            E3Element(mirror @ rot, torch.tensor([1.5, -2.0, 0.25], dtype=torch.float64)),
            E3Element(
                torch.eye(3, dtype=torch.float64),
                torch.tensor([3.0, 1.0, -4.0], dtype=torch.float64),
            ),
            self.sample(g),
        ]

    def sample(
        self, generator: torch.Generator | None = None, reflections: bool = True
    ) -> E3Element:
        q = random_rotation(generator)
        if reflections and torch.rand(1, generator=generator).item() < 0.5:
            q = q @ torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64))
        t = torch.randn(3, generator=generator, dtype=torch.float64)
        return E3Element(q, t)

    @staticmethod
    def act_on_points(g: E3Element, pos: torch.Tensor) -> torch.Tensor:
        """Points (N, 3): p -> Q p + t."""
        q = g.rotation.to(pos)
        return pos @ q.T + g.translation.to(pos)

    @staticmethod
    def act_on_vectors(g: E3Element, v: torch.Tensor) -> torch.Tensor:
        """Vectors (N, 3) (differences, forces, dipoles): v -> Q v."""
        return v @ g.rotation.to(v).T

    @staticmethod
    def act_on_graph(g: E3Element, graph: GraphBatch) -> GraphBatch:
        """Move a graph's coordinates; features are E(3) scalars and stay."""
        if graph.pos is None:
            raise ValueError("this graph batch has no coordinates to transform")
        return graph.replace(pos=E3Group.act_on_points(g, graph.pos))


class NodePermutationGroup(Group[torch.Tensor]):
    """Permutations of the N nodes of one graph batch, applied within each graph.

    Elements are index tensors (N,). Permuting only within graphs keeps the batch's node
    order grouped by graph, which some samplers rely on; the group is still the full
    product of each graph's symmetric group.
    """

    def __init__(self, batch: torch.Tensor) -> None:
        self.batch = batch.detach().cpu()
        self.n = int(batch.numel())
        self.name = f"S_nodes({self.n})"

    @property
    def identity(self) -> torch.Tensor:
        return torch.arange(self.n)

    def compose(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        # (a∘b)·x = a·(b·x); with (p·x)[i] = x[p[i]], that is x[b[a[i]]].
        return b[a]

    def inverse(self, a: torch.Tensor) -> torch.Tensor:
        inv = torch.empty_like(a)
        inv[a] = torch.arange(a.numel())
        return inv

    def test_elements(self) -> list[torch.Tensor]:
        g = torch.Generator().manual_seed(0)
        reverse = self._within_graphs(lambda idx: idx.flip(0))
        return [self.identity, reverse, self.sample(g), self.sample(g)]

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        return self._within_graphs(
            lambda idx: idx[torch.randperm(idx.numel(), generator=generator)]
        )

    def _within_graphs(self, shuffle) -> torch.Tensor:
        perm = torch.arange(self.n)
        for graph_id in torch.unique(self.batch):
            idx = torch.nonzero(self.batch == graph_id).flatten()
            perm[idx] = shuffle(idx)
        return perm

    def describe(self, g: torch.Tensor) -> str:
        return "id" if torch.equal(g, self.identity) else f"perm{g[:6].tolist()}..."

    @staticmethod
    def act_on_nodes(perm: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Node-indexed tensor (N, ...) -> (N, ...): row i of the output is row perm[i]."""
        return x[perm.to(x.device)]

    @staticmethod
    def act_on_graph(perm: torch.Tensor, graph: GraphBatch) -> GraphBatch:
        """Relabel the nodes of a graph batch; edges follow their endpoints."""
        perm = perm.to(graph.x.device)
        inv = torch.empty_like(perm)
        inv[perm] = torch.arange(perm.numel(), device=perm.device)
        return graph.replace(
            x=graph.x[perm],
            pos=None if graph.pos is None else graph.pos[perm],
            batch=graph.batch[perm],
            edge_index=inv[graph.edge_index],
        )
