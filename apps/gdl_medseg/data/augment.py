"""nnU-Net-style training augmentation of one patch, in numpy, from a seeded generator.

Spatial (each with probability 0.2, as nnU-Net): isotropic scaling in [0.85, 1.25] and
a small rotation (up to 15° about each axis), about the patch centre (trilinear image,
nearest label). Continuous rotations are augmentation only: the networks' exact
symmetries are the grid groups of ``layers.groups``, and group *elements* (mirrors, 90°
turns) are left to the ``augment`` mode so that ``none`` and ``augment`` differ only by
the group.

Two styles (``AugmentStyle``):
- ``crop`` (default, nnU-Net's): the transform is drawn first, the *case* region that the
  transformed patch reads from is cropped (a box a little larger than the patch), and
  the patch is resampled from it. Real anatomy fills the corners of a rotated or
  zoomed-out patch; zeros appear only where the case itself ends (as for an unaugmented
  patch at the case border).
- ``patch`` (before 2026-12): the already-cropped patch is rotated/zoomed with zeros
  outside it, so the corners of a rotated patch are fake background; its gamma does not
  restore the statistics. Kept for the A/B benchmark (``benchmarks/medseg_augment_ab.py``).

Intensity: Gaussian noise (p 0.1), Gaussian blur (p 0.2), multiplicative brightness
(p 0.15), contrast (p 0.15), then gamma on intensities rescaled to [0, 1]: the inverted
variant (gamma of the negated image, p 0.1) and the plain one (p 0.3), each restoring the
patch's mean and std afterwards (nnU-Net's ``retain_stats``; z-scored inputs stay
z-scored). Shapes: image (C, P0, P1, P2) float32, label (P0, P1, P2) integer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy import ndimage

from gdl_medseg.layers.sizes import as_shape

AugmentStyle = Literal["crop", "patch"]


def crop_padded(array: np.ndarray, start: np.ndarray, size: int | Sequence[int]) -> np.ndarray:
    """array[..., s0:s0+P0, s1:s1+P1, s2:s2+P2] with zeros where the window leaves the array."""
    shape = as_shape(size)
    spatial = np.array(array.shape[-3:])
    start = np.asarray(start, dtype=int)
    lo = np.maximum(start, 0)
    hi = np.maximum(np.minimum(start + np.array(shape), spatial), lo)
    out = np.zeros((*array.shape[:-3], *shape), dtype=array.dtype)
    src = tuple(slice(a, b) for a, b in zip(lo, hi))
    dst = tuple(slice(a - s, b - s) for a, b, s in zip(lo, hi, start))
    out[(..., *dst)] = array[(..., *src)]
    return out


def _rotation(angles: np.ndarray) -> np.ndarray:
    out = np.eye(3)
    for axis, a in enumerate(angles):
        c, s = np.cos(a), np.sin(a)
        i, j = [k for k in range(3) if k != axis]
        r = np.eye(3)
        r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
        out = r @ out
    return out


def sample_matrix(rng: np.random.Generator) -> np.ndarray | None:
    """The 3x3 map from output to input voxel offsets (about the patch centre), or None."""
    matrix = np.eye(3)
    if rng.random() < 0.2:
        matrix = matrix / rng.uniform(0.85, 1.25)
    if rng.random() < 0.2:
        matrix = _rotation(rng.uniform(-np.pi / 12, np.pi / 12, size=3)) @ matrix
    return None if np.allclose(matrix, np.eye(3)) else matrix


def transformed_crop(
    image: np.ndarray,
    label: np.ndarray,
    start: np.ndarray,
    size: int | Sequence[int],
    matrix: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The patch at ``start`` of a case (image (C, X, Y, Z), label (X, Y, Z)), transformed
    by ``matrix`` about the patch centre, read from the case itself (crop before rotate).

    Output voxel o reads case position start + c + M (o - c), c the patch centre. The
    box spanned by the 8 transformed patch corners (+1 voxel for trilinear reads) is
    cropped (zero-padded only beyond the case) and resampled to the patch."""
    shape = np.array(as_shape(size))
    if matrix is None:
        return (
            crop_padded(image, start, shape).astype(np.float32),
            crop_padded(label, start, shape),
        )
    centre = (shape - 1) / 2
    corners = np.array(np.meshgrid(*[[0, n - 1] for n in shape], indexing="ij")).reshape(3, -1)
    reads = matrix @ (corners - centre[:, None]) + (np.asarray(start) + centre)[:, None]
    lo = np.floor(reads.min(1)).astype(int) - 1
    hi = np.ceil(reads.max(1)).astype(int) + 2
    box_image = crop_padded(image, lo, hi - lo).astype(np.float32)
    box_label = crop_padded(label, lo, hi - lo)
    offset = np.asarray(start) + centre - matrix @ centre - lo
    out = tuple(int(n) for n in shape)
    image_out = np.stack(
        [
            ndimage.affine_transform(c, matrix, offset, output_shape=out, order=1, cval=0.0)
            for c in box_image
        ]
    ).astype(np.float32)
    label_out = ndimage.affine_transform(box_label, matrix, offset, output_shape=out, order=0)
    return image_out, label_out


def spatial(
    image: np.ndarray, label: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The ``patch`` style: transform the cropped patch itself, zeros outside it."""
    matrix = sample_matrix(rng)
    if matrix is None:
        return image, label
    centre = (np.array(label.shape) - 1) / 2
    offset = centre - matrix @ centre  # output voxel o reads input matrix @ o + offset
    image = np.stack(
        [ndimage.affine_transform(c, matrix, offset, order=1, cval=0.0) for c in image]
    ).astype(np.float32)
    label = ndimage.affine_transform(label, matrix, offset, order=0, cval=0)
    return image, label


def gamma(
    x: np.ndarray, rng: np.random.Generator, invert: bool = False, retain_stats: bool = True
) -> np.ndarray:
    """nnU-Net's gamma on one channel (X, Y, Z): x rescaled to [0, 1], raised to gamma
    (half the time in [0.7, 1), else in [1, 1.5]), scaled back; ``invert`` applies it to
    -x (brightens dark structures instead); ``retain_stats`` restores mean and std."""
    x = -x if invert else x
    mean, std = float(x.mean()), float(x.std())
    g = rng.uniform(0.7, 1.0) if rng.random() < 0.5 else rng.uniform(1.0, 1.5)
    lo = float(x.min())
    span = max(float(x.max()) - lo, 1e-6)
    x = ((x - lo) / span) ** g * span + lo
    if retain_stats:
        x = (x - x.mean()) / (float(x.std()) + 1e-8) * std + mean
    return (-x if invert else x).astype(np.float32)


def intensity(
    image: np.ndarray, rng: np.random.Generator, style: AugmentStyle = "crop"
) -> np.ndarray:
    image = image.copy()
    if rng.random() < 0.1:
        image += rng.normal(0.0, np.sqrt(rng.uniform(0, 0.1)), size=image.shape).astype(np.float32)
    if rng.random() < 0.2:
        sigma = rng.uniform(0.5, 1.0)
        image = np.stack([ndimage.gaussian_filter(c, sigma) for c in image])
    if rng.random() < 0.15:
        image *= rng.uniform(0.75, 1.25)
    if rng.random() < 0.15:
        for c in range(len(image)):
            mean, lo, hi = image[c].mean(), image[c].min(), image[c].max()
            image[c] = np.clip((image[c] - mean) * rng.uniform(0.75, 1.25) + mean, lo, hi)
    if style == "patch":  # the old gamma: p 0.3, gamma in [0.7, 1.5], statistics not kept
        if rng.random() < 0.3:
            g = rng.uniform(0.7, 1.5)
            for c in range(len(image)):
                lo, hi = image[c].min(), image[c].max()
                span = max(float(hi - lo), 1e-6)
                image[c] = ((image[c] - lo) / span) ** g * span + lo
        return image.astype(np.float32)
    for p, invert in ((0.1, True), (0.3, False)):
        if rng.random() < p:
            image = np.stack([gamma(c, rng, invert) for c in image])
    return image.astype(np.float32)


def augment_patch(
    image: np.ndarray, label: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The ``patch`` style on an already-cropped patch."""
    image, label = spatial(image, label, rng)
    return intensity(image, rng, "patch"), label


def augmented_crop(
    image: np.ndarray,
    label: np.ndarray,
    start: np.ndarray,
    size: int | Sequence[int],
    rng: np.random.Generator,
    style: AugmentStyle = "crop",
) -> tuple[np.ndarray, np.ndarray]:
    """One augmented training patch of a case (image (C, X, Y, Z), label (X, Y, Z))."""
    if style == "patch":
        patch = crop_padded(image, start, size).astype(np.float32)
        return augment_patch(patch, crop_padded(label, start, size), rng)
    patch, patch_label = transformed_crop(image, label, start, size, sample_matrix(rng))
    return intensity(patch, rng, style), patch_label
