"""Synthetic 3D phantoms in the nnU-Net raw layout: gdl-medseg's embedded default data.

Each case is an MR-like volume with three labelled structures whose *shape*, not their
brightness, tells them apart: a rod (1) and a disc (2) of the same intensity, and a
dimmer ball (3). Realistic nuisances: Rician-like noise, a smooth multiplicative bias
field, a soft tissue background, and affines that are not all RAS (some cases are
stored with flipped/permuted axes, as scanners do), so reorientation is exercised.

``pose="random"`` puts every structure at a random 3D pose; ``pose="canonical"`` keeps
rods along the superior axis and discs in the axial plane: a plain CNN can then learn
the pose as a shortcut, which the rotation-robustness benchmark exposes.
``anisotropic=True`` stores 4× thicker slices along the last axis (1 × 1 × 4 mm).

    python -m data_recipes.medseg_phantoms OUT_DIR [--cases 12] [--size 48] [--pose random]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

LABELS = {"background": 0, "rod": 1, "disc": 2, "ball": 3}
CHANNELS = {"0": "MR"}


@dataclass(frozen=True)
class PhantomConfig:
    cases: int = 12  # number of training cases written to imagesTr/labelsTr
    size: int = 48  # voxels per axis at 1 mm (the anisotropic option has size/4 slices)
    pose: str = "random"  # "random" or "canonical" structure orientations
    anisotropic: bool = False  # 1 x 1 x 4 mm voxels instead of 1 mm isotropic
    noise: float = 0.08  # noise standard deviation relative to the structure intensity
    seed: int = 0
    structure_scale: float | None = None  # structure size factor; None: size / 48


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q = rng.normal(size=4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def _structure_masks(
    coords: np.ndarray, extent: float, pose: str, rng: np.random.Generator, scale: float
) -> list[tuple[int, np.ndarray]]:
    """(label, boolean mask) pairs; coords (3, X, Y, Z) in mm centred on the volume."""
    out = []
    placed: list[np.ndarray] = []
    for label in (1, 2, 3):
        for _ in range(50):  # rejection-sample centres that keep structures apart
            centre = rng.uniform(-0.45 * extent, 0.45 * extent, size=3)
            if all(np.linalg.norm(centre - c) > 0.45 * extent for c in placed):
                break
        placed.append(centre)
        rot = _rotation(rng) if pose == "random" else np.eye(3)
        local = np.einsum("ij,j...->i...", rot.T, coords - centre[:, None, None, None])
        if label == 1:  # rod: long along local z
            radii = np.array([3.2, 3.2, 11.0]) * scale
        elif label == 2:  # disc: flat in local xy
            radii = np.array([8.5, 8.5, 2.8]) * scale
        else:  # ball
            radii = np.array([6.0, 6.0, 6.0]) * scale
        radii = radii * rng.uniform(0.85, 1.15)
        mask = (np.einsum("i...,i->...", local**2, 1 / radii**2)) <= 1.0
        out.append((label, mask))
    return out


def make_case(config: PhantomConfig, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One case: image (X, Y, Z) float32, label (X, Y, Z) uint8 and its 4×4 affine."""
    rng = np.random.default_rng([config.seed, index])
    spacing = np.array([1.0, 1.0, 4.0 if config.anisotropic else 1.0])
    shape = (config.size, config.size, config.size // 4 if config.anisotropic else config.size)
    axes = [(np.arange(n) - (n - 1) / 2) * s for n, s in zip(shape, spacing)]
    coords = np.stack(np.meshgrid(*axes, indexing="ij"))
    extent = float(config.size)

    label = np.zeros(shape, dtype=np.uint8)
    scale = config.structure_scale or extent / 48.0
    for value, mask in _structure_masks(coords, extent, config.pose, rng, scale):
        label[mask] = value
    intensity = {0: 0.25, 1: 1.0, 2: 1.0, 3: 0.65}
    image = np.vectorize(intensity.get)(label).astype(np.float64)
    # Soft background tissue: a large ellipsoid body slightly brighter than air.
    body = np.einsum("i...,i->...", coords**2, 1 / (0.55 * extent * np.array([1.0, 0.9, 1.1])) ** 2)
    image += 0.15 * (body <= 1.0)
    # Multiplicative bias field: a random low-order polynomial, +-20%.
    c = coords / extent
    coef = rng.normal(scale=0.15, size=4)
    image *= np.exp(coef[0] * c[0] + coef[1] * c[1] + coef[2] * c[2] + coef[3] * c[0] * c[1])
    # Rician-like noise: magnitude of a complex Gaussian signal.
    noise = rng.normal(scale=config.noise, size=(2, *shape))
    image = np.sqrt((image + noise[0]) ** 2 + noise[1] ** 2)

    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = -(np.array(shape) - 1) / 2 * spacing
    image, label, affine = _store_orientation(image, label, affine, index)
    return image.astype(np.float32), label, affine


def _store_orientation(
    image: np.ndarray, label: np.ndarray, affine: np.ndarray, index: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Store every third case LPS-like (x and y axes flipped): same anatomy in world space."""
    if index % 3 != 1:
        return image, label, affine
    flip = np.diag([-1.0, -1.0, 1.0, 1.0])
    shape = np.array(image.shape)
    # Voxel i along a flipped axis is voxel n-1-i of the original.
    shift = np.eye(4)
    shift[:2, 3] = shape[:2] - 1
    return image[::-1, ::-1].copy(), label[::-1, ::-1].copy(), affine @ shift @ flip


def write_dataset(out_dir: str | Path, config: PhantomConfig = PhantomConfig()) -> Path:
    """Write imagesTr/, labelsTr/ and dataset.json; returns the dataset folder."""
    out = Path(out_dir)
    (out / "imagesTr").mkdir(parents=True, exist_ok=True)
    (out / "labelsTr").mkdir(parents=True, exist_ok=True)
    for i in range(config.cases):
        image, label, affine = make_case(config, i)
        case = f"phantom_{i:03d}"
        nib.save(nib.Nifti1Image(image, affine), out / "imagesTr" / f"{case}_0000.nii.gz")
        nib.save(nib.Nifti1Image(label, affine), out / "labelsTr" / f"{case}.nii.gz")
    meta = {
        "name": "gdl-medseg phantoms",
        "description": f"synthetic phantoms, pose={config.pose}, anisotropic={config.anisotropic}",
        "channel_names": CHANNELS,
        "labels": LABELS,
        "numTraining": config.cases,
        "file_ending": ".nii.gz",
    }
    # dataset.json last: its presence marks a complete dataset.
    (out / "dataset.json").write_text(json.dumps(meta, indent=2))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--cases", type=int, default=PhantomConfig.cases)
    parser.add_argument("--size", type=int, default=PhantomConfig.size)
    parser.add_argument("--pose", choices=("random", "canonical"), default=PhantomConfig.pose)
    parser.add_argument("--anisotropic", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    a = parser.parse_args(argv)
    config = PhantomConfig(a.cases, a.size, a.pose, a.anisotropic, seed=a.seed)
    print(write_dataset(a.out_dir, config))


if __name__ == "__main__":
    main()
