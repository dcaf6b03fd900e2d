"""Benchmark scripts in --quick mode (slow: they train and time several networks)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rotation_benchmark_quick(tmp_path):
    _load("medseg_rotation").main(
        ["--quick", "--out", str(tmp_path), "--models", "equivariant,none"]
    )
    result = json.loads((tmp_path / "medseg_rotation.json").read_text())["results"]
    assert set(result) == {"equivariant", "none"}
    for r in result.values():
        assert 0 <= r["unrotated"] <= 1 and 0 <= r["rot90"] <= 1 and 0 <= r["arbitrary"] <= 1
    assert "| equivariant |" in (tmp_path / "medseg_rotation.md").read_text()


def test_cost_benchmark_quick(tmp_path):
    _load("medseg_cost").main(["--quick", "--out", str(tmp_path)])
    result = json.loads((tmp_path / "medseg_cost.json").read_text())["results"]
    assert result["plain_same_widths"]["train_step_vs_plain_same_widths"] == 1.0
    assert result["equivariant"]["params"] < result["plain_same_widths"]["params"] / 20
    assert result["equivariant"]["inference_exported_voxels_per_s"] > 0


def test_hippocampus_benchmark_smoke(tmp_path, monkeypatch):
    """10 real cases, seconds of fit per mode: the pipeline runs and writes JSON/MD/PNG."""
    bench = _load("medseg_hippocampus")
    if not (bench.DATA / "dataset.json").is_file():
        pytest.skip(f"MSD Hippocampus not found at {bench.DATA}")
    monkeypatch.setattr(bench, "RESULTS", tmp_path)
    monkeypatch.setenv("GDL_CACHE_DIR", str(tmp_path / "cache"))
    bench.main([
        "--cases", "10", "--budget", "0.3", "--small-budget", "0.2", "--rotated-cases", "2",
        "--runs", "equivariant:1", "none:0.1", "--work", str(tmp_path / "work"),
        "--name", "hippo",
    ])
    result = json.loads((tmp_path / "hippo.json").read_text())["results"]
    assert [r["mode"] for r in result] == ["equivariant", "none"]
    assert 0 <= result[0]["heldout"]["dice_mean"] <= 1 and "rotated" in result[0]
    assert (tmp_path / "hippo.png").read_bytes()[:4] == b"\x89PNG"


def test_large_volume_benchmark_smoke(tmp_path):
    """A 70x80x40 'CT' with the default architecture: every run row and the table."""
    _load("medseg_large_volume").main(
        ["--shape", "70,80,40", "--slab", "33", "--out", str(tmp_path), "--name", "lv"]
    )
    result = json.loads((tmp_path / "lv.json").read_text())
    assert result["window"] == [33, 49, 33] and len(result["rows"]) == 6
    assert all(r["wall_s"] > 0 for r in result["rows"])
    assert [r.get("extrapolated", False) for r in result["rows"]] == [False] * 4 + [True] * 2
    assert "| 70x80x40 | 0.0 |" in (tmp_path / "lv.md").read_text()


def test_vs_nnunet_benchmark_smoke(tmp_path, phantom_dataset, monkeypatch):
    """4 phantom cases, half a minute of training per tool, two lanes side by side: nnU-Net
    v2, MONAI, ours and ours in mode none run on one split and are scored by our evaluate
    (skipped if their venv cannot be built)."""
    bench = _load("medseg_vs_nnunet")
    try:
        bench.ensure_venv()
    except bench.VenvError as err:
        pytest.skip(f"nnU-Net/MONAI venv cannot be built here: {err}")
    monkeypatch.setenv("GDL_CACHE_DIR", str(tmp_path / "cache"))
    bench.main(["--data", str(phantom_dataset), "--budget", "0.5", "--work", str(tmp_path / "w"),
                "--rows", "ours,nnunet,monai,ours:none", "--lanes", "2",
                "--out", str(tmp_path), "--name", "vs"])
    result = json.loads((tmp_path / "vs.json").read_text())
    rows = result["rows"]
    # --rows order, whichever lane finished first
    assert [r["row"].split()[0] for r in rows] == ["gdl-medseg", "nnU-Net", "MONAI", "gdl-medseg"]
    assert rows[3]["row"].endswith("--model.symmetry none)") and "|G|" not in rows[3]["network"]
    for r in rows:
        assert 0 <= r["heldout"]["dice_mean"] <= 1 and r["fit_wall_s"] > 0 and r["load"] >= 0
    assert result["meta"]["lanes"] == 2
    text = (tmp_path / "vs.md").read_text()
    assert "| nnU-Net v2 3d_fullres |" in text and "in 2 lanes side by side" in text


def test_augment_ab_benchmark_smoke(tmp_path, monkeypatch):
    """10 real cases, seconds of fit per arm, both TTA modes: rows and the table."""
    bench = _load("medseg_augment_ab")
    if not (bench.hippo.DATA / "dataset.json").is_file():
        pytest.skip(f"MSD Hippocampus not found at {bench.hippo.DATA}")
    monkeypatch.setenv("GDL_CACHE_DIR", str(tmp_path / "cache"))
    bench.main([
        "--cases", "10", "--budget", "0.2", "--arms", "none:patch", "none:crop",
        "--tta", "off", "all", "--work", str(tmp_path / "work"), "--out", str(tmp_path),
        "--name", "ab",
    ])
    rows = json.loads((tmp_path / "ab.json").read_text())["rows"]
    assert [(r["arm"], r["tta"]) for r in rows] == [
        ("none/patch", "off"), ("none/patch", "all"), ("none/crop", "off"), ("none/crop", "all")
    ]
    assert rows[0]["tta_passes"] == "off (1 pass)"
    assert rows[1]["tta_passes"].startswith("all: 2 passes")
    assert all(0 <= r["heldout"]["dice_mean"] <= 1 for r in rows)
    assert "| none/crop | crop | all: 2 passes" in (tmp_path / "ab.md").read_text()
