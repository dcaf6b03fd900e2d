"""Test-time mirroring: which flips, and that the mirror-equivariant net needs none."""

import numpy as np
import torch
from gdl_medseg.layers.groups import make_group
from gdl_medseg.layers.sliding_window import sliding_window
from gdl_medseg.task import MedSegTask
from gdl_medseg.tta import describe, mirror_axes, task_flips, tta_flips

from .conftest import run_cli


def test_mirror_axes_follow_the_plan_group():
    assert mirror_axes("mirror", 0) == (0,)
    assert mirror_axes("inplane", 2) == (0, 1)
    assert mirror_axes("octahedral", 0) == mirror_axes("flips", 0) == (0, 1, 2)


def test_flips_skip_the_ones_the_network_is_equivariant_to():
    assert tta_flips((0,), "auto") == [(), (0,)]  # plain net: both passes
    assert tta_flips((0,), "auto", make_group("mirror", 0)) == [()]
    assert tta_flips((0,), "all", make_group("mirror", 0)) == [(), (0,)]
    assert tta_flips((0, 1, 2), "off") == [()]
    assert len(tta_flips((0, 1, 2), "auto")) == 8
    assert tta_flips((0, 1, 2), "auto", make_group("flips")) == [()]
    # The cube rotations hold the 3 flip pairs (180° turns): one reflection remains.
    assert tta_flips((0, 1, 2), "auto", make_group("octahedral")) == [(), (0,)]
    # A mirror about another axis covers nothing of axis 0.
    assert tta_flips((0,), "auto", make_group("mirror", 1)) == [(), (0,)]
    assert describe([(), (0,)], "auto") == "auto: 2 passes (identity, flip 0)"
    assert describe([()], "off") == "off (1 pass)"
    assert describe([()], "auto").startswith("auto: 1 pass (the model is equivariant")


def _task(symmetry: str) -> MedSegTask:
    torch.manual_seed(0)
    task = MedSegTask(
        1,
        3,
        group="mirror",
        group_axis=0,
        channels=[4, 8],
        convs_per_level=1,
        symmetry=symmetry,
        patch_size=[9, 13, 9],
    )
    return task.eval()


def _image() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(1, 13, 20, 11)).astype(np.float32)


def test_mirroring_changes_nothing_for_the_mirror_equivariant_net():
    task = _task("equivariant")
    assert task_flips(task, "auto") == [()]  # the extra pass is skipped
    net, image = task.net, _image()
    one = sliding_window([net], image, [9, 13, 9], 3, flips=[()])
    both = sliding_window([net], image, [9, 13, 9], 3, flips=tta_flips((0,), "all"))
    np.testing.assert_allclose(both, one, atol=1e-5)


def test_auto_mirrors_only_models_that_know_the_flips():
    assert task_flips(_task("none"), "auto") == [()]  # never trained on flipped scans
    assert task_flips(_task("none"), "all") == [(), (0,)]
    assert task_flips(_task("augment"), "auto") == [(), (0,)]  # trained on them


def test_mirroring_averages_the_plain_net_into_a_mirror_symmetric_prediction():
    task = _task("none")
    flips = task_flips(task, "all")
    assert flips == [(), (0,)]
    net, image = task.net, _image()
    one = sliding_window([net], image, [9, 13, 9], 3, flips=[()])
    both = sliding_window([net], image, [9, 13, 9], 3, flips=flips)
    assert np.abs(both - one).max() > 1e-3  # a real change for a plain net
    np.testing.assert_allclose(both.sum(0), 1.0, atol=1e-5)
    # The averaged prediction commutes with the flip (windows tile x symmetrically here).
    flipped = sliding_window([net], image[:, ::-1].copy(), [9, 13, 9], 3, flips=flips)
    np.testing.assert_allclose(flipped[:, ::-1], both, atol=1e-5)


def test_predict_tta_off_runs_one_pass(trained, phantom_dataset, tmp_path):
    """(The default, auto, is checked by test_cli's predict run.)"""
    image = sorted((phantom_dataset / "imagesTr").glob("*.nii.gz"))[0]
    res = run_cli(
        "predict", "--checkpoint", str(trained), "--input", str(image),
        "--output", str(tmp_path / "out"), "--tta", "off",
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "1 case(s)" in res.stderr and "test-time mirroring off (1 pass)" in res.stderr
