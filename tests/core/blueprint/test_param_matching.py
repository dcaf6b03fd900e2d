"""Width matching: the plain net's widths are scaled until its size matches a target."""

from __future__ import annotations

import itertools

from torch import nn

from gdl_science.blueprint import count_parameters, match_parameter_count, scaled_widths


def mlp_count(widths: list[int]) -> int:
    sizes = [10, *widths, 1]
    layers = [nn.Linear(a, b) for a, b in itertools.pairwise(sizes)]
    return count_parameters(nn.Sequential(*layers))


def test_matched_widths_hit_the_target_parameter_count():
    base = [8, 16, 16]
    for target in (500, 5_000, 50_000):
        widths = match_parameter_count(base, mlp_count, target)
        assert abs(mlp_count(widths) - target) / target < 0.05, (target, widths)
        # the widths keep the base's proportions
        assert widths[1] == widths[2] and abs(widths[1] / widths[0] - 2) < 0.3


def test_scaled_widths_never_reach_zero():
    assert scaled_widths([1, 2, 3], 0.01) == [1, 1, 1]
