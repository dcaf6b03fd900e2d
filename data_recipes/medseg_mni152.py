"""Real anatomy for a sanity check: the MNI152 2009 T1 template as a tissue-segmentation task.

nilearn's wheel ships the template (197×233×189 at 1 mm) with grey- and white-matter
probability maps. We take the files without importing nilearn (it needs scikit-learn,
which breaks escnn; DESIGN.md section 7): ``importlib.util.find_spec`` locates the
package folder and we read ``nilearn/datasets/data/mni_icbm152_*_09a_converted.nii.gz``.
Install them with ``pip install --no-deps nilearn``.

Labels: 0 background, 1 grey matter, 2 white matter (the more probable tissue where its
probability exceeds 0.5). One subject cannot make a training set of independent cases,
so the cases are *realisations* of it: resampled to ``--spacing`` mm, each with its own
smooth bias field and noise and its own stored orientation (RAS, LPS, or axes permuted).
That tests the pipeline on real anatomy and real orientation handling; it is not a
benchmark of generalisation across subjects.

    python -m data_recipes.medseg_mni152 OUT_DIR [--cases 4] [--spacing 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage

FILES = {
    "t1": "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz",
    "gm": "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz",
    "wm": "mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz",
}
LABELS = {"background": 0, "grey_matter": 1, "white_matter": 2}


def nilearn_data_dir() -> Path:
    """nilearn's bundled data folder, found without importing nilearn."""
    spec = importlib.util.find_spec("nilearn")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("nilearn is not installed: pip install --no-deps nilearn")
    folder = Path(spec.origin).parent / "datasets" / "data"
    missing = [name for name in FILES.values() if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder}: missing {missing}")
    return folder


def _resample(volume: np.ndarray, factor: float, order: int) -> np.ndarray:
    return ndimage.zoom(volume, 1.0 / factor, order=order, prefilter=False)


def _orient(image: np.ndarray, label: np.ndarray, affine: np.ndarray, kind: int):
    """Store the case in another voxel order; the affine keeps the same world geometry."""
    if kind == 0:
        return image, label, affine
    if kind == 1:  # LPS: flip x and y
        n = np.array(image.shape)
        flip = np.diag([-1.0, -1.0, 1.0, 1.0])
        flip[:2, 3] = n[:2] - 1
        return image[::-1, ::-1].copy(), label[::-1, ::-1].copy(), affine @ flip
    # axes permuted (z, x, y): voxel (k, i, j) of the new array is voxel (i, j, k)
    perm = np.zeros((4, 4))
    perm[0, 1] = perm[1, 2] = perm[2, 0] = perm[3, 3] = 1
    return (
        np.ascontiguousarray(image.transpose(2, 0, 1)),
        np.ascontiguousarray(label.transpose(2, 0, 1)),
        affine @ perm,
    )


def write_dataset(out_dir: str | Path, cases: int = 4, spacing: float = 3.0, seed: int = 0) -> Path:
    folder = nilearn_data_dir()
    t1_img = nib.load(folder / FILES["t1"])
    zooms = np.asarray(t1_img.header.get_zooms()[:3], dtype=float)
    factor = spacing / float(zooms[0])
    t1 = _resample(np.asarray(t1_img.dataobj, dtype=np.float32), factor, 1)
    gm = _resample(np.asarray(nib.load(folder / FILES["gm"]).dataobj, dtype=np.float32), factor, 1)
    wm = _resample(np.asarray(nib.load(folder / FILES["wm"]).dataobj, dtype=np.float32), factor, 1)
    label = np.zeros(t1.shape, np.uint8)
    label[(gm > 0.5) & (gm >= wm)] = 1
    label[(wm > 0.5) & (wm > gm)] = 2
    affine = t1_img.affine.copy()
    affine[:3, :3] *= factor
    out = Path(out_dir)
    (out / "imagesTr").mkdir(parents=True, exist_ok=True)
    (out / "labelsTr").mkdir(parents=True, exist_ok=True)
    coords = np.stack(np.meshgrid(*[np.linspace(-1, 1, n) for n in t1.shape], indexing="ij"))
    for i in range(cases):
        rng = np.random.default_rng([seed, i])
        bias = np.exp(np.einsum("i...,i->...", coords, rng.normal(scale=0.1, size=3)))
        noisy = t1 * bias + rng.normal(scale=0.03 * float(t1.max()), size=t1.shape)
        image, lab, aff = _orient(noisy.astype(np.float32), label, affine, i % 3)
        nib.save(nib.Nifti1Image(image, aff), out / "imagesTr" / f"mni152_{i:03d}_0000.nii.gz")
        nib.save(nib.Nifti1Image(lab, aff), out / "labelsTr" / f"mni152_{i:03d}.nii.gz")
    meta = {
        "name": "MNI152 2009 tissue (nilearn)",
        "description": "realisations of one template; a pipeline sanity check, not a benchmark",
        "channel_names": {"0": "T1"},
        "labels": LABELS,
        "numTraining": cases,
        "file_ending": ".nii.gz",
    }
    (out / "dataset.json").write_text(json.dumps(meta, indent=2))
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out_dir")
    p.add_argument("--cases", type=int, default=4)
    p.add_argument("--spacing", type=float, default=3.0)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    print(write_dataset(a.out_dir, a.cases, a.spacing, a.seed))


if __name__ == "__main__":
    main()
