"""best.ckpt on the auROC plateau: the latest epoch within the tolerance of the best."""

from __future__ import annotations

import csv

import pytest
import torch
from gdl_dna.selection import PLATEAU, plateau_score
from gdl_dna.task import DNATask

from tests.dna.test_cli import ROOT, TINY_MODEL
from tests.dna.test_cli import in_process as in_process  # the fixture, re-exported


def _kept(aurocs: list[float], tolerance: float) -> int:
    """The epoch Lightning's ModelCheckpoint keeps (strictly larger values only)."""
    best, kept, top = None, -1, float("-inf")
    for i, a in enumerate(aurocs):
        value, best = plateau_score(a, best, tolerance, i + 1)
        value = float(torch.tensor(value))  # Lightning logs float32
        if value > top:
            kept, top = i, value
    return kept


@pytest.mark.parametrize(
    ("aurocs", "tolerance", "expected"),
    [
        ([0.80, 0.90, 0.899, 0.85, 0.8995], 0.002, 4),  # the latest plateau epoch
        ([0.80, 0.90, 0.899, 0.85, 0.8995], 0.0, 1),  # d = 0: the best epoch
        ([0.80, 0.90, 0.897, 0.85], 0.002, 1),  # 0.003 below the best: off the plateau
        ([0.95, 0.95, 0.95], 0.002, 2),  # ties go to the later epoch
        ([0.70, 0.90, 0.91, 0.905], 0.002, 2),  # a new best resets the plateau
    ],
)
def test_the_kept_epoch_is_the_latest_within_the_tolerance(aurocs, tolerance, expected):
    assert _kept(aurocs, tolerance) == expected


def test_the_tie_break_survives_float32_for_hundreds_of_flat_epochs():
    assert _kept([0.9604] * 300, 0.002) == 299


def test_selection_metric_by_task_kind_and_tolerance():
    binary = DNATask(sequence_length=40, **{"channels": (2,), "kernel_sizes": (3,),
                     "dilations": (1,), "pool_sizes": (1,), "hidden": (2,)})  # fmt: skip
    assert binary.selection_metric().name == "val/auroc"  # the default: best auROC
    binary.hparams.selection_tolerance = 0.002
    assert binary.selection_metric().name == PLATEAU


def test_fit_keeps_the_latest_plateau_epoch_and_says_so(tmp_path, in_process):
    """A real fit: best.ckpt's epoch is the latest one within 0.002 of the best val auROC
    in the fit's own metrics.csv, and the fit names the plateau metric."""
    run = tmp_path / "run"
    r = in_process(
        "fit", "--config", str(ROOT / "configs/dna/small.yaml"), "--trainer.max_epochs", "5",
        "--data.embedded_n", "300", *TINY_MODEL, "--model.selection_tolerance", "0.002",
        "--trainer.default_root_dir", str(run),
        cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"({PLATEAU}=" in r.stderr
    folder = run / "lightning_logs/version_0"
    with open(folder / "metrics.csv") as fh:
        rows = [row for row in csv.DictReader(fh) if row.get("val/auroc")]
    aurocs = [float(row["val/auroc"]) for row in rows]
    best = torch.load(folder / "checkpoints/best.ckpt", map_location="cpu", weights_only=False)
    expected = max(i for i, a in enumerate(aurocs) if a >= max(aurocs) - 0.002)
    assert int(rows[expected]["epoch"]) == best["epoch"]
    assert best["gdl_dna_auroc_best"][0] == pytest.approx(max(aurocs[: expected + 1]), abs=1e-6)
