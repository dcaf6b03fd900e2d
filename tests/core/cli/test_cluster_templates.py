"""The SLURM templates are valid bash, and the command they run parses for every app."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.ddp_helpers import REPO, app_command, run_cli

TEMPLATES = sorted((REPO / "configs" / "slurm").glob("*.sbatch"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_sbatch_template_is_valid_bash(template):
    assert subprocess.run(["bash", "-n", str(template)], capture_output=True).returncode == 0
    text = template.read_text()
    assert re.search(r"^#SBATCH --nodes=", text, re.M)


@pytest.mark.parametrize("app", ["dna", "molprop", "medseg"])
def test_cluster_config_parses_with_the_template_overrides(app):
    config = REPO / "configs" / app / "cluster.yaml"
    if not config.exists():
        pytest.fail(f"{config} is missing: every app ships a cluster config")
    # What train_ddp.sbatch runs on 2 nodes x 4 GPUs, stopped after parsing.
    out = run_cli(
        [
            *app_command(app),
            "fit",
            "--config",
            str(config),
            "--trainer.num_nodes",
            "2",
            "--trainer.devices",
            "4",
            "--print_config",
        ],
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "num_nodes: 2" in out.stdout and "strategy: ddp" in out.stdout
