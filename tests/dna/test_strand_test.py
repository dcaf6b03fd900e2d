"""``head: auto``: the strand test on planted data, and a fit that follows its decision."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from gdl_dna.cli import SPEC
from gdl_dna.data.planted_motifs import generate
from gdl_dna.strand_test import THRESHOLD, strand_test

from gdl_science.cli import run_app

ROOT = Path(__file__).resolve().parents[2]


def _planted(n: int, forward_only: bool, seed: int = 0) -> tuple[list[str], np.ndarray]:
    _, rows = generate(n, 200, seed=seed, forward_only=forward_only)
    return [r[1] for r in rows], np.array([r[2] for r in rows], dtype=np.float32)


@pytest.mark.parametrize("seed", [0, 1])
def test_motifs_on_both_strands_get_the_invariant_head(seed):
    decision = strand_test(*_planted(1000, forward_only=False, seed=seed), "binary")
    assert decision.head == "invariant" and decision.kmer == 3
    assert decision.gain <= THRESHOLD
    assert "-> invariant head, 3-mer input" in decision.evidence()


@pytest.mark.parametrize("seed", [0, 1])
def test_motifs_on_one_strand_get_the_strand_head(seed):
    decision = strand_test(*_planted(1000, forward_only=True, seed=seed), "binary")
    assert decision.head == "strand" and decision.kmer == 1
    assert decision.gain > THRESHOLD
    assert decision.evidence().startswith("strand test: strand-specific k-mer features beat")


def test_regression_and_multiclass_labels_are_tested_too():
    seqs, y = _planted(600, forward_only=True)
    noisy = y.sum(1, keepdims=True) + np.random.default_rng(0).normal(0, 0.1, (len(y), 1))
    reg = strand_test(seqs, noisy.astype(np.float32), "regression")
    assert reg.metric == "Pearson r" and reg.head == "strand"
    classes = y[:, 0].astype(np.int64) + 2 * y[:, 1].astype(np.int64)  # 4 classes
    classes[:5] = -1  # missing
    assert strand_test(seqs, classes, "multiclass").head == "strand"


def _fit(tmp_path: Path, capsys, monkeypatch, *extra: str) -> tuple[dict, str]:
    monkeypatch.chdir(tmp_path)
    args = ["fit", "--config", str(ROOT / "configs/dna/small.yaml"),
            "--trainer.default_root_dir", str(tmp_path / "run"), "--trainer.max_epochs", "1",
            "--trainer.enable_progress_bar", "false", *extra]  # fmt: skip
    monkeypatch.setattr(sys, "argv", ["gdl-dna", *args])
    assert run_app(SPEC, args) == 0
    ckpt = tmp_path / "run/lightning_logs/version_0/checkpoints/best.ckpt"
    hparams = torch.load(ckpt, map_location="cpu", weights_only=False)["hyper_parameters"]
    return hparams, capsys.readouterr().err


def _write_table(path, seqs, y):
    """A labelled TSV (id, sequence, three 0/1 label columns) of planted sequences."""
    path.write_text("id\tsequence\ta\tb\tc\n" + "".join(
        f"s{i}\t{s}\t" + "\t".join(str(int(v)) for v in row) + "\n"
        for i, (s, row) in enumerate(zip(seqs, y))
    ))  # fmt: skip
    return path


def test_fit_decides_the_head_prints_the_evidence_and_checkpoints_it(tmp_path, capsys, monkeypatch):
    seqs, y = _planted(600, forward_only=True)
    table = _write_table(tmp_path / "oriented.tsv", seqs, y)
    hparams, err = _fit(tmp_path, capsys, monkeypatch, "--data.path", str(table))
    assert hparams["head"] == "strand" and hparams["kmer"] == 1
    assert "-> strand head, one-hot input" in hparams["strand_evidence"]
    assert "gdl-dna: strand test: strand-specific k-mer features beat" in err
    ckpt = str(tmp_path / "run/lightning_logs/version_0/checkpoints/best.ckpt")
    monkeypatch.setattr(sys, "argv", ["gdl-dna", "check-symmetry", "--checkpoint", ckpt])
    assert run_app(SPEC, ["check-symmetry", "--checkpoint", ckpt]) == 0
    out = capsys.readouterr()
    assert "model: strand-equivariant: RC swaps the two strands' outputs" in out.err
    assert float(out.out.split("max_equivariance_error=")[1].split()[0]) < 1e-5


def test_an_explicit_head_skips_the_test_and_augment_is_invariant(tmp_path, capsys, monkeypatch):
    hparams, err = _fit(tmp_path, capsys, monkeypatch, "--model.symmetry", "augment")
    assert hparams["head"] == "invariant" and hparams["kmer"] == 3
    assert "strand test:" not in err and "symmetry augment" in hparams["strand_evidence"]


def test_the_decided_head_trains_exactly_as_the_same_head_given_explicitly(
    tmp_path, capsys, monkeypatch
):
    """The provisional ``auto`` network leaves the RNG alone: the no-flag fit is the
    explicit fit of the head it chose, weight for weight (same seed)."""
    seqs, y = _planted(300, forward_only=True)
    table = _write_table(tmp_path / "oriented.tsv", seqs, y)
    weights = []
    for name, extra in (("auto", []), ("explicit", ["--model.head", "strand"])):
        (tmp_path / name).mkdir()
        _fit(tmp_path / name, capsys, monkeypatch, "--data.path", str(table), *extra)
        ckpt = tmp_path / name / "run/lightning_logs/version_0/checkpoints/last.ckpt"
        weights.append(torch.load(ckpt, map_location="cpu", weights_only=False)["state_dict"])
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
