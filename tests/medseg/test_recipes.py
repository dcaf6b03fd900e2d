"""Data recipes: MSD conversion on an archive built here (offline), MNI152 from nilearn's files."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from gdl_medseg.data.preprocess import to_ras
from gdl_medseg.data.verify import verify_dataset

from data_recipes import medseg_mni152, medseg_msd


def _nifti_bytes(data: np.ndarray, spacing=(1.0, 1.0, 2.0)) -> bytes:
    img = nib.Nifti1Image(data, np.diag([*spacing, 1.0]))
    return gzip.compress(img.to_bytes())


def _msd_archive(path: Path, task: str, modalities: dict, cases: int = 2) -> Path:
    """A tiny archive laid out like the Decathlon's: Task/dataset.json, imagesTr, labelsTr."""
    rng = np.random.default_rng(0)
    files: dict[str, bytes] = {}
    training = []
    for i in range(cases):
        shape = (12, 10, 8)
        image = rng.normal(size=(*shape, len(modalities)) if len(modalities) > 1 else shape)
        label = np.zeros(shape, np.uint8)
        label[3:7, 3:6, 2:5] = 1 + i % 2
        files[f"{task}/imagesTr/case_{i}.nii.gz"] = _nifti_bytes(image.astype(np.float32))
        files[f"{task}/labelsTr/case_{i}.nii.gz"] = _nifti_bytes(label)
        training.append(
            {"image": f"./imagesTr/case_{i}.nii.gz", "label": f"./labelsTr/case_{i}.nii.gz"}
        )
    files[f"{task}/imagesTr/._case_0.nii.gz"] = b"\x00\x05\x16\x07 mac resource fork"
    meta = {
        "name": task,
        "modality": modalities,
        "numTraining": cases,
        "training": training,
        "labels": {"0": "background", "1": "anterior", "2": "posterior"},
    }
    files[f"{task}/dataset.json"] = json.dumps(meta).encode()
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_msd_single_channel_task_converts_and_verifies(tmp_path):
    archive = _msd_archive(tmp_path / "Task04_Hippocampus.tar", "Task04_Hippocampus", {"0": "MRI"})
    out = tmp_path / "nnunet" / "Dataset004_Hippocampus"
    medseg_msd.main(["Task04_Hippocampus", str(out), "--archive", str(archive)])
    spec, reports = verify_dataset(out, show_progress=False)
    assert [r.id for r in reports] == ["case_0", "case_1"] and all(r.ok for r in reports)
    assert spec.channel_names == ("MRI",) and spec.labels == {
        "background": 0,
        "anterior": 1,
        "posterior": 2,
    }
    assert reports[0].spacing == (1.0, 1.0, 2.0)


def test_msd_multimodal_task_is_split_into_channel_files(tmp_path):
    archive = _msd_archive(tmp_path / "t.tar", "Task01_BrainTumour", {"0": "FLAIR", "1": "T1w"})
    out = tmp_path / "Dataset001_BrainTumour"
    medseg_msd.main(["Task01_BrainTumour", str(out), "--archive", str(archive)])
    names = sorted(p.name for p in (out / "imagesTr").iterdir())
    assert names == [f"case_{i}_{c:04d}.nii.gz" for i in range(2) for c in range(2)]
    spec, reports = verify_dataset(out, show_progress=False)
    assert spec.channel_names == ("FLAIR", "T1w") and all(r.ok for r in reports)
    assert nib.load(out / "imagesTr" / "case_0_0001.nii.gz").shape == (12, 10, 8)


def test_msd_archive_escaping_the_folder_is_refused(tmp_path):
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(ValueError, match="escapes"):
        medseg_msd.safe_extract(archive, tmp_path / "x")
    assert not (tmp_path / "outside.txt").exists()


def test_msd_urls_are_the_public_mirror():
    assert medseg_msd.task_url("Task09_Spleen") == (
        "https://msd-for-monai.s3-us-west-2.amazonaws.com/Task09_Spleen.tar"
    )
    with pytest.raises(ValueError):
        medseg_msd.task_url("Task99_Nothing")


def test_mni152_tissue_task_from_nilearn_files(tmp_path):
    try:
        medseg_mni152.nilearn_data_dir()
    except FileNotFoundError as err:
        pytest.skip(f"nilearn's MNI152 files are not installed: {err}")
    out = medseg_mni152.write_dataset(tmp_path / "mni", cases=3, spacing=6.0)
    _, reports = verify_dataset(out, show_progress=False)
    assert all(r.ok for r in reports), [r.problems for r in reports]
    assert {r.orientation for r in reports} == {"RAS", "LPS", "SRA"}
    labels = [nib.load(out / "labelsTr" / f"mni152_{i:03d}.nii.gz") for i in range(3)]
    ras = [to_ras(np.asarray(img.dataobj), img.affine)[0] for img in labels]
    assert np.array_equal(ras[0], ras[1]) and np.array_equal(ras[0], ras[2])
    counts = np.bincount(ras[0].ravel())
    assert len(counts) == 3 and counts[1] > counts[2] > 0  # more grey than white matter
