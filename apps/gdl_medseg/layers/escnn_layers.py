"""escnn layers of the equivariant U-Net: exact octahedral convolution and its blocks.

``ExactR3Conv``: escnn samples its steerable kernel basis in float32
(``basisexpansion_singleblock.py``), so a plain ``R3Conv`` is equivariant to the cube
rotations only to ~1e-8 relative error even in float64. We project the expanded filter
onto the exactly equivariant subspace with the Reynolds operator

    W'(p) = 1/|O| sum_g rho_out(g) W(R_g^-1 p) rho_in(g)^-1,

which for permutation representations (regular and trivial fields) is a mean of 24
gathered, grid-rotated copies of the filter, exact in float64. It is applied to the
filter that eval() caches and export() uses; training steps use escnn's filter as is
(equivariant to ~1e-8 relative error), which keeps the step as fast as escnn's. The
trainable parameters and state-dict keys are escnn's own.
"""

from __future__ import annotations

from typing import Any

import torch

from gdl_medseg.layers.plain_layers import FieldInstanceNorm3d
from gdl_science.symmetry import rotate_grid
from gdl_science.symmetry.escnn_compat import import_escnn
from gdl_science.symmetry.escnn_fields import cube_rotations_of, representation_matrix

escnn = import_escnn()
from escnn import nn as enn  # noqa: E402


def _permutation_indices(field_type: Any, rotations: list[torch.Tensor]) -> torch.Tensor:
    """(|G|, C), row g: src with (rho(g) x)[c] = x[src[c]]; rho must be a permutation."""
    rows = []
    for r in rotations:
        rho = torch.as_tensor(representation_matrix(field_type, r))
        if (
            not torch.equal(rho.abs().sum(1), torch.ones(rho.shape[0], dtype=rho.dtype))
            or (rho < 0).any()
        ):
            raise ValueError(f"{field_type} is not a permutation representation")
        rows.append(rho.argmax(1))
    return torch.stack(rows)


class ExactR3Conv(enn.R3Conv):
    """escnn's ``R3Conv`` whose expanded filter is projected to exact G-equivariance.

    G is the gspace's group as cube rotations: the octahedral group, or C4 about one axis.

    Fields must be permutation representations (trivial or regular), which is what the
    U-Net uses. Shapes: (B, in_type.size, D, H, W) -> (B, out_type.size, D', H', W').
    """

    def __init__(self, in_type: Any, out_type: Any, kernel_size: int, **kwargs: Any) -> None:
        super().__init__(in_type, out_type, kernel_size, **kwargs)
        # The group's elements as our cube rotations (24 for O, 4 for C4 about one axis).
        self.rotations = cube_rotations_of(in_type.gspace)
        # Non-persistent: the state dict stays escnn's, so checkpoints do not depend on it.
        src_out = _permutation_indices(out_type, self.rotations)
        self.register_buffer("_src_out", src_out, persistent=False)
        self.register_buffer(
            "_src_in", _permutation_indices(in_type, self.rotations), persistent=False
        )
        self._caching = False

    def expand_parameters(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        weights, bias = super().expand_parameters()  # (O, I, k, k, k), (O,) or None
        if self.training and not getattr(self, "_caching", False):
            # Training steps use escnn's filter as is: its ~1e-8 relative symmetry error
            # is far below float32 gradient noise, and the projection would cost ~20%
            # of a step. The filter cached for eval() and export() is projected.
            return weights, bias
        return self.project(weights), bias

    def project(self, weights: torch.Tensor) -> torch.Tensor:
        """The Reynolds projection of a filter (O, I, k, k, k) onto exact O-equivariance."""
        total = torch.zeros_like(weights)
        for g, r in enumerate(self.rotations):
            rotated = rotate_filter(r, weights)
            total = total + rotated[self._src_out[g]][:, self._src_in[g]]
        return total / len(self._src_out)

    def train(self, mode: bool = True) -> ExactR3Conv:
        # escnn caches the expanded filter as a buffer on eval(); without no_grad that
        # buffer keeps the autograd graph alive and cannot be deep-copied.
        self._caching = True
        try:
            with torch.no_grad():
                return super().train(mode)
        finally:
            self._caching = False


def rotate_filter(rotation: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """W(R^-1 p) for a filter (O, I, k, k, k): the grid rotation of its last three axes."""
    return rotate_grid(rotation, weights)


class EquivariantInstanceNorm3d(enn.EquivariantModule):
    """``FieldInstanceNorm3d`` on a field type of equal-size permutation fields (regular)."""

    def __init__(self, in_type: Any, eps: float = 1e-5) -> None:
        super().__init__()
        sizes = {r.size for r in in_type.representations}
        if len(sizes) != 1:
            raise ValueError(f"{in_type}: all fields must have the same size")
        self.in_type = self.out_type = in_type
        self.norm = FieldInstanceNorm3d(len(in_type), sizes.pop(), eps)

    def forward(self, x: Any) -> Any:
        assert x.type == self.in_type
        return enn.GeometricTensor(self.norm(x.tensor), self.out_type)

    def evaluate_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return input_shape

    def export(self) -> FieldInstanceNorm3d:
        exported = FieldInstanceNorm3d(self.norm.n_fields, self.norm.field_size, self.norm.eps)
        exported.load_state_dict(self.norm.state_dict())
        return exported.to(self.norm.weight).eval()


def equivariant_norm(field_type: Any, norm: str) -> Any:
    if norm == "instance":
        return EquivariantInstanceNorm3d(field_type)
    if norm == "batch":
        return enn.IIDBatchNorm3d(field_type)
    raise ValueError(f"norm must be 'instance' or 'batch', got {norm!r}")


def equivariant_block(in_type: Any, out_type: Any, n_convs: int, norm: str = "instance") -> Any:
    """``n_convs`` × (ExactR3Conv 3³ -> norm -> ELU) on regular fields."""
    layers = []
    current = in_type
    for _ in range(n_convs):
        layers += [
            ExactR3Conv(current, out_type, kernel_size=3, padding=1, bias=False),
            equivariant_norm(out_type, norm),
            enn.ELU(out_type, inplace=False),
        ]
        current = out_type
    return enn.SequentialModule(*layers)
