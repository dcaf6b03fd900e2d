"""nnU-Net-style training augmentation of one patch, in numpy, from a seeded generator.

Spatial (each with probability 0.2, as nnU-Net): isotropic scaling in [0.85, 1.25] and
a small rotation (up to 15° about each axis), resampled about the patch centre
(trilinear image, nearest label, zeros outside). Continuous rotations are augmentation
only: the networks' exact symmetries are the grid groups of ``layers.groups``, and group
*elements* (mirrors, 90° turns) are left to the ``augment`` mode so that ``none`` and
``augment`` differ only by the group.

Intensity: Gaussian noise (p 0.1), Gaussian blur (p 0.2), multiplicative brightness
(p 0.15), contrast (p 0.15) and gamma (p 0.3, on intensities rescaled to [0, 1]).
Shapes: image (C, P, P, P) float32, label (P, P, P) integer.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def _rotation(angles: np.ndarray) -> np.ndarray:
    out = np.eye(3)
    for axis, a in enumerate(angles):
        c, s = np.cos(a), np.sin(a)
        i, j = [k for k in range(3) if k != axis]
        r = np.eye(3)
        r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
        out = r @ out
    return out


def spatial(
    image: np.ndarray, label: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    matrix = np.eye(3)
    if rng.random() < 0.2:
        matrix = matrix / rng.uniform(0.85, 1.25)
    if rng.random() < 0.2:
        matrix = _rotation(rng.uniform(-np.pi / 12, np.pi / 12, size=3)) @ matrix
    if np.allclose(matrix, np.eye(3)):
        return image, label
    centre = (np.array(label.shape) - 1) / 2
    offset = centre - matrix @ centre  # output voxel o reads input matrix @ o + offset
    image = np.stack(
        [ndimage.affine_transform(c, matrix, offset, order=1, cval=0.0) for c in image]
    ).astype(np.float32)
    label = ndimage.affine_transform(label, matrix, offset, order=0, cval=0)
    return image, label


def intensity(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
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
    if rng.random() < 0.3:
        gamma = rng.uniform(0.7, 1.5)
        for c in range(len(image)):
            lo, hi = image[c].min(), image[c].max()
            span = max(float(hi - lo), 1e-6)
            image[c] = ((image[c] - lo) / span) ** gamma * span + lo
    return image.astype(np.float32)


def augment_patch(
    image: np.ndarray, label: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    image, label = spatial(image, label, rng)
    return intensity(image, rng), label
