"""A fit killed after its best epoch and rerun keeps the true best (issue 17).

Lightning resumes into a new logger version and, the dirpath having changed, resets
best_model_score: without the fix best.ckpt became the first epoch after the resume.
The kill is simulated by the toy app (GDL_TOY_CRASH): the process stops at the start of
an epoch, after the previous epoch's last.ckpt was written, as with kill -9.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest
import torch

from gdl_science.cli import run_app
from gdl_science.cli.learning_curves import read_csv_log
from tests.core.toy_app import CRASH_ENV, SPEC

ARGS = [
    "--trainer.max_epochs=6",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
    "--model.width=6",
    "--model.scramble_from_epoch=3",  # epochs 3-5 get worse: the best is one of 0-2
    "--seed_everything=3",
]


def fit(root, *extra: str) -> int:
    return run_app(SPEC, ["fit", f"--trainer.default_root_dir={root}", *ARGS, *extra])


def all_val(root) -> dict[int, float]:
    """val/mse per epoch over every logger version (the runs before and after the kill)."""
    val: dict[int, float] = {}
    for log in sorted(root.glob("**/lightning_logs/version_*/metrics.csv")):
        val.update(read_csv_log(log)["val/mse"])
    return val


def epoch_of(path) -> int:
    return torch.load(path, map_location="cpu", weights_only=True)["epoch"]


def test_killed_and_rerun_fit_keeps_the_best_of_all_epochs(tmp_path, monkeypatch, capsys):
    root = tmp_path / "run"
    monkeypatch.setenv(CRASH_ENV, f"4:{tmp_path / 'killed'}")
    with pytest.raises(SystemExit, match="killed at the start of epoch 4"):
        fit(root)
    assert fit(root) == 0  # the same command again: resumes at epoch 4
    err = capsys.readouterr().err
    assert "resuming from" in err
    val = all_val(root)
    assert sorted(val) == list(range(6))  # every epoch ran once, across two versions
    best_epoch = min(val, key=val.get)
    assert best_epoch < 3 < 4  # the best came before the kill
    (best,) = root.glob("**/checkpoints/best.ckpt")
    (last,) = root.glob("**/checkpoints/last.ckpt")
    assert epoch_of(best) == best_epoch and epoch_of(last) == 5
    shown = re.search(r"best checkpoint: (\S+) \(val/mse=([0-9.e+-]+)\)", err)
    assert shown and shown.group(1) == str(best)
    assert abs(float(shown.group(2)) - val[best_epoch]) <= 1e-3 * val[best_epoch]
    # metrics.png is drawn from both versions' logs: no epoch is missing from the plot.
    assert (best.parent / "metrics.png").is_file()


def test_killed_ensemble_member_resumes_and_the_manifest_names_its_true_best(
    tmp_path, monkeypatch, capsys
):
    root = tmp_path / "ens"
    monkeypatch.setenv(CRASH_ENV, f"4:{tmp_path / 'killed'}:member_1")
    with pytest.raises(SystemExit):
        fit(root, "--ensemble_size=2")
    assert fit(root, "--ensemble_size=2") == 0
    err = capsys.readouterr().err
    assert "ensemble member 1/2: already trained" in err and "resuming from" in err
    member = json.loads((root / "ensemble.json").read_text())["members"][1]
    val = all_val(root / "member_1")
    assert sorted(val) == list(range(6))
    best_epoch = min(val, key=val.get)
    assert epoch_of(root / member["best"]) == best_epoch
    assert abs(member["score"] - val[best_epoch]) <= 1e-3 * val[best_epoch]


def test_ckpt_path_that_is_not_a_checkpoint_is_exit_2_one_line(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a checkpoint\n")
    payload = tmp_path / "payload.ckpt"
    torch.save({"state_dict": {}, "run": print}, payload)
    for command in ("fit", "test"):
        for path in (notes, payload):
            code = run_app(SPEC, [command, f"--trainer.default_root_dir={tmp_path / 'r'}",
                                  f"--ckpt_path={path}", "--trainer.max_epochs=1"])
            assert code == 2
            line = capsys.readouterr().err.strip().splitlines()[-1]
            assert line.startswith(f"gdl-toy: error: {path}: not a readable")
            assert "weights_only" not in line


@pytest.mark.parametrize("size", ["0", "-2"])
def test_ensemble_size_below_one_is_a_usage_error(tmp_path, capsys, size):
    assert fit(tmp_path, f"--ensemble_size={size}") == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line == f"gdl-toy: error: --ensemble_size {size}: must be 1 or more"
    assert not any(tmp_path.iterdir())  # refused before anything was trained


def test_remote_default_root_dir_is_refused(capsys):
    assert fit("s3://bucket/runs") == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--trainer.default_root_dir s3://bucket/runs: remote paths are not supported" in line


def test_a_killed_fit_moved_to_another_folder_resumes_with_its_best(tmp_path, monkeypatch):
    monkeypatch.setenv(CRASH_ENV, f"4:{tmp_path / 'killed'}")
    with pytest.raises(SystemExit):
        fit(tmp_path / "run")
    moved = tmp_path / "moved"
    shutil.move(tmp_path / "run", moved)  # e.g. copied from scratch to a project disk
    assert fit(moved) == 0
    val = all_val(moved)
    (best,) = moved.glob("**/checkpoints/best.ckpt")
    assert epoch_of(best) == min(val, key=val.get) < 4


def test_ckpt_path_that_is_an_ensemble_names_a_member(tmp_path, capsys):
    root = tmp_path / "ens"
    assert fit(root, "--ensemble_size=2", "--trainer.max_epochs=1") == 0
    capsys.readouterr()
    code = run_app(SPEC, ["test", f"--trainer.default_root_dir={tmp_path / 't'}",
                          f"--ckpt_path={root / 'ensemble.json'}"])
    assert code == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "an ensemble of 2 checkpoints; this command takes one checkpoint, e.g. " in line
