"""The compact U-Net (box pooling, coarse maps projected before upsampling): exact
symmetry, the same layout in every mode, the group rule, and old checkpoints."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from gdl_medseg.layers.groups import make_group
from gdl_medseg.layers.plain_layers import BlurPool3d, BoxPool3d
from gdl_medseg.model import build_group_unet, build_network
from gdl_medseg.task import MedSegTask

from gdl_science.io import UserInputError
from gdl_science.io.checkpoint import load_task
from gdl_science.symmetry import check_equivariance, tolerance

F64 = tolerance(torch.float64)


def test_box_pool_commutes_with_every_cube_symmetry_on_odd_sizes():
    group = make_group("octahedral")
    x = torch.randn(1, 2, 9, 9, 9, dtype=torch.float64)
    report = check_equivariance(BoxPool3d(), group, x, group.act_on_grid, group.act_on_grid)
    report.assert_equivariant(F64)
    assert BoxPool3d()(torch.ones(1, 1, 9, 9, 9)).allclose(torch.ones(1, 1, 5, 5, 5))  # borders


@pytest.mark.parametrize("name", ["mirror", "flips", "octahedral"])
def test_compact_group_unet_is_exactly_equivariant_and_deeply_supervised(name):
    group = make_group(name, axis=0)
    net = build_group_unet(group, 1, 3, [1, 1, 2], 1, deep_supervision=True, compact=True)
    net = net.double()
    assert len(net.projections) == 2 and isinstance(net.pools[0], BoxPool3d)
    x = torch.randn(1, 1, 17, 17, 17, dtype=torch.float64)
    check_equivariance(net, group, x, group.act_on_grid, group.act_on_grid).assert_equivariant(F64)
    net.train()
    assert [tuple(o.shape) for o in net(x)] == [(1, 3, 17, 17, 17), (1, 3, 9, 9, 9)]


def test_compact_decoder_joins_equal_widths_in_every_mode():
    """Decoder j convolves 2 c_j channels (not c_{j+1} + c_j), plain and mirror alike, so
    the modes keep equal compute; the compact net has fewer parameters than the classic."""
    channels = [8, 16, 32]
    nets = {
        (eq, compact): build_network(eq, 1, 3, channels, "mirror", 0, 1, compact=compact)
        for eq in (False, True)
        for compact in (False, True)
    }
    for eq in (False, True):
        compact, classic = nets[eq, True], nets[eq, False]
        joined = torch.randn(1, 2 * 16, 9, 9, 9)  # 16 projected + 16 skip channels
        assert compact.decoders[0](joined).shape == (1, 16, 9, 9, 9)
        with pytest.raises(RuntimeError):
            compact.decoders[0](torch.randn(1, 32 + 16, 9, 9, 9))  # the classic join
        assert isinstance(classic.pools[0], BlurPool3d) and not classic.projections
        x = torch.randn(1, 1, 17, 17, 17)
        assert compact(x).shape == classic(x).shape == (1, 3, 17, 17, 17)
        n = [sum(p.numel() for p in net.parameters()) for net in (compact, classic)]
        assert n[0] < n[1]


def test_the_group_decides_the_layout_and_escnn_groups_refuse_compact():
    def task(group: str, unet: str = "auto", symmetry: str = "equivariant") -> MedSegTask:
        return MedSegTask(
            1,
            3,
            channels=[4, 8],
            convs_per_level=1,
            group=group,
            unet=unet,
            patch_size=9,
            symmetry=symmetry,
        )

    assert task("mirror").compact and task("flips", symmetry="none").compact
    assert not task("mirror", "classic").compact
    assert not task("octahedral").compact  # escnn: classic only
    assert not task("octahedral", symmetry="none").compact  # none follows the plan's group
    with pytest.raises(UserInputError, match="classic layout only"):
        task("octahedral", "compact")


def test_a_checkpoint_from_before_the_option_loads_as_the_classic_net(tmp_path):
    classic = MedSegTask(
        1, 3, channels=[4, 8], convs_per_level=1, group="mirror", unet="classic", patch_size=9
    )
    hparams = dict(classic.hparams)
    del hparams["unet"]  # as saved before ``unet`` existed
    path = tmp_path / "old.ckpt"
    torch.save({"state_dict": classic.state_dict(), "hyper_parameters": hparams}, path)
    loaded = load_task(MedSegTask, path)
    assert not loaded.compact and "classic" in loaded.describe_network()
    x = torch.randn(1, 1, 9, 9, 9)
    assert torch.equal(loaded(x), classic.eval()(x))


def test_step_time_benchmark_times_every_arm_against_its_classic_twin(tmp_path):
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "medseg_step_time.py"
    spec = importlib.util.spec_from_file_location("medseg_step_time", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    args = ["--patch", "9,17,9", "--channels", "4,8", "--reps", "2", "--warmup", "1"]
    result = bench.main([*args, "--out", str(tmp_path)])
    rows = {(r["mode"], r["unet"]): r for r in result["results"]}
    assert set(rows) == {(m, u) for m in ("equivariant", "none") for u in ("classic", "compact")}
    assert all(rows[m, "classic"]["speedup_vs_classic"] == 1.0 for m in ("equivariant", "none"))
    assert rows["none", "compact"]["parameters"] < rows["none", "classic"]["parameters"]
    assert rows["equivariant", "compact"]["parameters"] < rows["none", "compact"]["parameters"]
    assert "| none | compact |" in (tmp_path / "medseg_step_time.md").read_text()
    # The CPU is named: the same step costs about 4x more on some machines than others.
    assert "torch " in result["meta"]["cpu"]
    assert f"CPU: {result['meta']['cpu']}." in (tmp_path / "medseg_step_time.md").read_text()
