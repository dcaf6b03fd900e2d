"""fit --ensemble_size N: members from consecutive seeds, one ensemble.json that predict
takes as a checkpoint, and reruns that skip finished members."""

from __future__ import annotations

import json
import os
import sys

import pytest
import torch

from gdl_science.cli import run_app
from gdl_science.io import load_task
from tests.core.toy_app import SPEC, ToyData, ToyTask
from tests.ddp_helpers import run_cli


def fit(root, *extra: str) -> int:
    return run_app(
        SPEC,
        [
            "fit",
            "--trainer.max_epochs=2",
            f"--trainer.default_root_dir={root}",
            "--trainer.enable_progress_bar=false",
            "--trainer.enable_model_summary=false",
            "--model.width=6",
            "--seed_everything=5",
            *extra,
        ],
    )


def weights(path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def predict(tmp_path, name: str, *checkpoints) -> str:
    sequences = tmp_path / "in.txt"
    sequences.write_text("ACGTACGTAA\nGGGGCCCCAA\nATATATATGC\n")
    args = ["predict", "--input", str(sequences), "--output", str(tmp_path / name)]
    for c in checkpoints:
        args += ["--checkpoint", str(c)]
    assert run_app(SPEC, args) == 0
    return (tmp_path / name).read_text()


def test_members_come_from_consecutive_seeds_and_predict_as_one_checkpoint(tmp_path, capsys):
    root = tmp_path / "ens"
    assert fit(root, "--ensemble_size=3") == 0
    err = capsys.readouterr().err
    manifest = json.loads((root / "ensemble.json").read_text())
    assert manifest["size"] == 3 and [m["seed"] for m in manifest["members"]] == [5, 6, 7]
    bests = [root / m["best"] for m in manifest["members"]]
    assert [b.parts[-5] for b in bests] == ["member_0", "member_1", "member_2"]
    assert f"ensemble checkpoint: {root / 'ensemble.json'}" in err

    # Member 0 is exactly the ordinary fit with the base seed; member 1 is another model.
    assert fit(tmp_path / "single") == 0
    (single,) = (tmp_path / "single").glob("**/checkpoints/best.ckpt")
    w0, w1, ws = weights(bests[0]), weights(bests[1]), weights(single)
    assert all(torch.equal(w0[k], ws[k]) for k in ws)
    assert not torch.equal(w0["net.conv.weight"], w1["net.conv.weight"])

    # The ensemble's validation score is the mean of the members' outputs, scored.
    data = ToyData()
    data.setup("validate")
    x, y = data.datasets["val"].tensors
    with torch.no_grad():
        mean = torch.stack([load_task(ToyTask, b)(x) for b in bests]).mean(0)
    expected = torch.nn.functional.mse_loss(mean, y).item()
    assert abs(manifest["ensemble_validation"]["val/mse"] - expected) < 1e-5
    member_scores = [m["score"] for m in manifest["members"]]
    assert expected < sum(member_scores) / 3  # averaging helps on this toy
    assert "ensemble validation (members averaged as predict does): val/loss=" in err

    by_manifest = predict(tmp_path, "a.tsv", root / "ensemble.json")
    by_folder = predict(tmp_path, "b.tsv", root)
    by_files = predict(tmp_path, "c.tsv", *bests)
    assert by_manifest == by_folder == by_files
    assert by_manifest.splitlines()[0].split("\t") == ["id", "gc_pred", "gc_std"]


def test_rerun_skips_finished_members_and_trains_the_missing_one(tmp_path, capsys):
    root = tmp_path / "ens"
    assert fit(root, "--ensemble_size=3") == 0
    path = root / "ensemble.json"
    manifest = json.loads(path.read_text())
    first = root / manifest["members"][0]["best"]
    stamp = first.stat().st_mtime_ns
    # As if the fit had been killed while training the third member.
    manifest["members"] = manifest["members"][:2]
    path.write_text(json.dumps(manifest))
    capsys.readouterr()

    sequences = tmp_path / "in.txt"
    sequences.write_text("ACGTACGTAA\n")
    assert run_app(SPEC, ["predict", "--checkpoint", str(path), "--input", str(sequences),
                          "--output", str(tmp_path / "o.tsv")]) == 2
    assert "only 2 of 3 ensemble members are trained" in capsys.readouterr().err

    assert fit(root, "--ensemble_size=3") == 0
    err = capsys.readouterr().err
    assert err.count("already trained") == 2
    assert "ensemble member 3/3 (seed 7)" in err
    assert first.stat().st_mtime_ns == stamp
    assert len(json.loads(path.read_text())["members"]) == 3

    # Other settings are another ensemble: nothing is skipped.
    assert fit(root, "--ensemble_size=2", "--model.width=5") == 0
    assert "already trained" not in capsys.readouterr().err


def test_commands_that_take_one_checkpoint_name_a_member(tmp_path, capsys):
    root = tmp_path / "ens"
    assert fit(root, "--ensemble_size=2", "--trainer.max_epochs=1") == 0
    capsys.readouterr()
    code = run_app(SPEC, ["check-symmetry", "--checkpoint", str(root / "ensemble.json")])
    err = capsys.readouterr().err
    assert code == 2
    assert "an ensemble of 2 checkpoints; this command takes one checkpoint, e.g. " in err
    assert os.path.join("member_0", "lightning_logs") in err


@pytest.mark.ddp
def test_an_ensemble_fit_under_two_process_ddp_writes_one_manifest(tmp_path):
    root = tmp_path / "ens"
    proc = run_cli([
        sys.executable, "-m", "tests.core.toy_app", "fit", "--trainer.max_epochs=1",
        f"--trainer.default_root_dir={root}", "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false", "--trainer.accelerator=cpu",
        "--trainer.devices=2", "--trainer.strategy=ddp", "--ensemble_size=2",
    ])
    assert proc.returncode == 0, proc.stderr[-2000:]
    manifest = json.loads((root / "ensemble.json").read_text())
    assert [m["seed"] for m in manifest["members"]] == [0, 1]
    assert all((root / m["best"]).is_file() for m in manifest["members"])
    # Both ranks trained each member together: one process group, not two ensembles.
    assert proc.stderr.count("ensemble of 2 members") == 1
    assert sorted(p.parts[-5] for p in root.glob("**/best.ckpt")) == ["member_0", "member_1"]
