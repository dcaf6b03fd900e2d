"""Preprocessing: reorient to RAS, resample to the plan's spacing, normalise intensities.

Unlike nnU-Net, which ignores the orientation stored in the image, we reorient every case
to RAS first (and record how, to undo it on prediction): 3D rotation equivariance is only
meaningful when voxel axes are anatomical axes with isotropic spacing.

The *plan* is computed once from the training cases:
- target spacing: the median spacing, made isotropic; when the median spacing is
  strongly anisotropic (ratio > ``ANISOTROPY_LIMIT``), in-plane axes are resampled to
  the in-plane median and the through-plane axis keeps its own spacing, and the only
  rotations that remain physical are those about the through-plane axis
  (``rotations="inplane"``);
- intensity normalisation per channel: CT -> clip to the foreground's 0.5/99.5
  percentiles, then a global z-score; any other modality -> a per-case z-score.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F

from gdl_medseg.data.layout import Volume, load_volume
from gdl_science.io import UserInputError

log = logging.getLogger(__name__)
ANISOTROPY_LIMIT = 3.0
RAS = np.array([[0, 1], [1, 1], [2, 1]], dtype=float)


@dataclass(frozen=True)
class Plan:
    """How every case is preprocessed; all fields primitive so a checkpoint can carry them."""

    target_spacing: tuple[float, float, float]  # mm, RAS axis order
    channel_norm: tuple[str, ...]  # "ct" or "zscore" per channel
    intensity_stats: tuple[float, ...]  # per channel (lo, hi, mean, std); used for "ct"
    rotations: str = "octahedral"  # "octahedral" or "inplane" (about the through-plane axis)

    def to_hparams(self) -> dict:
        return {
            "target_spacing": [float(s) for s in self.target_spacing],
            "channel_norm": list(self.channel_norm),
            "intensity_stats": [float(v) for v in self.intensity_stats],
            "rotations": self.rotations,
        }

    @classmethod
    def from_hparams(cls, h: dict) -> Plan:
        return cls(
            tuple(h["target_spacing"]),
            tuple(h["channel_norm"]),
            tuple(h["intensity_stats"]),
            h["rotations"],
        )


def ras_orientation(affine: np.ndarray) -> np.ndarray:
    """The orientation transform from the stored voxel axes to RAS (nibabel ornt array)."""
    return nib.orientations.io_orientation(affine)


def to_ras(data: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reorient (X, Y, Z) or (C, X, Y, Z) data to RAS; returns data and the RAS affine."""
    ornt = ras_orientation(affine)
    spatial = data.shape[-3:]
    lead = data.ndim - 3
    moved = np.moveaxis(data, list(range(lead)), list(range(-lead, 0))) if lead else data
    out = nib.orientations.apply_orientation(moved, ornt)
    if lead:
        out = np.moveaxis(out, list(range(-lead, 0)), list(range(lead)))
    new_affine = affine @ nib.orientations.inv_ornt_aff(ornt, spatial)
    return np.ascontiguousarray(out), new_affine


def from_ras(data: np.ndarray, original_affine: np.ndarray) -> np.ndarray:
    """Undo ``to_ras`` for (X, Y, Z) data: back to the original voxel order."""
    back = nib.orientations.ornt_transform(RAS, ras_orientation(original_affine))
    return np.ascontiguousarray(nib.orientations.apply_orientation(data, back))


def ras_spacing(volume: Volume) -> tuple[float, float, float]:
    """Voxel spacing along the RAS axes after reorientation."""
    ornt = ras_orientation(volume.affine)
    spacing = np.asarray(volume.spacing)
    out = np.empty(3)
    for stored_axis, (ras_axis, _) in enumerate(ornt):
        out[int(ras_axis)] = spacing[stored_axis]
    return tuple(float(v) for v in out)


def choose_spacing(spacings: np.ndarray) -> tuple[tuple[float, float, float], str]:
    """Target spacing and rotation set from per-case RAS spacings (N, 3)."""
    median = np.median(spacings, axis=0)
    if median.max() / median.min() > ANISOTROPY_LIMIT:
        through = int(np.argmax(median))
        inplane = float(np.median(np.delete(median, through)))
        target = [inplane] * 3
        target[through] = float(median[through])
        log.warning(
            "median spacing %s is anisotropic (ratio %.1f > %.1f): resampling in-plane only and "
            "using rotations about axis %d only",
            median.round(3).tolist(),
            median.max() / median.min(),
            ANISOTROPY_LIMIT,
            through,
        )
        return (target[0], target[1], target[2]), "inplane"
    iso = float(np.median(median))
    return (iso, iso, iso), "octahedral"


def target_shape(
    shape: tuple[int, ...], spacing: tuple[float, ...], target: tuple[float, ...]
) -> tuple[int, ...]:
    return tuple(max(1, round(n * s / t)) for n, s, t in zip(shape, spacing, target))


def resample(data: np.ndarray, shape: tuple[int, ...], is_label: bool = False) -> np.ndarray:
    """(C, X, Y, Z) -> (C, *shape): trilinear for intensities; for labels (integer maps)
    ``resample_labels`` per channel (linear per label, then argmax)."""
    if tuple(data.shape[-3:]) == tuple(shape):
        return data
    if is_label:
        return np.stack([resample_labels(c, shape) for c in data]).astype(data.dtype)
    x = torch.from_numpy(np.ascontiguousarray(data))[None]
    return F.interpolate(x.float(), size=shape, mode="trilinear", align_corners=False)[0].numpy()


def resample_labels(label: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """(X, Y, Z) integer labels -> (*shape) uint8 by nnU-Net's per-label interpolation:
    each label's indicator is resampled trilinearly (the image's grid convention) and
    each voxel takes the label with the largest value. Unlike nearest neighbour this
    keeps boundaries smooth and thin structures present when the grid gets coarser.
    Memory: two float32 volumes of ``shape`` (running best value, current label)."""
    values = [int(v) for v in np.unique(label)]
    if len(values) == 1:
        return np.full(shape, values[0], dtype=np.uint8)
    src = torch.from_numpy(np.ascontiguousarray(label))
    best = torch.full(tuple(shape), -1.0)
    out = torch.zeros(tuple(shape), dtype=torch.uint8)
    for v in values:
        indicator = (src == v).float()[None, None]
        up = F.interpolate(indicator, size=tuple(shape), mode="trilinear", align_corners=False)
        up = up[0, 0]
        better = up > best  # ties keep the smaller label (visited first)
        out[better] = v
        best = torch.where(better, up, best)
    return out.numpy()


def normalise(image: np.ndarray, plan: Plan) -> np.ndarray:
    """(C, X, Y, Z) -> float32, per channel as the plan says."""
    out = np.empty(image.shape, dtype=np.float32)
    for c, scheme in enumerate(plan.channel_norm):
        x = image[c].astype(np.float32)
        if scheme == "ct":
            lo, hi, mean, std = plan.intensity_stats[4 * c : 4 * c + 4]
            out[c] = (np.clip(x, lo, hi) - mean) / max(std, 1e-6)
        else:
            out[c] = (x - x.mean()) / max(float(x.std()), 1e-6)
    return out


def ct_statistics(foreground_samples: list[np.ndarray]) -> tuple[float, float, float, float]:
    """(lo, hi, mean, std) of clipped foreground intensities, nnU-Net's CT scheme."""
    values = np.concatenate(foreground_samples) if foreground_samples else np.zeros(1)
    lo, hi = np.percentile(values, [0.5, 99.5])
    clipped = np.clip(values, lo, hi)
    return float(lo), float(hi), float(clipped.mean()), float(clipped.std())


def preprocess_image(
    channels: list[Volume], plan: Plan
) -> tuple[np.ndarray, tuple[int, int, int], tuple[float, float, float]]:
    """Channels of one case -> normalised RAS image (C, X', Y', Z') at the plan's spacing.

    Also returns the RAS shape before resampling and the RAS spacing, to undo it.
    """
    stacked = np.stack([v.data for v in channels]).astype(np.float32, copy=False)
    ras, _ = to_ras(stacked, channels[0].affine)
    spacing = ras_spacing(channels[0])
    shape = target_shape(ras.shape[1:], spacing, plan.target_spacing)
    # Normalise before resampling: the z-score statistics are then those of the scan.
    image = resample(normalise(ras, plan), shape)
    return image.astype(np.float32), tuple(ras.shape[1:]), spacing


def preprocess_label(label: Volume, shape: tuple[int, ...]) -> np.ndarray:
    ras, _ = to_ras(label.data, label.affine)
    return resample(ras[None].astype(np.uint8), shape, is_label=True)[0]


def load_channels(files: Sequence[str | Path]) -> list[Volume]:
    """The channel files of one case, checked to share one grid and to be finite."""
    volumes = [load_volume(p) for p in files]
    ref = volumes[0]
    for path, vol in zip(files[1:], volumes[1:]):
        if vol.data.shape != ref.data.shape or not np.allclose(vol.affine, ref.affine, atol=1e-3):
            raise UserInputError(f"{path}: shape or affine differs from {files[0]}")
    for path, vol in zip(files, volumes):
        if not np.isfinite(vol.data).all():
            raise UserInputError(f"{path}: contains NaN or infinite intensities")
    return volumes


def background_mask(channels: list[Volume], below: float, shape: tuple[int, ...]) -> np.ndarray:
    """(X', Y', Z') bool on the preprocessed grid: voxels whose raw intensity is below
    ``below`` in every channel (e.g. air in CT), reoriented and resampled (per label)."""
    mask = np.logical_and.reduce([v.data < below for v in channels])
    ras, _ = to_ras(mask.astype(np.uint8), channels[0].affine)
    return resample(ras[None], shape, is_label=True)[0].astype(bool)


def load_and_preprocess(
    files: Sequence[str | Path], plan_hparams: dict[str, Any]
) -> tuple[np.ndarray, Volume, tuple[int, int, int]]:
    """Channel files -> (preprocessed image (C, X', Y', Z'), first channel Volume, RAS shape)."""
    volumes = load_channels(files)
    image, ras_shape, _ = preprocess_image(volumes, Plan.from_hparams(plan_hparams))
    return image, volumes[0], ras_shape
