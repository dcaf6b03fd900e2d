"""``gdl-molprop prior-report``: the CLI on the embedded solubility set, and the scores
under E(3) x atom permutations on known cases (invariant: no change; untied: changes)."""

from __future__ import annotations

import json
from pathlib import Path

from gdl_science.cli import run_app

CONFIG = str(Path(__file__).resolve().parents[2] / "configs" / "molprop" / "small.yaml")


def test_cli_grid_on_embedded_data(tmp_path):
    from gdl_molprop.cli import SPEC

    out = tmp_path / "report"
    code = run_app(SPEC, [
        "prior-report", "--config", CONFIG, "--modes", "equivariant", "none",
        "--fractions", "0.5", "--output", str(out), "--trainer.enable_progress_bar=false",
    ])
    assert code == 0
    report = json.loads((out / "prior_report.json").read_text())
    assert report["metric"] == "rmse" and not report["higher_is_better"]
    by_mode = {c["cell"]["mode"]: c for c in report["cells"]}
    exact, plain = by_mode["equivariant"], by_mode["none"]
    # The E(3)-invariant model: the same prediction for every pose and atom order.
    assert exact["consistency"]["max_change"] <= 1e-5
    assert abs(exact["given"]["rmse"] - exact["transformed"]["rmse"]) <= 1e-5
    # The untied model reads raw coordinates: rotating a conformer moves its prediction.
    assert plain["consistency"]["max_change"] > 1e-5
    assert {"rmse", "pearson", "mae"} <= set(plain["given"])
    text = (out / "prior_report.md").read_text()
    for line in report["verdict"]:
        assert f"- {line}" in text
