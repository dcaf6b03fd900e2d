"""Two CPU processes (gloo DDP) train the equivariant U-Net through the real CLI."""

from __future__ import annotations

import re

import pytest

from .conftest import run_cli

pytestmark = [pytest.mark.slow, pytest.mark.ddp]


def test_two_process_ddp_fit_then_exact_checkpoint(phantom_dataset, tmp_path):
    res = run_cli(
        "fit",
        "--config",
        "configs/medseg/cluster.yaml",
        "--data.path",
        str(phantom_dataset),
        "--data.cache_dir",
        str(tmp_path / "cache"),
        "--trainer.accelerator",
        "cpu",
        "--trainer.devices",
        "2",
        "--trainer.num_nodes",
        "1",
        "--trainer.max_epochs",
        "1",
        "--data.samples_per_epoch",
        "4",
        "--data.val_samples",
        "2",
        "--data.num_workers",
        "0",
        "--model.channels",
        "[24, 24, 24]",
        "--data.patch_size",
        "17",
        "--trainer.default_root_dir",
        str(tmp_path),
        timeout=900,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    ckpt = next(tmp_path.rglob("last.ckpt"))
    res = run_cli("check-symmetry", "--checkpoint", str(ckpt))
    assert res.returncode == 0, res.stderr[-2000:]
    assert float(re.search(r"max_relative_equivariance_error=(\S+)", res.stdout).group(1)) < 1e-5
