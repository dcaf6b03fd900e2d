"""Training augmentation: crop before rotate, gamma that keeps the statistics."""

import numpy as np
import pytest
from gdl_medseg.data import augment
from gdl_medseg.data.augment import (
    _rotation,
    augmented_crop,
    crop_padded,
    gamma,
    intensity,
    transformed_crop,
)
from scipy import ndimage

ROT45 = _rotation(np.array([0.0, 0.0, np.pi / 4]))  # 45° about axis 2


def _constant_case(n: int = 48) -> tuple[np.ndarray, np.ndarray]:
    return np.ones((1, n, n, n), np.float32), np.ones((n, n, n), np.uint8)


def test_a_45_degree_rotation_reads_anatomy_into_the_corners():
    image, label = _constant_case()
    start = np.array([15, 15, 15])
    out, out_label = transformed_crop(image, label, start, 17, ROT45)
    assert out.shape == (1, 17, 17, 17) and out_label.shape == (17, 17, 17)
    assert out.min() > 0.999 and (out_label == 1).all()


def test_the_old_patch_style_fills_the_rotated_corners_with_zeros(monkeypatch):
    image, label = _constant_case()
    patch, patch_label = (
        crop_padded(image, np.array([15, 15, 15]), 17),
        crop_padded(label, np.array([15, 15, 15]), 17),
    )
    monkeypatch.setattr(augment, "sample_matrix", lambda rng: ROT45)
    out, out_label = augment.spatial(patch, patch_label, np.random.default_rng(0))
    assert (out == 0).mean() > 0.05 and (out_label == 0).mean() > 0.05  # fake background


def test_the_transformed_crop_is_the_patch_transformed_about_its_centre():
    """Geometry: with a 90° turn (which maps the cube patch onto itself) reading from the
    case must equal turning the cropped patch."""
    rng = np.random.default_rng(0)
    image = rng.normal(size=(2, 30, 31, 32)).astype(np.float32)
    label = rng.integers(0, 3, size=(30, 31, 32)).astype(np.uint8)
    start, size = np.array([4, 7, 3]), 13
    turn = _rotation(np.array([np.pi / 2, 0.0, 0.0])).round()
    out, out_label = transformed_crop(image, label, start, size, turn)
    patch, patch_label = crop_padded(image, start, size), crop_padded(label, start, size)
    centre = np.full(3, (size - 1) / 2)
    offset = centre - turn @ centre
    expected = [ndimage.affine_transform(c, turn, offset, order=1) for c in patch]
    np.testing.assert_allclose(out, np.stack(expected), atol=1e-5)
    np.testing.assert_array_equal(
        out_label, ndimage.affine_transform(patch_label, turn, offset, order=0)
    )
    same, same_label = transformed_crop(image, label, start, size, None)
    np.testing.assert_array_equal(same, patch)
    np.testing.assert_array_equal(same_label, patch_label)


def test_a_rotated_patch_at_the_case_border_is_padded_only_beyond_the_case():
    image, label = _constant_case(20)
    out, _ = transformed_crop(image, label, np.array([-5, 0, 0]), 11, ROT45)
    assert (out == 0).any() and (out > 0.999).any()


@pytest.mark.parametrize("invert", [False, True])
def test_gamma_keeps_the_mean_and_std(invert):
    x = np.random.default_rng(1).normal(size=(17, 17, 17)).astype(np.float32)
    changed = 0.0
    for seed in range(5):
        y = gamma(x, np.random.default_rng(seed), invert=invert)
        assert abs(float(y.mean()) - float(x.mean())) < 1e-4
        assert abs(float(y.std()) - float(x.std())) < 1e-4
        changed = max(changed, float(np.abs(y - x).max()))
    assert changed > 0.05  # it is not the identity


def test_gamma_without_retain_stats_moves_them():
    x = np.random.default_rng(1).normal(size=(17, 17, 17)).astype(np.float32)
    y = gamma(x, np.random.default_rng(0), retain_stats=False)
    assert abs(float(y.mean()) - float(x.mean())) > 1e-3


def test_intensity_keeps_a_z_scored_patch_near_z_scored_under_gamma(monkeypatch):
    x = np.random.default_rng(2).normal(size=(1, 17, 17, 17)).astype(np.float32)
    x = (x - x.mean()) / x.std()

    class OnlyGamma:  # every draw says "apply" for the gamma steps only
        def __init__(self) -> None:
            self.rng = np.random.default_rng(0)
            self.calls = 0

        def random(self) -> float:
            self.calls += 1
            return 0.0 if self.calls >= 5 else 0.99

        def uniform(self, *a, **k):
            return self.rng.uniform(*a, **k)

    y = intensity(x, OnlyGamma())  # type: ignore[arg-type]
    assert abs(float(y.mean())) < 1e-4 and abs(float(y.std()) - 1) < 1e-4
    assert np.abs(y - x).max() > 0.05


@pytest.mark.parametrize("style", ["crop", "patch"])
def test_augmented_crops_are_seeded_and_keep_shapes_and_labels(style):
    rng = np.random.default_rng(0)
    image = rng.normal(size=(1, 30, 40, 30)).astype(np.float32)
    label = np.zeros((30, 40, 30), np.uint8)
    label[10:20, 10:30, 10:20] = 2
    for seed in range(8):
        a = augmented_crop(
            image, label, np.array([5, 6, 7]), [17, 25, 17], np.random.default_rng(seed), style
        )
        b = augmented_crop(
            image, label, np.array([5, 6, 7]), [17, 25, 17], np.random.default_rng(seed), style
        )
        assert a[0].shape == (1, 17, 25, 17) and a[0].dtype == np.float32
        assert a[1].shape == (17, 25, 17) and set(np.unique(a[1])) <= {0, 2}
        np.testing.assert_array_equal(a[0], b[0])
