"""evaluate: HD95 by the MSD/MONAI convention, and empty masks counted, never dropped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from gdl_medseg.cli import SPEC
from gdl_medseg.evaluate import dice, hd95

from gdl_science.cli import run_app

# A Python with MONAI (the competitor venv made by benchmarks/medseg_vs_nnunet.py).
MONAI_PYTHON = os.environ.get("GDL_MONAI_PYTHON", "/work/venvs/nnunet/bin/python")


def _two_points_vs_one() -> tuple[np.ndarray, np.ndarray]:
    """ref: one voxel; pred: that voxel and another 10 voxels away along the last axis."""
    ref = np.zeros((12, 12, 24), bool)
    ref[5, 5, 5] = True
    pred = ref.copy()
    pred[5, 5, 15] = True
    return pred, ref


def test_hd95_is_the_larger_one_way_percentile_hand_computed():
    pred, ref = _two_points_vs_one()
    # pred -> ref distances [0, 10]: p95 = 9.5 (linear); ref -> pred [0]: 0. HD95 = 9.5
    # (pooling both directions, [0, 0, 10], would give 9.0).
    assert hd95(pred, ref, (1.0, 1.0, 1.0)) == pytest.approx(9.5)
    assert hd95(ref, pred, (1.0, 1.0, 1.0)) == pytest.approx(9.5)  # symmetric
    assert hd95(pred, ref, (1.0, 1.0, 2.0)) == pytest.approx(19.0)  # spacing-aware
    assert np.isnan(hd95(pred, np.zeros_like(ref), (1.0, 1.0, 1.0)))
    assert dice(ref & False, ref & False) == 1.0 and dice(pred, ref & False) == 0.0


def _monai_hd95(pred: np.ndarray, ref: np.ndarray, spacing, tmp: Path) -> float:
    """MONAI's compute_hausdorff_distance(percentile=95), in-process or in MONAI's venv."""
    try:
        import monai  # noqa: F401
    except ImportError:
        if not Path(MONAI_PYTHON).is_file():
            pytest.skip(f"MONAI not installed here nor at {MONAI_PYTHON}")
    np.save(tmp / "p.npy", pred)
    np.save(tmp / "r.npy", ref)
    code = (
        "import numpy as np, torch, sys\n"
        "from monai.metrics import compute_hausdorff_distance as h\n"
        f"p = torch.from_numpy(np.load('{tmp}/p.npy'))[None, None]\n"
        f"r = torch.from_numpy(np.load('{tmp}/r.npy'))[None, None]\n"
        f"print(float(h(p, r, percentile=95, spacing={list(spacing)})))\n"
    )
    python = sys.executable if _has_monai() else MONAI_PYTHON
    res = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        pytest.skip(f"MONAI did not run: {res.stderr.strip().splitlines()[-1:]}")
    return float(res.stdout.strip().splitlines()[-1])


def _has_monai() -> bool:
    try:
        import monai  # noqa: F401
    except ImportError:
        return False
    return True


def test_hd95_matches_monai(tmp_path):
    rng = np.random.default_rng(0)
    pred = np.zeros((20, 22, 18), bool)
    ref = np.zeros_like(pred)
    pred[4:14, 5:15, 3:12] = True
    ref[6:15, 4:16, 5:13] = True
    pred[16:18, 18:20, 14:16] = True  # a distant false-positive island
    pred &= rng.random(pred.shape) > 0.05
    spacing = (1.0, 0.8, 2.5)
    ours = hd95(pred, ref, spacing)
    assert ours == pytest.approx(_monai_hd95(pred, ref, spacing, tmp_path), rel=1e-5, abs=1e-5)


def _write(folder: Path, case: str, data: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(data.astype(np.uint8), np.eye(4)), folder / f"{case}.nii.gz")


def test_empty_cases_are_counted_and_named_not_dropped(tmp_path, capsys):
    pred_dir, ref_dir = tmp_path / "pred", tmp_path / "ref"
    good = np.zeros((10, 10, 10), np.uint8)
    good[2:6, 2:6, 2:6] = 1
    _write(ref_dir, "a", good)
    _write(pred_dir, "a", good)  # perfect: Dice 1, HD95 0
    _write(ref_dir, "b", good)
    _write(pred_dir, "b", np.zeros_like(good))  # empty prediction: Dice 0, HD95 undefined
    _write(ref_dir, "c", np.zeros_like(good))
    _write(pred_dir, "c", np.zeros_like(good))  # both empty: Dice 1, HD95 undefined
    (tmp_path / "dataset.json").write_text(
        json.dumps({"channel_names": {"0": "MR"}, "labels": {"background": 0, "organ": 1}})
    )
    out = tmp_path / "m.csv"
    argv = ["evaluate", "--pred", str(pred_dir), "--ref", str(ref_dir), "--output", str(out),
            "--dataset-json", str(tmp_path / "dataset.json")]
    assert run_app(SPEC, argv) == 0
    printed = capsys.readouterr().out
    stats = json.loads((tmp_path / "m.csv.summary.json").read_text())["labels"]["1"]
    assert stats["cases"] == 3 and stats["dice_mean"] == pytest.approx(2 / 3)
    assert stats["hd95_cases"] == 1 and stats["hd95_mean_mm"] == 0.0
    assert stats["empty_prediction"] == ["b", "c"] and stats["empty_reference"] == ["c"]
    assert "| organ | 3 | 0.6667 | 0.00 | 1 | 2 | 1 |" in printed
    assert "empty prediction in b, c" in printed and "empty reference in c" in printed
