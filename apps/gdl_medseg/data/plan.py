"""The network plan: patch size, levels, widths, batch size and group from the data.

Like nnU-Net's experiment planner, the plan is a function of the dataset *fingerprint*
(computed from the preprocessed cache, so at the plan's spacing):
- patch: a cube whose volume is about the median case volume (nnU-Net: the median
  shape, shrunk to its memory budget), capped at ``MAX_PATCH`` voxels per edge on CPU,
  and rounded to the nearest size k * 2^(L-1) + 1 so 90° symmetries stay exact;
- levels L: pool until the bottom feature map is at most ``BOTTOM_MAX`` voxels (4-8);
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
    patch_size: int
    levels: int
    channels: tuple[int, ...]
    batch_size: int
    group: str  # "mirror" | "octahedral" | "inplane"
    axis: int  # the mirrored axis (mirror) or the rotation axis (inplane)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d

    def describe(self) -> str:
        return (
            f"patch {self.patch_size}^3, {self.levels} levels, channels {list(self.channels)}, "
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


def activation_mb(patch: int, channels: list[int], convs: int = 2) -> float:
    """Rough training memory of one sample: each conv unit keeps ~4 maps (conv, norm, act, grad)."""
    total = 0.0
    for level, c in enumerate(channels):
        n = math.ceil(patch / 2**level)
        total += 2 * convs * 4 * c * n**3  # encoder and decoder
    return total * 4 / 2**20


def make_plan(
    fp: Fingerprint, rotations: str = "octahedral", through_axis: int = 2, max_batch: int = 2
) -> NetworkPlan:
    """``max_batch``: 2 on CPU, where training is compute-bound and more optimiser steps
    per second beat bigger batches; raise it on accelerators (nnU-Net uses 2-9)."""
    target = min(float(np.prod(fp.median_shape)) ** (1 / 3), MAX_PATCH)
    patch = valid_patch(target)
    levels = levels_for(patch)[0]
    base = 16 if patch <= 64 else 8
    channels = tuple(min(base * 2**i, 8 * base) for i in range(levels))
    per_sample = activation_mb(patch, list(channels))
    fit = int(MEMORY_BUDGET_MB // max(per_sample, 1e-6))
    voxels_cap = int(0.05 * fp.n_cases * np.prod(fp.median_shape) / patch**3)
    batch = int(np.clip(min(fit, voxels_cap), 2, max(max_batch, 2)))
    if rotations == "inplane":
        group, axis = "inplane", through_axis
    elif fp.pose_consistency > POSE_CONSISTENCY:
        group, axis = "mirror", 0  # RAS x: left-right
    else:
        group, axis = "octahedral", 0
    return NetworkPlan(patch, levels, channels, batch, group, axis)
