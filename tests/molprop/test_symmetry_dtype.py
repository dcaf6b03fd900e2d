"""check-symmetry runs on a copy: the task keeps its dtype, also for 2D graphs (issue 9).

Before the core owned the check, molprop's 2D branch returned with the task left in
float64. Untrained models suffice: the check's exactness does not need training.
"""

from __future__ import annotations

import pytest
import torch
from gdl_molprop.task import MolPropTask

from gdl_science.symmetry import tolerance


@pytest.mark.parametrize("geometry", ["2d", "3d"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_check_symmetry_leaves_the_task_in_its_dtype(geometry, dtype):
    task = MolPropTask(prep={"geometry": geometry}, width=16, head_hidden=16, radial_width=16)
    task.train()
    before = {k: v.clone() for k, v in task.state_dict().items()}
    report = task.check_symmetry(None, dtype)
    report.assert_equivariant(tolerance(dtype))
    assert {p.dtype for p in task.parameters()} == {torch.float32}
    assert {b.dtype for b in task.buffers() if b.is_floating_point()} == {torch.float32}
    assert task.training
    assert all(torch.equal(before[k], v) for k, v in task.state_dict().items())
