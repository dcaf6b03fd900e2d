"""The group-convolution U-Net (mirror, flips, octahedral G-CNN) and the network builder."""

from __future__ import annotations

import pytest
import torch
from gdl_medseg.layers.group_conv import GroupConv3d, GroupHead
from gdl_medseg.layers.groups import GridGroup, make_group
from gdl_medseg.model import build_group_unet, build_network
from gdl_medseg.task import MedSegTask

from gdl_science.symmetry import check_equivariance, rotate_grid, tolerance

F64 = tolerance(torch.float64)


def _regular_action(group: GridGroup):
    """g acts on regular fields (B, F*|G|, D, H, W): f_h(p) -> f_{g^-1 h}(g^-1 p)."""

    def act(g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        n = len(group)
        b, c, *spatial = x.shape
        v = x.reshape(b, c // n, n, *spatial)[:, :, group.inverse_products[group.index(g)]]
        return rotate_grid(g, v.reshape(x.shape))

    return act


@pytest.mark.parametrize("name", ["mirror", "flips", "octahedral", "inplane"])
def test_group_is_closed_and_has_the_right_order(name):
    group = make_group(name, axis=1)
    assert len(group) == {"mirror": 2, "flips": 8, "octahedral": 24, "inplane": 4}[name]
    assert torch.equal(group.elements[0], torch.eye(3, dtype=torch.int64))
    table = group.inverse_products
    assert all(sorted(row.tolist()) == list(range(len(group))) for row in table)


@pytest.mark.parametrize("name", ["mirror", "flips"])
def test_group_convolutions_are_exactly_equivariant_in_float64(name):
    group = make_group(name, axis=0)
    act = _regular_action(group)
    g = torch.Generator().manual_seed(0)
    lifting = GroupConv3d(group, 2, 3, lifting=True).double()
    x = torch.randn(2, 2, 7, 7, 7, generator=g, dtype=torch.float64)
    check_equivariance(lifting, group, x, group.act_on_grid, act).assert_equivariant(F64)
    regular = GroupConv3d(group, 3, 2).double()
    y = torch.randn(2, 3 * len(group), 7, 7, 7, generator=g, dtype=torch.float64)
    check_equivariance(regular, group, y, act, act).assert_equivariant(F64)
    head = GroupHead(len(group), 3, 4).double()
    check_equivariance(head, group, y, act, group.act_on_grid).assert_equivariant(F64)


@pytest.mark.parametrize("name", ["mirror", "flips", "octahedral"])
def test_group_unet_is_exactly_equivariant_and_deeply_supervised(name):
    group = make_group(name, axis=0)
    net = build_group_unet(group, 1, 3, [1, 1, 2], 1, deep_supervision=True).double()
    x = torch.randn(1, 1, 17, 17, 17, dtype=torch.float64)
    report = check_equivariance(net, group, x, group.act_on_grid, group.act_on_grid)
    report.assert_equivariant(F64)
    assert len(report.per_element) == len(group)
    net.train()
    shapes = [tuple(o.shape) for o in net(x)]
    assert shapes == [(1, 3, 17, 17, 17), (1, 3, 9, 9, 9)]  # full, then 1/2


def test_builder_gives_the_same_channels_and_half_the_parameters_for_mirror():
    plain = build_network(False, 1, 3, [8, 16], "mirror", 0, 1)
    mirror = build_network(True, 1, 3, [8, 16], "mirror", 0, 1)
    x = torch.randn(1, 1, 9, 9, 9)
    assert plain.encoders[0](x).shape == mirror.encoders[0](x).shape  # 8 channels each
    n_plain = sum(p.numel() for p in plain.parameters())
    n_mirror = sum(p.numel() for p in mirror.parameters())
    assert 0.4 < n_mirror / n_plain < 0.6


def test_task_check_names_the_group_and_is_exact_in_float32():
    task = MedSegTask(1, 3, channels=[4, 8], convs_per_level=1, group="mirror", patch_size=9)
    report = task.check_symmetry(None, torch.float32)
    assert report.group == "mirror(axis 0)" and len(report.per_element) == 2
    assert report.max_abs <= tolerance(torch.float32)
    assert next(task.parameters()).dtype == torch.float32  # the task keeps its dtype
    none = MedSegTask(1, 3, channels=[4, 8], convs_per_level=1, symmetry="none", patch_size=9)
    assert none.check_symmetry(None, torch.float64).max_abs > 1e-4
