"""Smoke tests of benchmarks/scale_predict.py (the docs' Scale table)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "scale_predict.py"


def load():
    spec = importlib.util.spec_from_file_location("scale_predict", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_report_table_has_the_marginal_rate(tmp_path):
    rows = [
        {"app": "dna", "factor": 1, "records": 10, "seconds": 2.0, "records_per_s": 5.0,
         "peak_rss_mib": 400.0},
        {"app": "dna", "factor": 10, "records": 100, "seconds": 3.0, "records_per_s": 33.3,
         "peak_rss_mib": 401.0},
    ]
    load().write_report(rows, results=tmp_path, args=["--apps", "dna"])
    table = (tmp_path / "scale_predict.md").read_text().splitlines()
    assert table[-2] == "| dna | 1x | 10 | 2.0 | 5.0 | – | 400 |"
    assert table[-1] == "| dna | 10x | 100 | 3.0 | 33.3 | 90.0 | 401 |"  # 90 records / 1 s
    meta = json.loads((tmp_path / "scale_predict.json").read_text())["meta"]
    assert meta["command"] == "python benchmarks/scale_predict.py --apps dna"


@pytest.mark.slow
def test_scale_predict_runs_end_to_end_on_one_app(tmp_path):
    load().main(["--apps", "dna", "--factors", "1", "--results", str(tmp_path)])
    (row,) = json.loads((tmp_path / "scale_predict.json").read_text())["rows"]
    assert row["app"] == "dna" and row["records"] == 200 and row["peak_rss_mib"] > 0
