"""Batched graphs and scatter reductions: the data structure of the Graphs domain.

A batch of graphs is one disjoint-union graph: node rows of all graphs stacked, and a
``batch`` vector saying which graph each node belongs to. Nothing here knows about
molecules; node and edge features are opaque float tensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import torch


@dataclass
class GraphBatch:
    """A batch of graphs.

    Shapes: x (N, F) node features; pos (N, 3) coordinates or None; edge_index (2, E)
    (source, target) node indices; edge_attr (E, Fe) or None; batch (N,) graph index of
    each node; y (G, T) targets or None; extra: per-graph tensors an app carries along.
    """

    x: torch.Tensor
    edge_index: torch.Tensor
    batch: torch.Tensor
    num_graphs: int
    pos: torch.Tensor | None = None
    edge_attr: torch.Tensor | None = None
    y: torch.Tensor | None = None
    extra: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def num_nodes(self) -> int:
        return int(self.x.shape[0])

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> GraphBatch:
        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            if t is None:
                return None
            t = t.to(device)
            return t.to(dtype) if dtype is not None and t.is_floating_point() else t

        return GraphBatch(
            x=move(self.x),
            edge_index=move(self.edge_index),
            batch=move(self.batch),
            num_graphs=self.num_graphs,
            pos=move(self.pos),
            edge_attr=move(self.edge_attr),
            y=move(self.y),
            extra={k: move(v) for k, v in self.extra.items()},
        )

    def replace(self, **changes) -> GraphBatch:
        return replace(self, **changes)

    @staticmethod
    def collate(graphs: Sequence[GraphBatch]) -> GraphBatch:
        """Concatenate single graphs (or batches) into one batch, offsetting node indices."""
        if not graphs:
            raise ValueError("cannot collate an empty list of graphs")
        offset, graph_offset = 0, 0
        edges, batches = [], []
        for g in graphs:
            edges.append(g.edge_index + offset)
            batches.append(g.batch + graph_offset)
            offset += g.num_nodes
            graph_offset += g.num_graphs

        def cat(name: str) -> torch.Tensor | None:
            values = [getattr(g, name) for g in graphs]
            if all(v is None for v in values):
                return None
            if any(v is None for v in values):
                raise ValueError(f"some graphs have {name} and some do not")
            return torch.cat(values, dim=0)

        extra_keys = set(graphs[0].extra)
        return GraphBatch(
            x=torch.cat([g.x for g in graphs]),
            edge_index=torch.cat(edges, dim=1),
            batch=torch.cat(batches),
            num_graphs=graph_offset,
            pos=cat("pos"),
            edge_attr=cat("edge_attr"),
            y=cat("y"),
            extra={k: torch.cat([g.extra[k] for g in graphs]) for k in extra_keys},
        )

    @staticmethod
    def single(
        x: torch.Tensor,
        edge_index: torch.Tensor,
        pos: torch.Tensor | None = None,
        edge_attr: torch.Tensor | None = None,
        y: torch.Tensor | None = None,
        **extra: torch.Tensor,
    ) -> GraphBatch:
        """One graph as a batch of size 1 (y and extra get a leading graph axis)."""
        return GraphBatch(
            x=x,
            edge_index=edge_index,
            batch=torch.zeros(x.shape[0], dtype=torch.long),
            num_graphs=1,
            pos=pos,
            edge_attr=edge_attr,
            y=None if y is None else y.unsqueeze(0),
            extra={k: v.unsqueeze(0) for k, v in extra.items()},
        )


def scatter_sum(src: torch.Tensor, index: torch.Tensor, num_segments: int) -> torch.Tensor:
    """Sum rows of src (N, F) into num_segments rows by index (N,) -> (num_segments, F)."""
    out = src.new_zeros((num_segments, *src.shape[1:]))
    return out.index_add(0, index, src)


def scatter_mean(src: torch.Tensor, index: torch.Tensor, num_segments: int) -> torch.Tensor:
    """Mean of rows of src per segment; empty segments give zeros."""
    total = scatter_sum(src, index, num_segments)
    count = torch.bincount(index, minlength=num_segments).clamp(min=1).to(src.dtype)
    return total / count.view(-1, *([1] * (src.dim() - 1)))


__all__ = ["GraphBatch", "scatter_mean", "scatter_sum"]
