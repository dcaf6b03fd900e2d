"""Shared helpers for the multi-process and resume tests of every app."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]


def run_cli(argv: list[str], timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    """Run a command from the repo root with progress bars off; output captured as text."""
    env = {**os.environ, "GDL_NO_PROGRESS": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, **kwargs
    )


def app_command(app: str) -> list[str]:
    """The console script of an app, from the same venv as the tests."""
    return [str(Path(sys.executable).parent / f"gdl-{app}")]


def last_checkpoint(root: Path) -> Path:
    found = sorted(root.glob("**/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime)
    assert found, f"no last.ckpt under {root}"
    return found[-1]


def max_weight_difference(a: Path, b: Path) -> float:
    """Max |w_a − w_b| over the floating-point tensors of two checkpoints' state dicts."""
    sa = torch.load(a, map_location="cpu", weights_only=True)["state_dict"]
    sb = torch.load(b, map_location="cpu", weights_only=True)["state_dict"]
    assert sa.keys() == sb.keys()
    return max(
        (sa[k].double() - sb[k].double()).abs().max().item()
        for k in sa
        if sa[k].is_floating_point() and sa[k].numel()
    )


def logged_metric(root: Path, name: str) -> list[float]:
    """Every value of one metric in the CSV logs under root (rank 0 writes them)."""
    values = []
    for path in sorted(root.glob("**/metrics.csv")):
        with open(path) as fh:
            for row in csv.DictReader(fh):
                if row.get(name):
                    values.append(float(row[name]))
    return values


def fit_single_and_ddp(
    app: str, config: str, root: Path, global_batch: int, extra: list[str]
) -> tuple[Path, Path]:
    """Fit an app's config once in one process and once in two DDP processes (gloo, CPU)
    with the same global batch; returns the two roots (checkpoints and CSV logs inside)."""
    common = [
        *app_command(app),
        "fit",
        "--config",
        str(REPO / config),
        "--seed_everything=1",
        "--data.seed=1",
        "--trainer.accelerator=cpu",
        "--trainer.enable_progress_bar=false",
        "--trainer.logger=lightning.pytorch.loggers.CSVLogger",
        "--trainer.logger.save_dir",
        "LOGDIR",
        *extra,
    ]
    runs = {
        "one": ["--trainer.devices=1", f"--data.batch_size={global_batch}"],
        "two": [
            "--trainer.devices=2",
            "--trainer.strategy=ddp",
            f"--data.batch_size={global_batch // 2}",
        ],
    }
    for name, args in runs.items():
        cmd = [str(root / name) if a == "LOGDIR" else a for a in common]
        out = run_cli([*cmd, *args, f"--trainer.default_root_dir={root / name}"], timeout=600)
        assert out.returncode == 0, f"{name}: {out.stderr[-3000:]}"
    return root / "one", root / "two"
