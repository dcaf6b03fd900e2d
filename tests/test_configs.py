"""Every shipped config under configs/<app>/*.yaml runs through the real CLI.

One parametrised test: a new config is tested by being added. Each runs ``fit`` with
``fast_dev_run`` (one training and one validation batch) in this process, on one CPU
process (a cluster config's DDP strategy with a world of one), with the app's embedded
data made small. What is checked is that the YAML parses against the current classes
(typed choices, linked arguments) and that the model it describes trains a step.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from gdl_science.cli import run_app

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for p in (REPO / "configs").glob("*/*.yaml"))
# Per-app options that shrink the embedded default data, so each config takes seconds.
SMALL_DATA = {
    "dna": ["--data.embedded_n=64"],
    "medseg": ["--data.phantom_cases=4", "--data.phantom_size=24"],
    "molprop": ["--data.limit=12"],
}
ONE_CPU_PROCESS = [
    "--trainer.fast_dev_run=true",
    "--trainer.accelerator=cpu",
    "--trainer.devices=1",
    "--trainer.num_nodes=1",
    "--trainer.enable_progress_bar=false",
    "--data.num_workers=0",
]


def test_configs_are_found():
    apps = {p.parent.name for p in CONFIGS}
    assert {"dna", "medseg", "molprop"} <= apps
    assert all((REPO / "configs" / app / "default.yaml").exists() for app in apps)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_config_fits_one_step(config, tmp_path, monkeypatch, capsys):
    app = config.parent.name
    spec = importlib.import_module(f"gdl_{app}.cli").SPEC
    monkeypatch.chdir(tmp_path)
    args = [
        "fit",
        "--config",
        str(config),
        *SMALL_DATA.get(app, []),
        *ONE_CPU_PROCESS,
        f"--trainer.default_root_dir={tmp_path}",
    ]
    code = run_app(spec, args)
    err = capsys.readouterr().err
    assert code == 0, err[-3000:]
