"""Label resampling: per-label linear interpolation then argmax (nnU-Net's), not nearest."""

import numpy as np
import torch
import torch.nn.functional as F
from gdl_medseg.data.preprocess import resample, resample_labels


def _ball(n: int, radius: float, centre: float) -> np.ndarray:
    """A ball of ``radius`` (in units of the volume's edge) on an n^3 grid of cell centres."""
    axis = (np.arange(n) + 0.5) / n
    x, y, z = np.meshgrid(axis, axis, axis, indexing="ij")
    return ((x - centre) ** 2 + (y - centre) ** 2 + (z - centre) ** 2 < radius**2).astype(np.uint8)


def test_upsampled_labels_follow_the_true_boundary_better_than_nearest():
    coarse, fine = _ball(16, 0.3, 0.5), _ball(48, 0.3, 0.5)
    linear = resample_labels(coarse, (48, 48, 48))
    nearest = F.interpolate(
        torch.from_numpy(coarse)[None, None].float(), size=(48, 48, 48), mode="nearest-exact"
    )[0, 0].numpy()
    assert linear.dtype == np.uint8 and linear.shape == (48, 48, 48)
    assert (linear != fine).sum() < 0.8 * (nearest != fine).sum()


def test_every_label_keeps_its_value_and_each_voxel_gets_exactly_one():
    label = np.zeros((12, 14, 10), np.uint8)
    label[2:6, 3:9, 2:7] = 1
    label[7:11, 4:12, 3:9] = 3
    out = resample(label[None], (20, 9, 17), is_label=True)[0]
    assert out.shape == (20, 9, 17) and set(np.unique(out)) == {0, 1, 3}
    same = resample_labels(label, label.shape)
    np.testing.assert_array_equal(same, label)  # the identity grid changes nothing
    const = resample_labels(np.full((4, 4, 4), 2, np.uint8), (7, 7, 7))
    assert (const == 2).all()
