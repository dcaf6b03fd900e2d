"""Report numbers, table and verdict lines agree with the records they come from."""

from __future__ import annotations

import math

from gdl_science.prior_report import CellScores, PriorHooks, compare, summarise, verdict
from gdl_science.prior_report.hooks import prediction_change
from gdl_science.prior_report.plot import plot_report
from gdl_science.prior_report.report import markdown_report

HOOKS = PriorHooks(
    group="reverse complement", metric="mcc", higher_is_better=True, change="mean_change",
    change_label="the probability moves", score=lambda t, d: CellScores({}, {}, {}),
)


def record(i, mode, fraction, seed, mcc, rc_mcc, change):
    return {
        "cell": {"index": i, "mode": mode, "fraction": fraction, "seed": seed},
        "n_train": round(100 * fraction), "fit_seconds": 1.0,
        "given": {"mcc": mcc}, "transformed": {"mcc": rc_mcc},
        "consistency": {"mean_change": change, "max_change": 2 * change},
    }


RECORDS = [
    record(0, "equivariant", 0.1, 1, 0.60, 0.60, 0.0),
    record(1, "none", 0.1, 1, 0.50, 0.40, 0.05),
    record(2, "equivariant", 0.1, 2, 0.62, 0.62, 0.0),
    record(3, "none", 0.1, 2, 0.52, 0.42, 0.07),
    record(4, "equivariant", 1.0, 1, 0.80, 0.80, 0.0),
    record(5, "none", 1.0, 1, 0.82, 0.70, 0.03),
    record(6, "equivariant", 1.0, 2, 0.84, 0.84, 0.0),
    record(7, "none", 1.0, 2, 0.78, 0.66, 0.05),
]


def test_summary_is_mean_and_sample_sd_over_seeds():
    rows = summarise(RECORDS)
    eq = next(r for r in rows if r["mode"] == "equivariant" and r["fraction"] == 0.1)
    assert eq["given"]["mcc"]["mean"] == 0.61 and eq["given"]["mcc"]["n"] == 2
    assert math.isclose(eq["given"]["mcc"]["sd"], math.sqrt(2 * 0.01**2))


def test_verdict_follows_the_numbers():
    rows = summarise(RECORDS)
    lines = verdict(rows, HOOKS)
    given = next(x for x in lines if x.startswith("equivariant vs none:"))
    # 10%: +0.10 against an sd of 0.014 -> pays; 100%: +0.02 against sd 0.028 -> level
    assert "at 10%: pays (+0.100 mcc; 2 seeds, sd 0.014)" in given
    assert "at 100%: level (+0.020 mcc; 2 seeds, sd 0.028)" in given
    under = next(x for x in lines if "under reverse complement:" in x)
    assert "at 10%: pays (+0.200 mcc" in under
    last = lines[-1]
    assert last.startswith("Under reverse complement, the probability moves by (mean mean_change")
    assert "equivariant 0 (max 0)" in last and "none 0.05 (max 0.12)" in last
    assert compare({"mean": 0.5, "sd": 0, "n": 1}, {"mean": 0.52, "sd": 0, "n": 1}, True,
                   0.01)[0] == "loses"


def test_markdown_and_png(tmp_path):
    rows = summarise(RECORDS)
    text = markdown_report(rows, HOOKS, ["header"], ["cell_9_none_f1_s3"])
    assert "| equivariant | 0.1 | 10 | 0.610 ± 0.014 | 0.610 ± 0.014 |" in text
    for line in verdict(rows, HOOKS):
        assert f"- {line}" in text
    assert "Not finished (1 cells): cell_9_none_f1_s3" in text
    from PIL import Image

    path = plot_report(rows, HOOKS, tmp_path / "r.png")
    with Image.open(path) as img:
        img.load()
        assert img.size[0] > 600


def test_prediction_change():
    import torch

    a = torch.tensor([[0.1, 0.5], [0.2, float("nan")]])
    b = torch.tensor([[0.1, 0.7], [0.5, 0.3]])
    out = prediction_change(a, b)
    assert math.isclose(out["max_change"], 0.3, rel_tol=1e-6)
    assert math.isclose(out["mean_change"], 0.5 / 3, rel_tol=1e-6)
