"""Medical Segmentation Decathlon (MSD) tasks -> the nnU-Net raw layout gdl-medseg reads.

Downloads a task archive from the public AWS mirror of the Decathlon that MONAI uses
(http://medicaldecathlon.com, CC-BY-SA 4.0), extracts it safely and converts it:
- MSD images are one file per case, 4D (X, Y, Z, modality) for multi-modal tasks
  (BrainTumour, Prostate); we split them into ``{case}_{XXXX}.nii.gz`` channel files;
- dataset.json's ``modality`` {"0": "FLAIR", ...} becomes ``channel_names`` and
  ``labels`` {"0": "background", ...} is inverted to name -> value;
- macOS resource forks shipped inside the archives (``._spleen_2.nii.gz``) are skipped.

    python -m data_recipes.medseg_msd Task09_Spleen OUT_DIR [--archive TASK.tar]
``--archive`` converts an archive already on disk (offline); without it the archive is
downloaded to ``OUT_DIR/../downloads`` (resumed if present).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path

import nibabel as nib
import numpy as np

MIRROR = "https://msd-for-monai.s3-us-west-2.amazonaws.com"
TASKS = (
    "Task01_BrainTumour",
    "Task02_Heart",
    "Task03_Liver",
    "Task04_Hippocampus",
    "Task05_Prostate",
    "Task06_Lung",
    "Task07_Pancreas",
    "Task08_HepaticVessel",
    "Task09_Spleen",
    "Task10_Colon",
)


def task_url(task: str) -> str:
    if task not in TASKS:
        raise ValueError(f"unknown MSD task {task!r}; one of {', '.join(TASKS)}")
    return f"{MIRROR}/{task}.tar"


def download(url: str, target: Path) -> Path:
    """Download to ``target`` via a .part file, renamed when complete."""
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    with urllib.request.urlopen(url, timeout=60) as response, open(part, "wb") as fh:
        total = int(response.headers.get("Content-Length", 0))
        done = 0
        while chunk := response.read(1 << 20):
            fh.write(chunk)
            done += len(chunk)
            if total:
                print(f"\r{target.name}: {done / total:.0%}", end="", file=sys.stderr)
    print(file=sys.stderr)
    part.replace(target)
    return target


def safe_extract(archive: Path, dest: Path) -> Path:
    """Extract a tar, refusing members that would land outside ``dest``; returns the task folder."""
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    with tarfile.open(archive) as tar:
        members = []
        for m in tar.getmembers():
            target = (dest / m.name).resolve()
            if root not in target.parents and target != root:
                raise ValueError(f"{archive}: member {m.name!r} escapes the extraction folder")
            if m.issym() or m.islnk():
                continue
            members.append(m)
        tar.extractall(dest, members=members)
    tops = {Path(m.name).parts[0] for m in members if Path(m.name).parts}
    tasks = [dest / t for t in sorted(tops) if (dest / t / "dataset.json").is_file()]
    if len(tasks) != 1:
        raise ValueError(f"{archive}: expected one task folder with dataset.json, found {tops}")
    return tasks[0]


def convert(task_dir: Path, out_dir: Path) -> Path:
    """An extracted MSD task folder -> nnU-Net raw layout in ``out_dir``."""
    meta = json.loads((task_dir / "dataset.json").read_text())
    modality = {str(k): str(v) for k, v in meta["modality"].items()}
    labels = {str(name): int(value) for value, name in meta["labels"].items()}
    out = Path(out_dir)
    (out / "imagesTr").mkdir(parents=True, exist_ok=True)
    (out / "labelsTr").mkdir(parents=True, exist_ok=True)
    count = 0
    for entry in meta["training"]:
        image_path = task_dir / entry["image"]
        label_path = task_dir / entry["label"]
        if image_path.name.startswith("._"):
            continue
        case = image_path.name.split(".nii")[0]
        img = nib.load(image_path)
        if len(img.shape) == 4:
            data = np.asarray(img.dataobj)
            if data.shape[3] != len(modality):
                raise ValueError(
                    f"{image_path}: {data.shape[3]} volumes for {len(modality)} modalities"
                )
            for c in range(data.shape[3]):
                channel = nib.Nifti1Image(data[..., c], img.affine)
                channel.header.set_xyzt_units(*img.header.get_xyzt_units())
                nib.save(channel, out / "imagesTr" / f"{case}_{c:04d}.nii.gz")
        else:
            shutil.copyfile(image_path, out / "imagesTr" / f"{case}_0000.nii.gz")
        shutil.copyfile(label_path, out / "labelsTr" / f"{case}.nii.gz")
        count += 1
    converted = {
        "name": meta.get("name", task_dir.name),
        "description": meta.get("description", ""),
        "reference": meta.get("reference", ""),
        "licence": meta.get("licence", ""),
        "channel_names": modality,
        "labels": labels,
        "numTraining": count,
        "file_ending": ".nii.gz",
    }
    (out / "dataset.json").write_text(json.dumps(converted, indent=2))
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("task", choices=TASKS)
    p.add_argument("out_dir")
    p.add_argument("--archive", default=None, help="a downloaded {task}.tar (skip the download)")
    a = p.parse_args(argv)
    out = Path(a.out_dir)
    archive = (
        Path(a.archive)
        if a.archive
        else download(task_url(a.task), out.parent / "downloads" / f"{a.task}.tar")
    )
    task_dir = safe_extract(archive, out.parent / "extracted")
    print(convert(task_dir, out))


if __name__ == "__main__":
    main()
