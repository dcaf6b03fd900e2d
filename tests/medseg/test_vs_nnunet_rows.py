"""benchmarks/medseg_vs_nnunet.py refuses a bad --rows before it builds or trains anything."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load():
    spec = importlib.util.spec_from_file_location("vs", BENCHMARKS / "medseg_vs_nnunet.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("rows", ["ours:foo", "ours,ours:equivariant", "nnunet,nnU-Net"])
def test_bad_rows_are_refused_in_one_line(tmp_path, rows):
    bench = _load()
    with pytest.raises(SystemExit) as err:
        bench.main(["--rows", rows, "--data", str(tmp_path / "nowhere"),
                    "--work", str(tmp_path / "w"), "--venv", str(tmp_path / "venv")])
    assert f"--rows {rows}: each row once" in str(err.value)
    assert not (tmp_path / "w").exists() and not (tmp_path / "venv").exists()
