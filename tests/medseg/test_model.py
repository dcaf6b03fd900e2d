"""Every layer and the whole U-Net through check_equivariance, in float64 at all 24 rotations."""

from __future__ import annotations

import pytest
import torch
from gdl_medseg.layers.escnn_layers import (
    EquivariantInstanceNorm3d,
    ExactR3Conv,
    enn,
    equivariant_block,
)
from gdl_medseg.layers.escnn_unet import EquivariantUNet
from gdl_medseg.layers.plain_layers import BlurPool3d, upsample_to
from gdl_medseg.layers.sizes import is_valid_size, pad_to_valid, valid_size
from gdl_medseg.layers.unet import build_plain_unet, matched_plain_channels

from gdl_science.blueprint import count_parameters
from gdl_science.symmetry import OctahedralGroup, check_equivariance, tolerance
from gdl_science.symmetry.escnn_fields import field_action

CUBE = OctahedralGroup()
grid = OctahedralGroup.act_on_grid
F64 = tolerance(torch.float64)


@pytest.fixture(scope="module")
def gs():
    from escnn import gspaces

    return gspaces.octaOnR3()


def _field(ftype, size=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return ftype(torch.randn(2, ftype.size, size, size, size, generator=g, dtype=torch.float64))


def test_exact_r3conv_is_equivariant_in_float64(gs):
    scalar = enn.FieldType(gs, [gs.trivial_repr])
    regular = enn.FieldType(gs, [gs.regular_repr])
    for conv in (
        ExactR3Conv(scalar, regular, kernel_size=3, padding=1),
        ExactR3Conv(regular, regular, kernel_size=3, padding=1),
        ExactR3Conv(regular, scalar + scalar, kernel_size=1),
    ):
        conv = conv.double()
        x = _field(conv.in_type)
        report = check_equivariance(
            conv, CUBE, x, field_action(conv.in_type), field_action(conv.out_type)
        )
        report.assert_equivariant(F64)


def test_projection_is_what_makes_float64_exact(gs):
    """escnn's own filter (used in training steps) is only ~1e-8 equivariant; the projection
    changes it by that much and no more, and projecting twice changes nothing."""
    regular = enn.FieldType(gs, [gs.regular_repr])
    conv = ExactR3Conv(regular, regular, kernel_size=3, padding=1).double()
    raw = enn.R3Conv.expand_parameters(conv)[0]
    projected = conv.project(raw)
    assert 0 < (projected - raw).abs().max() < 1e-6 * raw.abs().max()
    torch.testing.assert_close(conv.project(projected), projected, atol=1e-15, rtol=0)


def test_norm_nonlinearity_and_pooling_layers(gs):
    regular = enn.FieldType(gs, 2 * [gs.regular_repr])
    one = enn.FieldType(gs, [gs.regular_repr])
    act = field_action(regular)
    bn = enn.IIDBatchNorm3d(regular).double()
    bn.train()
    bn(_field(regular, seed=1))  # give it non-trivial running statistics
    layers = [
        bn,
        EquivariantInstanceNorm3d(regular).double(),
        enn.ELU(regular),
        enn.PointwiseAvgPoolAntialiased3D(regular, sigma=0.66, stride=2).double(),
    ]
    for layer in layers:
        check_equivariance(layer, CUBE, _field(regular), act, act).assert_equivariant(F64)
    block = equivariant_block(one, one, 2, norm="batch").double()
    act1 = field_action(one)
    check_equivariance(block, CUBE, _field(one), act1, act1).assert_equivariant(F64)
    block = equivariant_block(one, one, 2, norm="instance").double()
    act1 = field_action(one)
    check_equivariance(block, CUBE, _field(one), act1, act1).assert_equivariant(F64)


def test_plain_pool_and_upsampling_commute_with_rotations_on_odd_sizes():
    x = torch.randn(1, 3, 9, 9, 9, dtype=torch.float64)
    pool = BlurPool3d(3).double()
    check_equivariance(pool, CUBE, x, grid, grid).assert_equivariant(F64)
    up = lambda t: upsample_to(t, (17, 17, 17))  # noqa: E731
    check_equivariance(up, CUBE, x, grid, grid).assert_equivariant(F64)


def test_stride_two_breaks_exactness_on_even_sizes():
    """Why sizes must be odd: on 8^3 the strided samples are not symmetric about the centre."""
    pool = BlurPool3d(1).double()
    x = torch.randn(1, 1, 8, 8, 8, dtype=torch.float64)
    assert check_equivariance(pool, CUBE, x, grid, grid).max_abs > 1e-3


@pytest.fixture(scope="module")
def tiny_unet():
    torch.manual_seed(0)
    # .float(): escnn shares basis-expansion modules between layers of equal type, so an
    # earlier test's .double() also cast this network's basis.
    net = EquivariantUNet(1, 3, [1, 2], convs_per_level=1).float()
    net.train()
    for _ in range(2):  # non-trivial batch-norm statistics
        net(torch.randn(2, 1, 17, 17, 17))
    return net


def test_whole_unet_is_equivariant_float64_and_float32(tiny_unet):
    x = torch.randn(1, 1, 17, 17, 17, dtype=torch.float64)
    net64 = tiny_unet.train().double().eval()
    check_equivariance(net64, CUBE, x, grid, grid).assert_equivariant(F64)
    net32 = tiny_unet.train().float().eval()
    report = check_equivariance(net32, CUBE, x.float(), grid, grid)
    report.assert_equivariant(tolerance(torch.float32))


def test_three_level_unet_needs_sizes_k4_plus_1():
    net = EquivariantUNet(1, 2, [1, 1, 1], convs_per_level=1).double().eval()
    good = torch.randn(1, 1, 13, 13, 13, dtype=torch.float64)  # 13 -> 7 -> 4
    check_equivariance(net, CUBE, good, grid, grid).assert_equivariant(F64)
    bad = torch.randn(1, 1, 11, 11, 11, dtype=torch.float64)  # 11 -> 6 (even) -> 3
    assert check_equivariance(net, CUBE, bad, grid, grid, elements=CUBE.elements[:6]).max_abs > 1e-6
    net.train().float()  # leave escnn's shared basis modules in float32 for later tests


def test_export_gives_the_same_outputs_and_keeps_equivariance(tiny_unet):
    net = tiny_unet.train().float().eval()
    exported = net.export()
    assert not any("escnn" in type(m).__module__ for m in exported.modules())
    x = torch.randn(2, 1, 17, 17, 17)
    torch.testing.assert_close(exported(x), net(x), atol=1e-5, rtol=1e-5)
    # Exported from a float64 network, the plain copy is exact in float64 too.
    exported64 = tiny_unet.train().double().eval().export().double()
    check_equivariance(exported64, CUBE, x[:1].double(), grid, grid).assert_equivariant(F64)
    tiny_unet.train().float()


def test_plain_unet_same_widths_and_matched_parameters(tiny_unet):
    plain = build_plain_unet(1, 3, [24, 48], convs_per_level=1)
    x = torch.randn(1, 1, 17, 17, 17)
    assert plain(x).shape == (1, 3, 17, 17, 17)
    # Without weight tying the plain net is not equivariant.
    assert check_equivariance(plain, CUBE, x, grid, grid).max_abs > 1e-3
    target = count_parameters(tiny_unet)
    assert count_parameters(plain) > 20 * target
    channels = matched_plain_channels(target, 1, 3, [1, 2], 1)
    matched = count_parameters(build_plain_unet(1, 3, channels, 1))
    assert abs(matched - target) / target < 0.35


def test_valid_sizes_and_padding():
    assert [n for n in range(2, 40) if is_valid_size(n, 3)] == [5, 9, 13, 17, 21, 25, 29, 33, 37]
    assert valid_size(30, 3) == 33 and valid_size(17, 2) == 17 and valid_size(18, 2) == 19
    x = torch.randn(1, 1, 10, 17, 12)
    padded, crop = pad_to_valid(x, 3)
    assert padded.shape[2:] == (13, 17, 13)
    assert torch.equal(padded[crop], x)


def test_translations_by_the_total_stride_commute_away_from_the_border():
    """Shifting the input by a multiple of the total stride (2 here) shifts the logits.

    Zero padding makes this hold only where the receptive field stays inside the volume,
    so the input has a zero margin (the shift moves no content across the border) and
    the comparison is restricted to the interior. check_equivariance cannot express a
    comparison on a sub-box, hence the direct assertion. Batch norm (eval mode, a
    pointwise affine map) here: instance norm's statistics cover the whole volume, in
    which the border region shifts relative to the content.
    """
    torch.manual_seed(0)
    net = EquivariantUNet(1, 3, [1, 2], convs_per_level=1, norm="batch").float().eval()
    x = torch.zeros(1, 1, 33, 33, 33)
    x[..., 8:25, 8:25, 8:25] = torch.randn(1, 1, 17, 17, 17)
    y = net(x)
    inner = (..., slice(12, 21), slice(12, 21), slice(12, 21))
    for shift in [(2, 0, 0), (0, -2, 4), (-4, 2, 2)]:
        shifted = net(torch.roll(x, shift, dims=(2, 3, 4)))
        expected = torch.roll(y, shift, dims=(2, 3, 4))
        torch.testing.assert_close(shifted[inner], expected[inner], atol=1e-5, rtol=1e-4)
    # An odd shift is not a multiple of the stride: the pooling grid changes.
    odd = net(torch.roll(x, (1, 0, 0), dims=(2, 3, 4)))
    assert (odd[inner] - torch.roll(y, (1, 0, 0), dims=(2, 3, 4))[inner]).abs().max() > 1e-3


def test_field_instance_norm_normalises_each_field_over_its_group_channels():
    from gdl_medseg.layers.plain_layers import FieldInstanceNorm3d

    norm = FieldInstanceNorm3d(n_fields=2, field_size=3)
    x = torch.randn(4, 6, 5, 5, 5) * 3 + 7
    y = norm(x).view(4, 2, 3 * 125)
    torch.testing.assert_close(y.mean(-1), torch.zeros(4, 2), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.std(-1, unbiased=False), torch.ones(4, 2), atol=1e-4, rtol=0)
    # field_size 1 is InstanceNorm3d with affine parameters
    ref = torch.nn.InstanceNorm3d(6, affine=True)
    torch.testing.assert_close(FieldInstanceNorm3d(6, 1)(x), ref(x), atol=1e-5, rtol=1e-5)


def test_escnn_unet_deep_supervision_heads_are_equivariant():
    net = EquivariantUNet(1, 2, [1, 1, 1], convs_per_level=1, deep_supervision=True).double()
    x = torch.randn(1, 1, 13, 13, 13, dtype=torch.float64)
    net.train()  # the aux heads only answer in training mode: [full, 1/2]
    assert [tuple(o.shape) for o in net(x)] == [(1, 2, 13, 13, 13), (1, 2, 7, 7, 7)]

    def act(g, y):
        return tuple(grid(g, t) for t in y) if isinstance(y, (list, tuple)) else grid(g, y)

    # Training mode uses escnn's unprojected filters (ExactR3Conv: ~1e-8 relative error,
    # the main output's too); eval mode and export, which predict runs, are exact.
    report = check_equivariance(lambda t: tuple(net(t)), CUBE, x, grid, act)
    report.assert_equivariant(tolerance(torch.float32))
    assert torch.is_tensor(net.eval()(x)) and len(net.export().aux_heads) == 0
    net.train().float()  # leave escnn's shared basis modules in float32 for later tests


def test_task_says_whether_deep_supervision_is_on_and_old_checkpoints_load():
    from gdl_medseg.task import MedSegTask

    task = MedSegTask(n_classes=2, group="octahedral", channels=[24, 24, 24], convs_per_level=1)
    assert "deep supervision on (1 auxiliary heads)" in task.describe_network()
    two = MedSegTask(n_classes=2, group="octahedral", channels=[24, 24], convs_per_level=1)
    assert "deep supervision off (a 2-level net" in two.describe_network()
    # A checkpoint written before the escnn nets had aux heads: its weights still load.
    state = {k: v for k, v in task.state_dict().items() if ".aux_heads." not in k}
    fresh = MedSegTask(n_classes=2, group="octahedral", channels=[24, 24, 24], convs_per_level=1)
    fresh.on_load_checkpoint({"state_dict": state})
    fresh.load_state_dict(state)
    assert len(fresh.net.aux_heads) == 0
