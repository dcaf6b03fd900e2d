"""``gdl-dna prior-report``: the CLI on the embedded planted-motif data, and the reverse-
complement scores on known cases (exactly equivariant: no change; untied: changes)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from gdl_dna.data import SequenceDataset
from gdl_dna.prior import score
from gdl_dna.task import DNATask

CONFIG = str(Path(__file__).resolve().parents[2] / "configs" / "dna" / "small.yaml")
TINY = dict(channels=[4, 4], irrep_channels=1, kernel_sizes=[5, 3], dilations=[1, 1],
            pool_sizes=[3, 1], hidden=[4], sequence_length=60, kmer=1, trunk_dropout=0.0)


def data(n: int = 24, length: int = 60) -> SimpleNamespace:
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), size=length)) for _ in range(n)]
    targets = (rng.random((n, 1)) < 0.5).astype(np.float32)
    return SimpleNamespace(datasets={"val": SequenceDataset(seqs, targets)})


@pytest.mark.parametrize("head", ["invariant", "strand"])
def test_equivariant_model_is_consistent_and_none_is_not(head):
    dm = data()
    exact = score(DNATask(symmetry="equivariant", head=head, **TINY).eval(), dm)
    assert exact.consistency["max_change"] <= 1e-5
    if head == "invariant":  # RC x keeps x's label only for an invariant target
        assert exact.given["auroc"] == pytest.approx(exact.transformed["auroc"], abs=1e-6)
    plain = score(DNATask(symmetry="none", head=head, **TINY).eval(), dm)
    assert plain.consistency["max_change"] > 1e-4
    assert set(plain.given) == set(plain.transformed) >= {"auroc", "mcc"}


def test_cli_grid_on_embedded_data(tmp_path):
    from gdl_dna.cli import SPEC

    from gdl_science.cli import run_app

    out = tmp_path / "report"
    code = run_app(SPEC, [
        "prior-report", "--config", CONFIG, "--modes", "equivariant", "none",
        "--fractions", "0.5", "--output", str(out), "--budget-scale", "0.5",
        "--data.embedded_n", "300", "--trainer.enable_progress_bar=false",
    ])
    assert code == 0
    report = json.loads((out / "prior_report.json").read_text())
    by_mode = {c["cell"]["mode"]: c for c in report["cells"]}
    assert by_mode["equivariant"]["consistency"]["max_change"] <= 1e-5
    assert by_mode["none"]["consistency"]["max_change"] > 1e-5
    assert by_mode["none"]["n_train"] == 120  # ceil(0.5 x 240 training records)
    assert report["verdict"][0].startswith("equivariant vs none: at 50%:")
    assert (out / "prior_report.png").stat().st_size > 1000
