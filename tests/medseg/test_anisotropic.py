"""Anisotropic patches (reflection groups) and the whole-case inference window."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gdl_medseg.data.sampler import PatchDataset, crop_padded
from gdl_medseg.layers.groups import make_group
from gdl_medseg.layers.sizes import as_shape, is_valid_shape, valid_shape
from gdl_medseg.layers.sliding_window import case_window, gaussian_importance, sliding_window
from gdl_medseg.model import build_network
from gdl_medseg.task import MedSegTask

from gdl_science.symmetry import check_equivariance, rotate_grid, tolerance


def test_shapes_from_ints_and_lists():
    assert as_shape(9) == (9, 9, 9) and as_shape([9]) == (9, 9, 9)
    assert as_shape([9, 17, 9]) == (9, 17, 9)
    assert valid_shape([30, 50, 33], 4) == (33, 57, 33) and is_valid_shape([33, 49, 33], 4)
    with pytest.raises(ValueError):
        as_shape([9, 9])


def test_crop_and_importance_take_a_shape():
    a = np.arange(5 * 6 * 7).reshape(5, 6, 7)
    out = crop_padded(a, np.array([-1, 0, 2]), (3, 4, 5))
    assert out.shape == (3, 4, 5) and (out[0] == 0).all() and out[1, 0, 0] == a[0, 0, 2]
    w = gaussian_importance((5, 9, 7))
    assert w.shape == (5, 9, 7) and w[2, 4, 3] == w.max()
    assert torch.allclose(w, w.flip(0)) and torch.allclose(w, w.flip(1))


def test_case_window_is_the_whole_case_only_when_cheap():
    # Hippocampus-like: 35x50x36 with a 33x49x33 patch -> one 41x57x41 window (1.8x).
    assert case_window((35, 50, 36), (33, 49, 33), 4, 2.0) == (41, 57, 41)
    assert case_window((35, 50, 36), (33, 49, 33), 4, 0) == (33, 49, 33)  # disabled
    assert case_window((200, 200, 90), (33, 49, 33), 4, 2.0) == (33, 49, 33)  # big volume
    assert case_window((20, 20, 20), (33, 49, 33), 4, 2.0) == (33, 49, 33)  # never smaller


def test_sliding_window_with_an_anisotropic_window_covers_every_voxel():
    class Const(torch.nn.Module):
        def forward(self, x):
            return torch.zeros(x.shape[0], 2, *x.shape[2:])

    probs = sliding_window([Const()], np.zeros((1, 30, 60, 20), np.float32), (17, 25, 9), 2)
    assert probs.shape == (2, 30, 60, 20) and np.allclose(probs, 0.5)


def test_mirror_unet_is_exactly_equivariant_on_an_anisotropic_patch():
    torch.manual_seed(0)
    net = build_network(True, 1, 3, [4, 8, 16], "mirror", 0).double().eval()
    x = torch.randn(1, 1, 9, 17, 13, dtype=torch.float64)  # every axis k*4+1, unequal
    group = make_group("mirror", 0)
    check_equivariance(net, group, x, rotate_grid, rotate_grid).assert_equivariant(
        tolerance(torch.float64)
    )


def test_patch_dataset_draws_anisotropic_patches(phantom_dataset, tmp_path):
    from gdl_medseg.datamodule import MedSegDataModule

    dm = MedSegDataModule(str(phantom_dataset), patch_size=[9, 17, 13], cache_dir=str(tmp_path))
    dm.prepare_data()
    dm.setup("fit")
    cases = [dm.data.case(i) for i in dm.splits["train"]]
    for centred in (False, True):
        image, label = PatchDataset(cases, [9, 17, 13], 4, augment=True, centred=centred)[0]
        assert image.shape == (1, 9, 17, 13) and label.shape == (9, 17, 13)


def test_rotation_groups_refuse_an_anisotropic_patch(phantom_dataset, tmp_path):
    from gdl_medseg.datamodule import MedSegDataModule

    from gdl_science.io import UserInputError

    dm = MedSegDataModule(str(phantom_dataset), patch_size=[9, 17, 9], cache_dir=str(tmp_path))
    dm.prepare_data()
    dm.setup("fit")
    task = MedSegTask(1, dm.n_classes, channels=[4, 8, 16], group="octahedral")

    class Trainer:
        datamodule = dm
        global_rank = 0

    task._trainer = Trainer()  # type: ignore[assignment]
    with pytest.raises(UserInputError, match="must be a cube"):
        task.setup("fit")
