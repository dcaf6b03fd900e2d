"""The network plan: patch size, levels, widths, batch size and group from the data.

Like nnU-Net's experiment planner, the plan is a function of the dataset *fingerprint*
(computed from the preprocessed cache, so at the plan's spacing):
- levels L: from the cube of the median case volume (capped at ``MAX_PATCH`` voxels per
  edge on CPU): pool until the bottom feature map is at most ``BOTTOM_MAX`` voxels (4-8);
- patch: for groups that turn axes into each other (octahedral, inplane), that cube,
  rounded to the nearest size k * 2^(L-1) + 1 so 90° symmetries stay exact. For the
  reflection groups (mirror, flips) each axis maps to itself, so the patch is the median
  shape (nnU-Net's choice), each axis rounded to the nearest k * 2^(L-1) + 1: on
  Hippocampus (median 35x50x36) 33x49x33 instead of 41^3, 23% fewer voxels and no
  padding across the short axes, with the long axis whole;
- channels: ``base`` feature maps at the top, doubled per level, capped at 8 * base;
  ``base`` is 16, halved for patches above 64³ voxels (compute budget, CPU first);
- batch size: the largest in [2, max_batch] whose estimated activation memory fits
  ``MEMORY_BUDGET_MB`` (nnU-Net's minimum is 2), at most 5% of the training cases' voxels;
- group: the label layout says whether the data has a canonical pose. If, across cases,
  each label's centroid sits in a consistent direction from the image centre (mean
  resultant length of the unit offsets > ``POSE_CONSISTENCY``), anatomy is in a fixed
  pose and only the left-right mirror is a physical symmetry (``mirror`` about the RAS
  x axis); otherwise (random poses) all 24 cube rotations are (``octahedral``).
  Anisotropic spacing keeps the preprocessing plan's ``inplane`` rotations.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

MAX_PATCH = 65
BOTTOM_MAX = 8
MEMORY_BUDGET_MB = 4096
POSE_CONSISTENCY = 0.5


@dataclass(frozen=True)
class Fingerprint:
    n_cases: int
    median_shape: tuple[int, int, int]  # voxels at the plan's spacing
    pose_consistency: float  # max over labels of the mean resultant length, 0..1


@dataclass(frozen=True)
class NetworkPlan:
    patch_size: tuple[int, int, int]
    levels: int
    channels: tuple[int, ...]
    batch_size: int
    group: str  # "mirror" | "octahedral" | "inplane"
    axis: int  # the mirrored axis (mirror) or the rotation axis (inplane)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"] = list(self.channels)
        d["patch_size"] = list(self.patch_size)
        return d

    def describe(self) -> str:
        return (
            f"patch {'x'.join(map(str, self.patch_size))}, {self.levels} levels, "
            f"channels {list(self.channels)}, "
            f"batch {self.batch_size}, group {self.group} (axis {self.axis})"
        )


def fingerprint(shapes: list[tuple[int, ...]], labels: list[np.ndarray]) -> Fingerprint:
    """From the cached cases: shapes (X, Y, Z) and label maps (X, Y, Z) uint8."""
    median = tuple(int(v) for v in np.median(np.array(shapes), axis=0))
    offsets: dict[int, list[np.ndarray]] = {}
    for label in labels:
        centre = (np.array(label.shape) - 1) / 2
        for value in np.unique(label):
            if value == 0:
                continue
            d = np.argwhere(label == value).mean(0) - centre
            norm = float(np.linalg.norm(d))
            if norm > 1e-6:
                offsets.setdefault(int(value), []).append(d / norm)
    consistency = max(
        (float(np.linalg.norm(np.mean(v, axis=0))) for v in offsets.values() if len(v) > 1),
        default=0.0,
    )
    return Fingerprint(len(shapes), median, consistency)  # type: ignore[arg-type]


def levels_for(patch: int) -> tuple[int, int]:
    """(levels, bottom size): pool odd sizes (n -> (n+1)/2) until the bottom is <= BOTTOM_MAX."""
    levels, n = 1, patch
    while n > BOTTOM_MAX and n % 2 == 1:
        n = (n + 1) // 2
        levels += 1
    return levels, n


def valid_patch(target: float) -> int:
    """The size nearest ``target`` that pools (odd at every pooled level) to <= BOTTOM_MAX."""
    best, best_err = 9, math.inf
    for n in range(9, MAX_PATCH + 1, 2):
        if levels_for(n)[1] <= BOTTOM_MAX and abs(n - target) < best_err:
            best, best_err = n, abs(n - target)
    return best


def axis_patch(median: int, levels: int) -> int:
    """The size k * 2^(levels-1) + 1 (k >= 1, at most MAX_PATCH) nearest ``median``."""
    stride = 2 ** (levels - 1)
    k_max = max(1, (MAX_PATCH - 1) // stride)
    return stride * int(np.clip(round((median - 1) / stride), 1, k_max)) + 1


def activation_mb(patch: tuple[int, ...], channels: list[int], convs: int = 2) -> float:
    """Rough training memory of one sample: each conv unit keeps ~4 maps (conv, norm, act, grad)."""
    total = 0.0
    for level, c in enumerate(channels):
        voxels = np.prod([math.ceil(n / 2**level) for n in patch])
        total += 2 * convs * 4 * c * voxels  # encoder and decoder
    return total * 4 / 2**20


def make_plan(
    fp: Fingerprint, rotations: str = "octahedral", through_axis: int = 2, max_batch: int = 2
) -> NetworkPlan:
    """``max_batch``: 2 on CPU, where training is compute-bound and more optimiser steps
    per second beat bigger batches; raise it on accelerators (nnU-Net uses 2-9)."""
    target = min(float(np.prod(fp.median_shape)) ** (1 / 3), MAX_PATCH)
    cube = valid_patch(target)
    levels = levels_for(cube)[0]
    if rotations == "inplane":
        group, axis = "inplane", through_axis
    elif fp.pose_consistency > POSE_CONSISTENCY:
        group, axis = "mirror", 0  # RAS x: left-right
    else:
        group, axis = "octahedral", 0
    patch: tuple[int, int, int] = (cube, cube, cube)
    if group == "mirror":
        patch = tuple(axis_patch(m, levels) for m in fp.median_shape)  # type: ignore[assignment]
    base = 16 if np.prod(patch) <= 64**3 else 8
    channels = tuple(min(base * 2**i, 8 * base) for i in range(levels))
    per_sample = activation_mb(patch, list(channels))
    fit = int(MEMORY_BUDGET_MB // max(per_sample, 1e-6))
    voxels_cap = int(0.05 * fp.n_cases * np.prod(fp.median_shape) / np.prod(patch))
    batch = int(np.clip(min(fit, voxels_cap), 2, max(max_batch, 2)))
    return NetworkPlan(patch, levels, channels, batch, group, axis)
