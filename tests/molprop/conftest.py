"""Shared fixtures of the molprop tests: a private conformer cache and small real data."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# One conformer cache for the whole test session (CLI subprocesses inherit it), never ~/.cache.
os.environ.setdefault("GDL_MOLPROP_CACHE", tempfile.mkdtemp(prefix="molprop_test_cache_"))

ESOL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "esol.csv"

# Real molecules (FreeSolv/ESOL-like) with measured-looking targets, plus every kind of bad row.
GOOD_ROWS = [
    ("ethanol", "CCO", "-0.77"),
    ("phenol", "c1ccccc1O", "0.0"),
    ("aspirin", "CC(=O)Oc1ccccc1C(=O)O", "-1.72"),
    ("caffeine", "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "-0.87"),
    ("toluene", "Cc1ccccc1", "-2.21"),
    ("naphthalene", "c1ccc2ccccc2c1", "-3.6"),
    ("acetone", "CC(C)=O", "0.43"),
    ("chlorobenzene", "Clc1ccccc1", "-2.38"),
    ("benzoic_acid", "OC(=O)c1ccccc1", "-1.55"),
    ("pyridine", "c1ccncc1", "0.76"),
    ("hexane", "CCCCCC", "-3.96"),
    ("glucose", "OCC1OC(O)C(O)C(O)C1O", "0.74"),
]
BAD_ROWS = [
    ("syntax", "C1CC", "1.0"),  # unclosed ring
    ("blank", "", "1.0"),
    ("with_name", "CCO ethanol", "1.0"),
    ("valence", "N(C)(C)(C)(C)C", "1.0"),
]
# A metal compound is a valid molecule: its iron goes to the atom table's "other" slot.
METAL = ("ferric_chloride", "[Fe](Cl)(Cl)Cl", "1.0")
SALT = ("sodium_benzoate", "[Na+].[O-]C(=O)c1ccccc1", "0.5")


def write_csv(path: Path, rows, header=("id", "smiles", "logS")) -> Path:
    import csv

    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """One compute thread: with 2 threads on a loaded 2-core machine, a training step of
    the tiny test model took 0.74 s instead of 13 ms (OpenMP oversubscription, measured)."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture
def good_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "mols.csv", GOOD_ROWS)


@pytest.fixture
def mixed_csv(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "mixed.csv", [*GOOD_ROWS[:4], *BAD_ROWS, METAL, SALT, *GOOD_ROWS[4:]]
    )


@pytest.fixture
def esol_csv() -> Path:
    if not ESOL.is_file():
        pytest.skip(f"shared real data {ESOL} is absent (only on the project's machines)")
    return ESOL
