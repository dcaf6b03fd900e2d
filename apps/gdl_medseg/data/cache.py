"""The preprocessed cache: each case once through ``preprocess``, then memory-mapped.

Layout of one cache (a folder named by a hash of the dataset's files and the options):
    plan.json                 the Plan (spacing, normalisation, rotations)
    cases.json                case ids with their RAS shape and spacing
    {case}_image.npy          (C, X, Y, Z) float32, normalised, at the plan's spacing
    {case}_label.npy          (X, Y, Z) uint8
    {case}_fg.npy             (N, 4) int32 rows (class, x, y, z): sampled foreground voxels
The folder is built under a temporary name and renamed when complete, so an interrupted
run never leaves a half-written cache that a later run would trust.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

from gdl_medseg.data.layout import Case, DatasetSpec, load_volume
from gdl_medseg.data.preprocess import (
    Plan,
    choose_spacing,
    ct_statistics,
    preprocess_image,
    preprocess_label,
    ras_orientation,
)
from gdl_science.io import progress

FOREGROUND_SAMPLES_PER_CLASS = 2000
CACHE_VERSION = 2  # 2: labels resampled per label (linear + argmax), not nearest


def default_cache_root() -> Path:
    return Path(os.environ.get("GDL_CACHE_DIR", Path.home() / ".cache" / "gdl-science")) / "medseg"


def _fingerprint(root: Path, cases: list[Case], extra: str) -> str:
    h = hashlib.sha256(f"v{CACHE_VERSION}|{root.resolve()}|{extra}".encode())
    for case in cases:
        for path in [*case.images, case.label]:
            if path is not None:
                st = path.stat()
                h.update(f"{path.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def compute_plan(spec: DatasetSpec, cases: list[Case]) -> Plan:
    """The plan from headers (spacing) and, for CT channels, foreground intensities."""
    spacings = []
    for case in cases:
        img = nib.load(str(case.images[0]))
        zooms = np.sqrt((img.affine[:3, :3] ** 2).sum(0))
        ornt = ras_orientation(img.affine)
        ras = np.empty(3)
        for stored, (axis, _) in enumerate(ornt):
            ras[int(axis)] = zooms[stored]
        spacings.append(ras)
    target, rotations = choose_spacing(np.array(spacings))
    norms = tuple("ct" if name.strip().upper() == "CT" else "zscore" for name in spec.channel_names)
    stats: list[float] = []
    rng = np.random.default_rng(0)
    for c, scheme in enumerate(norms):
        if scheme != "ct":
            stats += [0.0, 0.0, 0.0, 1.0]
            continue
        samples = []
        for case in cases:
            image = load_volume(case.images[c], case.id).data
            label = load_volume(case.label, case.id, np.uint8).data if case.label else None
            fg = image[label > 0] if label is not None else image.ravel()
            samples.append(
                rng.choice(fg, size=min(len(fg), 10000), replace=False) if len(fg) else fg
            )
        stats += list(ct_statistics(samples))
    return Plan(target, norms, tuple(stats), rotations)


@dataclass
class CachedCase:
    id: str
    image: np.ndarray  # memory-mapped (C, X, Y, Z)
    label: np.ndarray  # memory-mapped (X, Y, Z)
    foreground: np.ndarray  # (N, 4) (class, x, y, z)


class PreprocessedDataset:
    """An opened cache: the plan and memory-mapped cases."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.plan = Plan.from_hparams(json.loads((folder / "plan.json").read_text()))
        self.case_info = json.loads((folder / "cases.json").read_text())
        self.case_ids = [c["id"] for c in self.case_info]

    def case(self, case_id: str) -> CachedCase:
        f = self.folder
        return CachedCase(
            case_id,
            np.load(f / f"{case_id}_image.npy", mmap_mode="r"),
            np.load(f / f"{case_id}_label.npy", mmap_mode="r"),
            np.load(f / f"{case_id}_fg.npy"),
        )


def build_cache(
    root: str | Path, spec: DatasetSpec, cases: list[Case], cache_root: str | Path | None = None
) -> PreprocessedDataset:
    """Preprocess ``cases`` into the cache (or reuse a complete one) and open it."""
    root = Path(root)
    cache_root = Path(cache_root) if cache_root else default_cache_root()
    key = _fingerprint(root, cases, json.dumps([spec.channel_names, spec.labels]))
    folder = cache_root / f"{root.name}-{key}"
    if (folder / "cases.json").is_file():
        return PreprocessedDataset(folder)
    cache_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=cache_root))
    try:
        plan = compute_plan(spec, cases)
        (tmp / "plan.json").write_text(json.dumps(plan.to_hparams()))
        info = []
        rng = np.random.default_rng(0)
        for case in progress(cases, total=len(cases), desc="preprocess", unit="case"):
            channels = [load_volume(p, case.id) for p in case.images]
            image, ras_shape, spacing = preprocess_image(channels, plan)
            label = preprocess_label(load_volume(case.label, case.id, np.uint8), image.shape[1:])
            np.save(tmp / f"{case.id}_image.npy", image)
            np.save(tmp / f"{case.id}_label.npy", label)
            np.save(tmp / f"{case.id}_fg.npy", _sample_foreground(label, rng))
            info.append({"id": case.id, "ras_shape": list(ras_shape), "spacing": list(spacing)})
        (tmp / "cases.json").write_text(json.dumps(info))
        try:
            os.replace(tmp, folder)
        except OSError:  # another process finished the same cache first
            if not (folder / "cases.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return PreprocessedDataset(folder)


def _sample_foreground(label: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    rows = []
    for cls in np.unique(label):
        if cls == 0:
            continue
        coords = np.argwhere(label == cls)
        take = rng.choice(
            len(coords), size=min(len(coords), FOREGROUND_SAMPLES_PER_CLASS), replace=False
        )
        rows.append(np.concatenate([np.full((len(take), 1), cls), coords[take]], axis=1))
    return np.concatenate(rows).astype(np.int32) if rows else np.zeros((0, 4), dtype=np.int32)
