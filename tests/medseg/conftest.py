"""Shared fixtures: a small phantom dataset, a private cache, and one trained checkpoint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from gdl_medseg.data.phantoms import PhantomConfig, write_dataset

REPO = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "gdl-medseg")


def run_cli(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run the real console script; returns the completed process (text output)."""
    full_env = {**os.environ, "GDL_NO_PROGRESS": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(
        [CLI, *args], cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("medseg_cache")
    old = os.environ.get("GDL_CACHE_DIR")
    os.environ["GDL_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("GDL_CACHE_DIR", None)
    else:
        os.environ["GDL_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def phantom_dataset(tmp_path_factory) -> Path:
    """4 phantoms of 24^3 at 1 mm, some stored LPS (so reorientation matters)."""
    return write_dataset(
        tmp_path_factory.mktemp("phantoms") / "Dataset001_Phantoms", PhantomConfig(cases=4, size=24)
    )


@pytest.fixture(scope="session")
def trained(tmp_path_factory, cache_dir, phantom_dataset) -> Path:
    """A checkpoint from `gdl-medseg fit --config configs/medseg/small.yaml` on the phantoms."""
    root = tmp_path_factory.mktemp("fit")
    res = run_cli(
        "fit",
        "--config",
        "configs/medseg/small.yaml",
        "--data.path",
        str(phantom_dataset),
        "--trainer.default_root_dir",
        str(root),
    )
    assert res.returncode == 0, res.stderr[-3000:]
    ckpts = sorted(root.rglob("best.ckpt"))
    assert ckpts, res.stderr[-2000:]
    return ckpts[0]
