"""Groups, their actions on tensors, and the one equivariance checker."""

from gdl_science.symmetry.check import (
    ElementError,
    EquivarianceReport,
    check_equivariance,
    tolerance,
)
from gdl_science.symmetry.euclidean import E3Element, E3Group, NodePermutationGroup
from gdl_science.symmetry.group import Action, Group, ProductGroup, product_action, trivial_action
from gdl_science.symmetry.octahedral import OctahedralGroup, rotate_grid
from gdl_science.symmetry.reverse_complement import (
    ONE_HOT,
    RCFieldType,
    ReverseComplementGroup,
)
from gdl_science.symmetry.so3 import (
    SO3Group,
    axis_angle_rotation,
    random_rotation,
    resample_rotated,
)

__all__ = [
    "ONE_HOT",
    "Action",
    "E3Element",
    "E3Group",
    "ElementError",
    "EquivarianceReport",
    "Group",
    "NodePermutationGroup",
    "OctahedralGroup",
    "ProductGroup",
    "RCFieldType",
    "ReverseComplementGroup",
    "SO3Group",
    "axis_angle_rotation",
    "check_equivariance",
    "product_action",
    "random_rotation",
    "resample_rotated",
    "rotate_grid",
    "tolerance",
    "trivial_action",
]
