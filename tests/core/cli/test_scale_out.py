"""Scale-out machinery of the shared CLI: DDP on CPU, resume after SIGKILL, bf16, determinism."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
import torch

from gdl_science.cli import run_app
from tests.core.toy_app import SPEC
from tests.ddp_helpers import REPO, last_checkpoint, logged_metric, max_weight_difference, run_cli

TOY = [sys.executable, "-m", "tests.core.toy_app"]
QUIET = ["--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false"]


@pytest.mark.ddp
def test_two_process_ddp_matches_one_process_with_the_same_global_batch(tmp_path):
    common = [
        "fit",
        "--trainer.max_epochs=3",
        # SGD: updates are linear in the gradient. Adam divides by sqrt(v), which turns the
        # 1e-8 rounding difference of a near-zero gradient into a full lr-sized step.
        "--model.optimizer=sgd",
        "--model.lr=0.1",
        "--seed_everything=1",
        "--data.seed=1",
        "--trainer.accelerator=cpu",
        *QUIET,
    ]
    single = run_cli(
        [
            *TOY,
            *common,
            "--data.batch_size=16",
            "--trainer.devices=1",
            f"--trainer.default_root_dir={tmp_path / 'one'}",
        ]
    )
    assert single.returncode == 0, single.stderr[-2000:]
    ddp = run_cli(
        [
            *TOY,
            *common,
            "--data.batch_size=8",
            "--trainer.devices=2",
            "--trainer.strategy=ddp",
            f"--trainer.default_root_dir={tmp_path / 'two'}",
        ]
    )
    assert ddp.returncode == 0, ddp.stderr[-2000:]
    # DDP averages the two ranks' gradients of 8 samples = one gradient of the same 16.
    diff = max_weight_difference(
        last_checkpoint(tmp_path / "one"), last_checkpoint(tmp_path / "two")
    )
    assert diff < 1e-5
    # Validation metrics are synced over both ranks' halves of the validation set.
    one, two = (
        logged_metric(tmp_path / "one", "val/mse"),
        logged_metric(tmp_path / "two", "val/mse"),
    )
    assert len(one) == len(two) == 3
    assert max(abs(a - b) for a, b in zip(one, two)) < 1e-5


def test_a_killed_fit_resumes_when_the_same_command_is_rerun(tmp_path, capsys):
    cmd = [
        *TOY,
        "fit",
        "--trainer.max_epochs=6",
        "--model.seconds_per_step=0.15",
        f"--trainer.default_root_dir={tmp_path}",
        *QUIET,
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    deadline = time.time() + 120
    try:
        while not list(tmp_path.glob("**/checkpoints/last.ckpt")):
            assert time.time() < deadline and proc.poll() is None, "fit ended before a checkpoint"
            time.sleep(0.05)
        time.sleep(0.2)  # now mid-epoch 2
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    killed_at = torch.load(last_checkpoint(tmp_path), weights_only=True)["epoch"]
    assert killed_at < 5

    rerun = run_cli(cmd)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "resuming from" in rerun.stderr
    final = torch.load(last_checkpoint(tmp_path), weights_only=True)
    assert final["epoch"] == 5 and final["global_step"] == 6 * 3  # no step lost or repeated

    # A different configuration in the same folder does not resume someone else's run.
    other = [
        "fit",
        "--trainer.max_epochs=6",
        "--model.width=3",
        f"--trainer.default_root_dir={tmp_path}",
        *QUIET,
    ]
    assert run_app(SPEC, other) == 0
    assert "resuming from" not in capsys.readouterr().err


def test_bf16_mixed_precision_and_deterministic_mode_on_cpu(tmp_path):
    base = [
        "fit",
        "--trainer.max_epochs=2",
        "--seed_everything=3",
        "--trainer.deterministic=true",
        *QUIET,
    ]
    try:
        for name in ("a", "b"):
            assert run_app(SPEC, [*base, f"--trainer.default_root_dir={tmp_path / name}"]) == 0
        bf16 = [
            *base,
            "--trainer.precision=bf16-mixed",
            f"--trainer.default_root_dir={tmp_path / 'bf16'}",
        ]
        assert run_app(SPEC, bf16) == 0
    finally:
        torch.use_deterministic_algorithms(False)  # deterministic=true sets it process-wide
    runs = [last_checkpoint(tmp_path / name) for name in ("a", "b")]
    assert max_weight_difference(*runs) == 0.0  # bit-identical reruns
    losses = logged_metric(tmp_path / "bf16", "val/loss")
    assert losses and all(torch.isfinite(torch.tensor(losses)))
    assert max_weight_difference(runs[0], last_checkpoint(tmp_path / "bf16")) > 0  # bf16 did run


@pytest.mark.ddp
def test_predict_sharded_over_two_ranks_writes_one_complete_ordered_output(tmp_path):
    assert (
        run_app(
            SPEC,
            ["fit", "--trainer.max_epochs=1", f"--trainer.default_root_dir={tmp_path}", *QUIET],
        )
        == 0
    )
    ckpt = last_checkpoint(tmp_path)
    lines = ["ACGTAC", "GGXAAA", "TTTTGC", "", "CCCGGA", "ACACGT", "GTGTNA", "AAAACC", "CGCGTA"]
    inp = tmp_path / "seqs.txt"
    inp.write_text("\n".join(lines) + "\n")
    predict = ["predict", "--checkpoint", str(ckpt), "--input", str(inp), "--batch-size", "2"]
    assert run_app(SPEC, [*predict, "--output", str(tmp_path / "one.tsv")]) == 0
    env = {"PYTHONPATH": str(REPO), "GDL_NO_PROGRESS": "1", "PATH": "/usr/bin:/bin"}
    cmd = [
        *TOY,
        "predict",
        "--checkpoint",
        str(ckpt),
        "--input",
        str(inp),
        "--output",
        str(tmp_path / "two.tsv"),
        "--batch-size",
        "2",
    ]
    ranks = [
        subprocess.Popen(
            cmd,
            cwd=REPO,
            env={**env, "RANK": str(r), "WORLD_SIZE": "2"},
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in (1, 0)
    ]
    for proc in ranks:
        assert proc.wait(timeout=120) == 0, proc.stderr.read()
    one, two = (tmp_path / "one.tsv").read_text(), (tmp_path / "two.tsv").read_text()
    assert two == one  # same rows, same input order, one file
    assert [r.split("\t")[0] for r in one.splitlines()[1:]] == [
        "line1",
        "line3",
        "line5",
        "line6",
        "line8",
        "line9",
    ]
    errors_one = (tmp_path / "one.tsv.errors.tsv").read_text()
    assert (tmp_path / "two.tsv.errors.tsv").read_text() == errors_one
    assert [r.split("\t")[0] for r in errors_one.splitlines()[1:]] == ["line2", "line4", "line7"]
    assert not list(tmp_path.glob(".two.tsv*"))  # parts cleaned up
