"""How our ``OctahedralGroup`` elements act on escnn feature fields.

Our cube rotations are 3×3 integer matrices acting on the (D, H, W) axes of a tensor
(``rotate_grid``); escnn names its group elements in its own parametrisation and lays
out space in its own axis convention. Rather than guess how the two conventions relate,
we *measure* it: for each of our 24 matrices R we find the escnn element g whose
transform of a random scalar (trivial) field equals ``rotate_grid(R, ·)`` exactly.

With that element, a field of any escnn type transforms as

    (R·f)(x) = rho(g) f(R^-1 x),

i.e. the channels are mixed by the field type's representation rho(g) (a permutation
for regular fields) and the grid is rotated exactly by ``rotate_grid``. We never use
escnn's own interpolating ``transform`` for the action itself, so the action is exact
in any dtype; escnn's transform is only the reference the matching is made against.

Works for gspaces whose fibre group is the octahedral group or one of its subgroups
(e.g. C4 about one axis: ``cube_rotations_of`` lists the rotations it contains), or a
continuous group containing the cube rotations, such as SO(3) (candidates built from
matrices).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gdl_science.symmetry.escnn_compat import import_escnn
from gdl_science.symmetry.group import Action
from gdl_science.symmetry.octahedral import OctahedralGroup, rotate_grid

# gspace name -> {index in OctahedralGroup().elements: the matching escnn element}.
_ELEMENT_TABLES: dict[str, dict[int, Any]] = {}


def _candidates(gspace: Any) -> list[Any]:
    group = gspace.fibergroup
    if group.order() > 0:
        return list(group.elements)
    # A continuous group: its elements can be built from rotation matrices. Which matrix
    # corresponds to which grid rotation is what the matching below determines.
    return [group.element(m.double().numpy(), "MAT") for m in OctahedralGroup().elements]


def _build_table(gspace: Any) -> dict[int, Any]:
    import_escnn()
    from escnn import nn as enn

    scalar = enn.FieldType(gspace, [gspace.trivial_repr])
    # A generic 3×3×3 probe: no two cube rotations give the same field.
    probe = torch.randn(
        1, 1, 3, 3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64
    )
    candidates = _candidates(gspace)
    transformed = [scalar.transform(probe, g) for g in candidates]
    table: dict[int, Any] = {}
    for index, r in enumerate(OctahedralGroup().elements):
        target = rotate_grid(r, probe)
        hits = [
            g
            for g, t in zip(candidates, transformed)
            if torch.allclose(t.to(target), target, atol=1e-8)
        ]
        if len(hits) > 1:
            raise RuntimeError(
                f"{len(hits)} escnn elements of {gspace.fibergroup} match cube rotation "
                f"{r.tolist()}; expected at most one"
            )
        if hits:
            table[index] = hits[0]
    order = gspace.fibergroup.order()
    if order > 0 and len(table) != order:
        # A finite group whose elements are not all cube rotations (e.g. C8) cannot act
        # exactly on a grid; say so rather than check a subset silently.
        raise ValueError(
            f"only {len(table)} of the {order} elements of {gspace.fibergroup} are grid rotations"
        )
    return table


def _table(gspace: Any) -> dict[int, Any]:
    if gspace.name not in _ELEMENT_TABLES:
        _ELEMENT_TABLES[gspace.name] = _build_table(gspace)
    return _ELEMENT_TABLES[gspace.name]


def cube_rotations_of(gspace: Any) -> list[torch.Tensor]:
    """Our cube rotations that belong to the gspace's fibre group (24 for octa, 4 for C4, ...)."""
    elements = OctahedralGroup().elements
    return [elements[i] for i in sorted(_table(gspace))]


def escnn_element(gspace: Any, rotation: torch.Tensor) -> Any:
    """The escnn fibre-group element that rotates the grid as ``rotate_grid(rotation, ·)``."""
    index = OctahedralGroup().index(rotation)
    table = _table(gspace)
    if index not in table:
        raise ValueError(f"cube rotation {rotation.tolist()} is not in {gspace.fibergroup}")
    return table[index]


def representation_matrix(field_type: Any, rotation: torch.Tensor) -> np.ndarray:
    """rho(g) (C, C) of the field type at the escnn element matching ``rotation``.

    escnn builds representations through a numerical change of basis, so a regular
    representation's permutation matrix carries ~1e-16 noise; integral matrices are
    rounded so that the action of permutation representations is exact.
    """
    rho = np.asarray(field_type.representation(escnn_element(field_type.gspace, rotation)))
    rounded = np.round(rho)
    return rounded if np.abs(rho - rounded).max() < 1e-9 else rho


def act_on_field(field_type: Any, rotation: torch.Tensor, x: Any) -> Any:
    """Apply a cube rotation to a field of ``field_type``.

    ``x`` is a tensor (B, C, D, H, W) with C = field_type.size, or a GeometricTensor of
    that type (returned as a GeometricTensor). Exact: the channel map is rho(g) and the
    grid map is an axis permutation with flips.
    """
    geometric = hasattr(x, "tensor") and hasattr(x, "type")
    tensor = x.tensor if geometric else x
    if tensor.shape[1] != field_type.size:
        raise ValueError(f"field type of size {field_type.size} got {tensor.shape[1]} channels")
    rho = representation_matrix(field_type, rotation)
    mixed = torch.einsum("oc,bc...->bo...", torch.as_tensor(rho).to(tensor), tensor)
    out = rotate_grid(rotation, mixed)
    return field_type(out) if geometric else out


def field_action(field_type: Any) -> Action:
    """``action(R, x)`` for ``check_equivariance``: cube rotations on fields of this type."""

    def act(rotation: torch.Tensor, x: Any) -> Any:
        return act_on_field(field_type, rotation, x)

    return act
