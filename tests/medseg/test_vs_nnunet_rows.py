"""benchmarks/medseg_vs_nnunet.py refuses a bad --rows before it builds or trains anything."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load():
    spec = importlib.util.spec_from_file_location("vs", BENCHMARKS / "medseg_vs_nnunet.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("rows", ["ours:foo", "ours,ours:equivariant", "nnunet,nnU-Net"])
def test_bad_rows_are_refused_in_one_line(tmp_path, rows):
    bench = _load()
    with pytest.raises(SystemExit) as err:
        bench.main(["--rows", rows, "--data", str(tmp_path / "nowhere"),
                    "--work", str(tmp_path / "w"), "--venv", str(tmp_path / "venv")])
    assert f"--rows {rows}: each row once" in str(err.value)
    assert not (tmp_path / "w").exists() and not (tmp_path / "venv").exists()


def test_ours_args_reach_every_fit_of_ours_and_name_the_row(tmp_path, monkeypatch):
    bench = _load()
    seen = []

    def fake_fit(dataset, mode, minutes, root, fraction, samples, env, epochs=0, extra=()):
        seen.append((mode, tuple(extra)))
        return {"checkpoint": "x.ckpt", "fit_wall_s": 1.0, "steps": 3, "val_dice_mean": 0.5,
                "network": "net"}

    monkeypatch.setattr(bench.hippo, "fit", fake_fit)
    monkeypatch.setattr(bench.hippo, "run_predict", lambda *a, **k: 0.0)
    (tmp_path / "held").mkdir()
    row = bench.ours_row(tmp_path / "train", tmp_path / "held", tmp_path, 60.0, {}, "none",
                         ("--model.unet", "classic"))
    assert seen == [("none", ("--model.unet", "classic"))]
    assert row["row"] == "gdl-medseg (default config, --model.symmetry none, --model.unet classic)"
    assert bench.ours_row(tmp_path / "train", tmp_path / "held", tmp_path, 60.0, {})["row"] == (
        "gdl-medseg (default config)"
    )
