"""The shared CLI uses LightningCLI's public hooks only, within the pinned Lightning range.

If a Lightning upgrade changes what these rely on, these tests fail with a line saying
what changed, rather than fits that silently lose best.ckpt or the ensemble loop.
"""

from __future__ import annotations

import re
from pathlib import Path

import lightning
import pytest
from lightning.pytorch.cli import LightningCLI

from gdl_science.cli import run_app
from gdl_science.cli.lightning import GDLLightningCLI
from tests.core.toy_app import SPEC

ROOT = Path(__file__).resolve().parents[3]


def test_no_private_lightningcli_method_is_overridden():
    private = [
        name for name in vars(GDLLightningCLI)
        if name.startswith("_") and not name.startswith("__") and hasattr(LightningCLI, name)
    ]
    assert private == [], f"GDLLightningCLI overrides LightningCLI internals: {private}"


def test_installed_lightning_is_in_the_pinned_range():
    tomllib = pytest.importorskip("tomllib", reason="Python 3.11+ reads pyproject.toml")
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (pin,) = [d for d in deps if re.match(r"lightning\b", d)]
    low, high = re.fullmatch(r"lightning>=([\d.]+),<([\d.]+)", pin).groups()

    def version(text: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", text)[:3])

    assert version(low) <= version(lightning.__version__) < version(high), (
        f"lightning {lightning.__version__} is outside the tested range {pin}: rerun "
        "tests/core/cli and move the pin"
    )


def test_lightningcli_runs_the_cli_fit_method(tmp_path, monkeypatch):
    # The ensemble loop lives in GDLLightningCLI.fit, which LightningCLI runs in place of
    # Trainer.fit because the CLI has a method named after the subcommand.
    calls = []
    original = GDLLightningCLI.fit

    def spy(self, model, **kwargs):
        calls.append(sorted(kwargs))
        return original(self, model, **kwargs)

    monkeypatch.setattr(GDLLightningCLI, "fit", spy)
    code = run_app(SPEC, ["fit", "--trainer.max_epochs=1", f"--trainer.default_root_dir={tmp_path}",
                          "--trainer.enable_progress_bar=false", "--model.width=4"])
    assert code == 0
    assert calls and "datamodule" in calls[0] and "ckpt_path" in calls[0], (
        "LightningCLI no longer dispatches `fit` to GDLLightningCLI.fit (or changed its "
        f"arguments: {calls})"
    )
    assert list(tmp_path.glob("**/checkpoints/best.ckpt"))
