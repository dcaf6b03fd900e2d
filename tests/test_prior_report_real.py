"""Smoke test of benchmarks/prior_report_real.py: the real-data reproducer runs the
app's prior-report end to end and copies its report with the command added."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ESOL = REPO.parent / "shared" / "data" / "esol.csv"


@pytest.mark.skipif(not ESOL.is_file(), reason=f"shared real data absent ({ESOL})")
def test_prior_report_real_on_a_slice_of_esol(tmp_path):
    script = REPO / "benchmarks" / "prior_report_real.py"
    cmd = [
        sys.executable, str(script), "esol", "--modes", "equivariant", "none",
        "--fractions", "0.5", "1.0", "--budget-scale", "0.005",
        "--work", str(tmp_path / "work"), "--results", str(tmp_path / "results"),
        "--", "--data.limit", "48", "--trainer.enable_progress_bar", "false",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = tmp_path / "results" / "prior_report_esol"
    report = json.loads((out / "prior_report.json").read_text())
    assert report["command"].startswith("python benchmarks/prior_report_real.py esol")
    md = (out / "prior_report.md").read_text()
    assert "Command: `python benchmarks/prior_report_real.py esol" in md
    assert (out / "prior_report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
