"""Sliding window, undoing preprocessing, and the evaluation metrics, on known answers."""

from __future__ import annotations

import itertools

import nibabel as nib
import numpy as np
import torch
from gdl_medseg.data.layout import Volume
from gdl_medseg.data.phantoms import PhantomConfig, make_case
from gdl_medseg.data.preprocess import Plan, preprocess_label, to_ras
from gdl_medseg.evaluate import dice, hd95
from gdl_medseg.layers.sliding_window import gaussian_importance, sliding_window, window_starts
from gdl_medseg.predict import to_original_geometry


def test_window_starts_cover_the_axis_with_the_requested_overlap():
    for n in (5, 17, 18, 40, 101):
        starts = window_starts(n, 17, 0.5)
        covered = np.zeros(max(n, 17), bool)
        for s in starts:
            covered[s : s + 17] = True
        assert covered[:n].all() and starts[0] == 0 and starts[-1] + 17 >= n
        assert all(b - a <= 8 for a, b in itertools.pairwise(starts))


def test_gaussian_importance_peaks_at_the_centre_and_is_symmetric():
    w = gaussian_importance(9)
    assert w[4, 4, 4] == 1 and w.min() > 0
    assert torch.equal(w, w.flip(0)) and torch.equal(w, w.permute(2, 0, 1))


class _Echo(torch.nn.Module):
    """Logits that make class 1 win exactly where the input is positive."""

    def forward(self, x):
        return torch.cat([torch.zeros_like(x), 10 * x], dim=1)


def test_sliding_window_reassembles_a_pointwise_network_exactly():
    image = np.random.default_rng(0).normal(size=(1, 30, 23, 9)).astype(np.float32)
    probs = sliding_window([_Echo()], image, 11, 2, overlap=0.5, window_batch=3)
    assert probs.shape == (2, 30, 23, 9)
    expected = torch.softmax(torch.from_numpy(np.concatenate([0 * image, 10 * image])), 0)
    np.testing.assert_allclose(probs, expected.numpy(), atol=1e-5)


def test_predictions_return_to_the_original_grid_and_orientation():
    """A one-hot of the preprocessed reference label, undone, gives back the reference."""
    _, label, affine = make_case(PhantomConfig(size=24), 1)  # stored LPS
    # Anisotropic storage: every second slice along the last axis (2 mm).
    label = label[:, :, ::2].copy()
    affine = affine.copy()
    affine[:3, 2] *= 2
    ref = Volume(label.astype(np.float32), affine, nib.Nifti1Header())
    plan = Plan((1.0, 1.0, 1.0), ("zscore",), (0, 0, 0, 1))
    ras_shape = to_ras(ref.data, affine)[0].shape
    resampled = preprocess_label(ref, (24, 24, 24))
    assert resampled.shape == (24, 24, 24) and plan.target_spacing == (1.0, 1.0, 1.0)
    onehot = np.eye(4, dtype=np.float32)[resampled].transpose(3, 0, 1, 2)
    back = to_original_geometry(onehot, ras_shape, ref).argmax(0)
    assert back.shape == label.shape
    assert (back == label).mean() > 0.995


def test_dice_and_hd95_on_known_shapes():
    a = np.zeros((20, 20, 20), bool)
    b = np.zeros_like(a)
    a[5:10, 5:10, 5:10] = True
    b[7:12, 5:10, 5:10] = True  # shifted by 2 voxels along x
    assert dice(a, b) == 2 * 75 / 250
    assert dice(a, a) == 1.0 and dice(a & False, b & False) == 1.0
    # 2 voxels at 1.5 mm along x: the farthest surface points are 3 mm apart.
    assert hd95(a, b, (1.5, 1.0, 1.0)) == 3.0
    assert hd95(a, a, (1.0, 1.0, 1.0)) == 0.0
    assert np.isnan(hd95(a, b & False, (1.0, 1.0, 1.0)))
