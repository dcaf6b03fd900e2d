"""The RC benchmark's smoke mode runs every code path and writes its three outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_benchmark_quick_mode_writes_json_markdown_and_plot(tmp_path):
    script = str(ROOT / "benchmarks/dna_rc.py")
    cmd = [sys.executable, script, "--quick", "--results-dir", str(tmp_path)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    report = json.loads((tmp_path / "dna_rc_quick.json").read_text())
    modes = {s["mode"] for s in report["summary"]}
    assert modes == {"equivariant", "augment", "none"}
    assert all(0.0 <= s["auroc_mean"] <= 1.0 and s["seq_per_s"] > 0 for s in report["summary"])
    params = [s["parameters"] for s in report["summary"]]
    assert max(params) / min(params) < 1.1  # equal parameter counts across modes
    assert "| length |" in (tmp_path / "dna_rc_quick.md").read_text()
    assert (tmp_path / "dna_rc_quick.png").stat().st_size > 1000


DATA = ROOT / ".." / "shared" / "data" / "dna"


@pytest.mark.slow
def test_real_data_benchmark_quick_mode_writes_json_markdown_and_roc_plot(tmp_path):
    if not (DATA / "gue_prom300_tata" / "train.tsv").is_file():
        pytest.skip(f"GUE data not found at {DATA} (shared data is not checked out)")
    script = str(ROOT / "benchmarks/dna_real.py")
    cmd = [sys.executable, script, "--quick", "--tasks", "tata", "--modes", "strand", "none",
           "--results-dir", str(tmp_path)]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    report = json.loads((tmp_path / "dna_real_quick.json").read_text())
    assert {s["mode"] for s in report["summary"]} == {"strand", "none"}
    assert all(-1 <= s["mcc_mean"] <= 1 and 0 <= s["auroc_mean"] <= 1 for s in report["summary"])
    assert "| tata | strand |" in (tmp_path / "dna_real_quick.md").read_text()
    assert (tmp_path / "dna_real_quick.png").stat().st_size > 1000


def test_tied_net_does_twice_the_convolution_work_of_a_plain_net_of_equal_parameters():
    """The throughput claim's arithmetic: equal parameters -> about 2x the multiply-adds;
    equal width (both skipping the taps that read only padding) -> the same multiply-adds,
    so speed at equal width measures overhead."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from dna_throughput import conv_macs, default_arch, folded, live
        from gdl_dna.task import DNATask
    finally:
        sys.path.pop(0)
    arch = default_arch()
    eq = DNATask(symmetry="equivariant", sequence_length=101, **arch)
    none = DNATask(symmetry="none", sequence_length=101, **arch)
    wide = live(DNATask(symmetry="none", match_parameters=False, sequence_length=101, **arch))
    macs_eq, macs_none, macs_wide = (conv_macs(t, 101) for t in (eq, none, wide))
    assert 1.7 < macs_eq / macs_none < 2.3
    assert abs(macs_eq / macs_wide - 1.0) < 0.02
    # Folded kernels (fold=True) halve the tied net's multiply-adds: about none's again.
    macs_folded = conv_macs(folded(eq), 101)
    assert 0.4 < macs_folded / macs_eq < 0.55
    assert 0.8 < macs_folded / macs_none < 1.1


def test_throughput_breakdowns_time_every_stage_and_every_foldable_convolution():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from dna_throughput import default_arch, layer_times, stage_times
        from gdl_dna.task import DNATask
    finally:
        sys.path.pop(0)
    task = DNATask(symmetry="equivariant", sequence_length=31, **default_arch()).train()
    stages = stage_times({"eq": task}, 31, repeats=1)["eq"]
    assert next(iter(stages)) == task.net.stage_names[0]
    assert all(t > 0 for t in stages.values())
    layers = layer_times(task, 31, repeats=1)
    assert [r["layer"] for r in layers] == list(range(len(default_arch()["channels"])))
    assert all(r["dense_ms"] > 0 and r["folded_ms"] > 0 for r in layers)


def test_kmer_baseline_smoke_fits_both_feature_sets_and_reports_the_strand_gap(tmp_path):
    """The yardstick on tiny GUE-shaped files: RC-merged and strand-specific rows, and the
    gap line the docs cite."""
    from gdl_dna.data.planted_motifs import generate

    for folder, forward_only in (("gue_tf0", False), ("gue_prom300_tata", True)):
        (tmp_path / folder).mkdir()
        for split, seed in (("train", 0), ("dev", 1)):
            _, rows = generate(120, 80, seed=seed, forward_only=forward_only)
            (tmp_path / folder / f"{split}.tsv").write_text("id\tsequence\tlabel\n" + "".join(
                f"{rid}\t{seq}\t{labels[0]}\n" for rid, seq, labels in rows))  # fmt: skip
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from dna_kmer_baseline import main
    finally:
        sys.path.pop(0)
    main(["--data", str(tmp_path), "--results-dir", str(tmp_path), "--k", "2", "--l2", "1"])
    report = json.loads((tmp_path / "dna_kmer_baseline.json").read_text())
    assert {(r["task"], r["rc_merged"]) for r in report["rows"]} == {
        (t, m) for t in ("tf0", "tata") for m in (True, False)
    }
    assert all(0 <= r["dev_auroc"] <= 1 for r in report["rows"])
    text = (tmp_path / "dna_kmer_baseline.md").read_text()
    assert "- tf0: ΔAUROC" in text and "- tata: ΔAUROC" in text


def test_strand_test_benchmark_smoke_decides_planted_sets(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from dna_strand_test import main
    finally:
        sys.path.pop(0)
    main(["--sizes", "600", "--seeds", "0", "--no-gue", "--results-dir", str(tmp_path)])
    rows = json.loads((tmp_path / "dna_strand_test.json").read_text())["rows"]
    assert [(r["data"], r["head"]) for r in rows] == [
        ("planted motifs, both strands", "invariant"),
        ("planted motifs, one strand", "strand"),
    ]
    table = (tmp_path / "dna_strand_test.md").read_text()
    assert "| planted motifs, one strand | 600 | 0 |" in table


def test_selection_report_reads_each_rules_epoch_and_the_threshold_in_hindsight(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from dna_selection import main
    finally:
        sys.path.pop(0)
    # epoch 1 best AUROC, epoch 2 lowest loss, epoch 3 best MCC, last, and on the plateau
    curve = [
        {"epoch": 0, "step": 10, "auroc": 0.90, "loss": 0.50, "mcc": 0.40},
        {"epoch": 1, "step": 20, "auroc": 0.85, "loss": 0.40, "mcc": 0.50},
        {"epoch": 2, "step": 30, "auroc": 0.899, "loss": 0.45, "mcc": 0.60},
    ]
    # Probabilities that rank perfectly but all sit above 0.5: MCC 0 at 0.5, 1 at 0.7.
    probs, labels = [0.6, 0.65, 0.8, 0.9], [0, 0, 1, 1]
    run = {"task": "tata", "mode": "default", "seed": 0, "val_curve": curve,
           "dev_probs": probs, "dev_labels": labels}  # fmt: skip
    (tmp_path / "r.json").write_text(json.dumps({"runs": [run]}))
    main(["r", "--results-dir", str(tmp_path), "--name", "sel"])
    fit = json.loads((tmp_path / "sel.json").read_text())["fits"][0]
    rules = ("auroc", "plateau", "loss", "last", "mcc")
    assert [fit[f"epoch_by_{r}"] for r in rules] == [1, 3, 2, 3, 3]
    assert (fit["mcc_by_auroc"], fit["mcc_by_loss"]) == (0.40, 0.50)
    assert fit["mcc_at_0.5"] == 0.0 and fit["mcc_best_threshold"] == 1.0
    assert 0.65 <= fit["best_threshold"] < 0.8
    assert (
        "| r | tata | default | 1 | 0.400 ± 0.000 | 0.600 ± 0.000 | 0.500 ± 0.000 |"
        in (tmp_path / "sel.md").read_text()
    )


def test_compare_gives_the_paired_difference_and_an_interval_that_can_exclude_zero(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from dna_compare import main
    finally:
        sys.path.pop(0)
    import numpy as np

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400).tolist()
    perfect = [0.9 if v else 0.1 for v in labels]  # MCC 1
    noisy = [p if rng.random() < 0.7 else 1 - p for p in perfect]  # MCC about 0.4
    run = {"task": "tata", "dev_labels": labels}
    ensembles = [
        {"task": "tata", "mode": "default (ensemble of 3)", "dev_probs": noisy},
        {"task": "tata", "mode": "none (ensemble of 3)", "dev_probs": perfect},
    ]
    (tmp_path / "r.json").write_text(json.dumps({"runs": [run], "ensembles": ensembles}))
    main(["r", "--results-dir", str(tmp_path), "--name", "cmp", "--bootstrap", "200"])
    rows = json.loads((tmp_path / "cmp.json").read_text())["rows"]
    assert rows[0]["minus_reference"] == 0.0 and rows[0]["ci95"] == [0.0, 0.0]
    lo, hi = rows[1]["ci95"]
    assert rows[1]["mcc"] == 1.0 and 0 < lo < rows[1]["minus_reference"] < hi
    assert "| tata | r | none (ensemble of 3) | 1.000 |" in (tmp_path / "cmp.md").read_text()
