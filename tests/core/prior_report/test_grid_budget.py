"""The grid, the nested subsets and the per-cell budget."""

from __future__ import annotations

import pytest

from gdl_science.io import UserInputError
from gdl_science.prior_report import build_grid, cell_budget
from gdl_science.prior_report.budget import format_max_time, max_time_seconds
from gdl_science.training.splits import nested_subset


def test_subsets_are_nested_and_sized_by_ceil():
    ids = list(range(100, 137))  # 37 records
    small, mid, full = (nested_subset(ids, f, seed=3) for f in (0.1, 0.3, 1.0))
    assert len(small) == 4 and len(mid) == 12 and full == ids  # ceil(3.7), ceil(11.1)
    assert set(small) <= set(mid) <= set(full)
    assert nested_subset(ids, 0.3, seed=3) == mid  # drawn once by seed
    assert nested_subset(ids, 0.3, seed=4) != mid
    with pytest.raises(UserInputError):
        nested_subset(ids, 0.0, seed=0)


def test_grid_order_names_and_errors():
    cells = build_grid(["equivariant", "none"], [1.0, 0.1], [1, 2])
    assert [c.name for c in cells[:3]] == [
        "cell_equivariant_f0.1_s1", "cell_none_f0.1_s1", "cell_equivariant_f0.1_s2"
    ]
    assert len(cells) == 8 and cells[-1].fraction == 1.0
    for bad in (["equivariant", "sometimes"], []):
        with pytest.raises(UserInputError):
            build_grid(bad, [0.5], [1])
    with pytest.raises(UserInputError):
        build_grid(["none"], [1.5], [1])


def test_epochs_become_the_same_steps_for_every_fraction():
    budget = cell_budget({"max_epochs": 4, "max_steps": -1}, steps_per_epoch=25, scale=0.5)
    assert budget.max_steps == 50 and budget.max_time_s is None
    args = budget.overrides()
    assert args[args.index("--trainer.max_steps") + 1] == "50"
    assert args[args.index("--trainer.val_check_interval") + 1] == "25"
    assert args[args.index("--trainer.check_val_every_n_epoch") + 1] == "null"
    # max_steps and max_epochs both set: the smaller, as Lightning would stop
    assert cell_budget({"max_epochs": 10, "max_steps": 30}, 25, 1.0).max_steps == 30


def test_max_time_is_scaled_and_round_trips():
    budget = cell_budget({"max_time": "00:00:44:00", "max_epochs": 1000}, 128, 0.25)
    assert budget.max_time_s == pytest.approx(660.0)
    assert format_max_time(budget.max_time_s) == "00:00:11:00"
    assert max_time_seconds({"minutes": 2}) == 120.0
    assert max_time_seconds("01:02:03:04") == ((24 + 2) * 60 + 3) * 60 + 4
    with pytest.raises(UserInputError):
        cell_budget({"max_epochs": None, "max_steps": -1}, 10, 1.0)
