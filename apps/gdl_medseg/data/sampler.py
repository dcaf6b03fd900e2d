"""Patch sampling from memory-mapped cases, with nnU-Net's foreground oversampling.

A training item is a patch (C, P0, P1, P2) with its label (P0, P1, P2) (a cube when
``patch_size`` is one int). With probability
``foreground_fraction`` (nnU-Net: 33%) the patch is centred on a random foreground voxel
of a random present class; otherwise its position is uniform. Cases smaller than the
patch are zero-padded. Items are a pure function of (seed, epoch, index), so runs are
reproducible with any number of workers. ``patch_size`` should be a valid size for the
network (``layers.sizes.is_valid_size``) so that training sees exactly equivariant inputs.

``augment=True`` applies nnU-Net's spatial and intensity augmentation to training
patches (``augment.augmented_crop``; ``augment_style`` "crop" reads a rotated/zoomed
patch from the case itself, "patch" transforms the cropped patch with zero fill).
``centred=True`` (validation) gives one patch per case, centred on its foreground
centroid: on data whose cases fit in a patch (such as Hippocampus) that is the whole
structure, so validation Dice is a whole-case Dice.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from gdl_medseg.data.augment import AugmentStyle, augmented_crop, crop_padded
from gdl_medseg.data.cache import CachedCase
from gdl_medseg.layers.sizes import as_shape

__all__ = ["PatchDataset", "crop_padded"]  # crop_padded: also imported from here


class PatchDataset(Dataset):
    """``samples`` random patches per epoch drawn from ``cases``."""

    def __init__(
        self,
        cases: list[CachedCase],
        patch_size: int | Sequence[int],
        samples: int,
        foreground_fraction: float = 0.33,
        seed: int = 0,
        fixed: bool = False,
        augment: bool = False,
        centred: bool = False,
        augment_style: AugmentStyle = "crop",
    ) -> None:
        if not cases:
            raise ValueError("PatchDataset needs at least one case")
        self.cases = cases
        self.patch_size = as_shape(patch_size)
        self.samples = samples
        self.foreground_fraction = foreground_fraction
        self.seed = seed
        self.fixed = fixed  # validation: the same patches every epoch
        self.augment = augment
        self.centred = centred
        self.augment_style = augment_style
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.cases) if self.centred else self.samples

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        epoch = 0 if self.fixed else self.epoch
        rng = np.random.default_rng([self.seed, epoch, index])
        # Walk through the cases across epochs, so every case is used even when an epoch
        # draws fewer patches than there are cases.
        case = self.cases[(index + epoch * self.samples) % len(self.cases)]
        spatial = np.array(case.label.shape)
        p = np.array(self.patch_size)
        if self.centred:
            centre = (
                np.rint(case.foreground[:, 1:].mean(0)).astype(int)
                if len(case.foreground)
                else spatial // 2
            )
            start = centre - p // 2
        elif len(case.foreground) and rng.random() < self.foreground_fraction:
            classes = np.unique(case.foreground[:, 0])
            cls = rng.choice(classes)
            rows = case.foreground[case.foreground[:, 0] == cls]
            centre = rows[rng.integers(len(rows)), 1:]
            start = centre - p // 2
        else:
            start = np.array([rng.integers(0, max(n - q, 0) + 1) for n, q in zip(spatial, p)])
            start -= np.maximum(p - spatial, 0) // 2  # centre cases smaller than the patch
        if self.augment:
            image, label = augmented_crop(
                case.image, case.label, start, self.patch_size, rng, self.augment_style
            )
        else:
            image = crop_padded(case.image, start, self.patch_size)
            label = crop_padded(case.label, start, self.patch_size)
        return torch.from_numpy(image.astype(np.float32)), torch.from_numpy(label.astype(np.int64))
