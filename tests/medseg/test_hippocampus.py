"""CI-sized check on real MRI: a short fit on a few MSD Hippocampus cases beats an untrained net.

Reads ``../shared/data/hippocampus`` (or ``$GDL_SHARED_DATA/hippocampus``) and skips with
the reason when it is absent, as on a user's machine. The cases mix uint8 and float32
images, as the source does.
"""

from __future__ import annotations

import os
from pathlib import Path

import lightning.pytorch as pl
import nibabel as nib
import pytest
import torch
from gdl_medseg.datamodule import MedSegDataModule
from gdl_medseg.task import MedSegTask

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("GDL_SHARED_DATA", REPO / ".." / "shared" / "data")) / "hippocampus"
CASES = ["hippocampus_001", "hippocampus_003", "hippocampus_004", "hippocampus_006",
         "hippocampus_008", "hippocampus_011", "hippocampus_014", "hippocampus_015"]


@pytest.fixture(scope="module")
def few_cases(tmp_path_factory) -> Path:
    if not (DATA / "dataset.json").is_file():
        pytest.skip(f"MSD Hippocampus not found at {DATA} (shared data is absent)")
    root = tmp_path_factory.mktemp("hippo") / "Dataset004_Hippocampus"
    for sub in ("imagesTr", "labelsTr"):
        (root / sub).mkdir(parents=True)
    for c in CASES:
        (root / "imagesTr" / f"{c}_0000.nii.gz").symlink_to(DATA / "imagesTr" / f"{c}_0000.nii.gz")
        (root / "labelsTr" / f"{c}.nii.gz").symlink_to(DATA / "labelsTr" / f"{c}.nii.gz")
    (root / "dataset.json").write_text((DATA / "dataset.json").read_text())
    return root


def test_short_fit_beats_an_untrained_net(few_cases, tmp_path):
    dtypes = {str(nib.load(p).get_data_dtype()) for p in (few_cases / "imagesTr").iterdir()}
    assert dtypes == {"uint8", "float32"}  # mixed image dtypes, handled by the cache
    torch.manual_seed(0)
    dm = MedSegDataModule(
        str(few_cases), patch_size=25, samples_per_epoch=16, val_fraction=0.25,
        foreground_fraction=0.5, cache_dir=str(tmp_path / "cache"),
    )
    task = MedSegTask(
        1, 3, ["background", "anterior", "posterior"], channels=[8, 16, 32], lr=0.01,
        scheduler="constant", patch_size=25,
    )
    trainer = pl.Trainer(
        accelerator="cpu", max_epochs=6, logger=False, enable_progress_bar=False,
        enable_model_summary=False, enable_checkpointing=False, default_root_dir=tmp_path,
        inference_mode=False,  # validate before fit: metric states must stay trainable
    )
    before = trainer.validate(task, dm, verbose=False)[0]["val/dice_mean"]
    trainer.fit(task, dm)
    after = trainer.validate(task, dm, verbose=False)[0]["val/dice_mean"]
    assert task.hparams.group == "mirror"  # the plan saw anatomy in a canonical pose
    assert after > before + 0.2 and after > 0.35, (before, after)
