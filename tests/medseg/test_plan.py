"""The data-driven plan, augmentation and largest-component post-processing."""

from __future__ import annotations

import numpy as np
import pytest
from gdl_medseg.data.augment import augment_patch
from gdl_medseg.data.plan import Fingerprint, fingerprint, levels_for, make_plan, valid_patch
from gdl_medseg.datamodule import MedSegDataModule
from gdl_medseg.layers.sizes import is_valid_size
from gdl_medseg.postprocess import apply_lcc, choose_lcc, largest_component


@pytest.mark.parametrize("target", [12, 20, 35, 40, 48, 60, 200])
def test_patch_is_valid_for_its_levels_and_bottom_is_small(target):
    patch = valid_patch(target)
    levels, bottom = levels_for(patch)
    assert patch % 2 == 1 and is_valid_size(patch, levels) and bottom <= 8
    assert patch <= 65


def test_hippocampus_like_fingerprint_gives_nnunet_like_plan():
    plan = make_plan(Fingerprint(166, (35, 50, 36), 0.99))
    # Levels from the median volume's cube (41 -> 21 -> 11 -> 6); the mirror maps each
    # axis to itself, so the patch follows the median shape, axis by axis.
    assert (plan.patch_size, plan.levels) == ((33, 49, 33), 4)
    assert all(is_valid_size(n, plan.levels) for n in plan.patch_size)
    assert plan.channels == (16, 32, 64, 128) and plan.batch_size == 2
    assert (plan.group, plan.axis) == ("mirror", 0)  # canonical pose: left-right only
    rotations = make_plan(Fingerprint(12, (48, 50, 40), 0.1))
    assert rotations.group == "octahedral" and len(set(rotations.patch_size)) == 1  # a cube
    assert make_plan(Fingerprint(12, (48, 48, 12), 0.9), "inplane", 2).group == "inplane"


def test_pose_consistency_tells_canonical_from_random_poses():
    rng = np.random.default_rng(0)
    fixed, random = [], []
    for _ in range(6):
        a = np.zeros((20, 20, 20), np.uint8)
        a[14:17, 9:12, 9:12] = 1  # always at +x
        fixed.append(a)
        b = np.zeros((20, 20, 20), np.uint8)
        c = rng.integers(3, 15, size=3)
        b[c[0] : c[0] + 3, c[1] : c[1] + 3, c[2] : c[2] + 3] = 1
        random.append(b)
    assert fingerprint([a.shape for a in fixed], fixed).pose_consistency > 0.95
    assert fingerprint([b.shape for b in random], random).pose_consistency < 0.6


def test_datamodule_prints_and_uses_the_plan_and_explicit_values_win(
    phantom_dataset, tmp_path, capsys
):
    dm = MedSegDataModule(str(phantom_dataset), cache_dir=str(tmp_path / "c"))
    dm.prepare_data()
    dm.setup("fit")
    assert "gdl-medseg plan: patch 25x25x25, 3 levels" in capsys.readouterr().out
    assert dm.patch_size == list(dm.network_plan.patch_size) == [25, 25, 25]
    given = MedSegDataModule(str(phantom_dataset), patch_size=17, cache_dir=str(tmp_path / "c"))
    given.prepare_data()
    given.setup("fit")
    assert given.patch_size == 17 and given.network_plan.patch_size == (25, 25, 25)


def test_augmentation_keeps_shapes_labels_and_is_seeded():
    image = np.random.default_rng(0).normal(size=(1, 17, 17, 17)).astype(np.float32)
    label = np.zeros((17, 17, 17), np.int64)
    label[5:12, 5:12, 5:12] = 2
    for seed in range(10):
        a = augment_patch(image, label, np.random.default_rng(seed))
        b = augment_patch(image, label, np.random.default_rng(seed))
        assert a[0].shape == image.shape and a[0].dtype == np.float32 and a[1].shape == label.shape
        assert set(np.unique(a[1])) <= {0, 2}
        np.testing.assert_array_equal(a[0], b[0])


def test_largest_component_removes_islands_and_is_kept_only_where_it_helps():
    ref = np.zeros((20, 20, 20), np.uint8)
    ref[5:10, 5:10, 5:10] = 1
    ref[12:16, 12:16, 12:16] = 2
    pred = ref.copy()
    pred[0:2, 0:2, 0:2] = 1  # a distant false positive of label 1
    pred[17:19, 0:2, 0:2] = 2  # ... and of label 2
    assert largest_component(pred == 1).sum() == 125
    cleaned = apply_lcc(pred, [1])
    assert (cleaned == 1).sum() == 125 and (cleaned[0:2, 0:2, 0:2] == 0).all()
    assert (cleaned == 2).sum() == (pred == 2).sum()  # label 2 untouched
    two_piece = ref.copy()
    two_piece[12:16, 2:6, 12:16] = 2  # label 2 truly has two parts
    chosen, effect = choose_lcc([pred, two_piece], [ref, two_piece], 3)
    assert 1 in chosen and effect[1][1] > effect[1][0]
