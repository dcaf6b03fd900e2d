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
