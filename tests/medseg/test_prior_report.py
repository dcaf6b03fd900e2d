"""``gdl-medseg prior-report``: the CLI on phantoms with the small config (octahedral
group); the octahedral U-Net's masks do not change under the cube rotations, the plain
U-Net's do."""

from __future__ import annotations

import json

from gdl_science.cli import run_app

from .conftest import REPO


def test_cli_grid_on_phantoms(tmp_path, cache_dir, phantom_dataset):
    from gdl_medseg.cli import SPEC

    out = tmp_path / "report"
    code = run_app(SPEC, [
        "prior-report", "--config", str(REPO / "configs" / "medseg" / "small.yaml"),
        "--data.path", str(phantom_dataset), "--data.cache_dir", str(cache_dir),
        "--modes", "equivariant", "none", "--fractions", "0.5", "--output", str(out),
    ])
    assert code == 0
    report = json.loads((out / "prior_report.json").read_text())
    assert report["group"] == "the octahedral group" and report["metric"] == "dice_mean"
    by_mode = {c["cell"]["mode"]: c for c in report["cells"]}
    exact, plain = by_mode["equivariant"], by_mode["none"]
    # exact up to float32 rounding, which could flip an argmax tie on a rare voxel
    assert exact["consistency"]["max_change"] <= 1e-4
    assert exact["consistency"]["mask_dice"] >= 0.999
    assert abs(exact["given"]["dice_mean"] - exact["transformed"]["dice_mean"]) <= 1e-3
    assert plain["consistency"]["max_change"] > 0.0
    text = (out / "prior_report.md").read_text()
    assert "changed_voxels (%)" in text
    for line in report["verdict"]:
        assert f"- {line}" in text
