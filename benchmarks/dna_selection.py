"""Which epoch, which threshold: the per-fit dev MCC of a ``dna_real`` report re-read.

For every fit in the given ``benchmarks/results/<name>.json`` reports (written by
``benchmarks/dna_real.py``, which keeps each fit's per-epoch dev scores and best.ckpt's
dev probabilities), this prints what dev MCC each checkpoint-selection rule would have
given (the epoch of best dev AUROC, fit's default; the latest epoch within 0.002 of it,
fit's ``--model.selection_tolerance 0.002``; of lowest dev loss; the last epoch; and the
best epoch for MCC itself, an upper bound), the reports' ensemble rows, and, where the
probabilities are kept,
whether the 0.5 threshold is the cause of MCC noise: the mean predicted probability
against the positive rate, and the MCC at the best threshold in hindsight.

Usage:
    python benchmarks/dna_selection.py dna_real_default_ema [more report names]

Writes benchmarks/results/dna_selection.json and .md (or ``--name``).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
RULES = ("auroc", "plateau", "loss", "last", "mcc")  # "mcc" picks on the target itself
PLATEAU_TOLERANCE = 0.002  # the "plateau" rule: --model.selection_tolerance 0.002


def mcc(pred: np.ndarray, y: np.ndarray) -> float:
    tp, tn = float(((pred == 1) & (y == 1)).sum()), float(((pred == 0) & (y == 0)).sum())
    fp, fn = float(((pred == 1) & (y == 0)).sum()), float(((pred == 0) & (y == 1)).sum())
    denom = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return float((tp * tn - fp * fn) / denom) if denom > 0 else 0.0


def selected(curve: list[dict], rule: str) -> dict:
    """The validation row each rule keeps (ties: the earliest, as ModelCheckpoint)."""
    if rule == "last":
        return curve[-1]
    if rule == "plateau":  # the latest epoch within the tolerance of the best auROC
        top = max(r["auroc"] for r in curve)
        return [r for r in curve if r["auroc"] >= top - PLATEAU_TOLERANCE][-1]
    if rule == "loss":
        return min(curve, key=lambda r: r["loss"])
    return max(curve, key=lambda r: r[rule])  # ties: the earliest


def calibration(probs: list[float], labels: list[int]) -> dict[str, float]:
    p, y = np.asarray(probs), np.asarray(labels)
    grid = np.linspace(0.05, 0.95, 91)
    scores = [mcc((p > t).astype(int), y) for t in grid]
    i = int(np.argmax(scores))
    return {"mean_prob": float(p.mean()), "positive_rate": float(y.mean()),
            "frac_pred_positive": float((p > 0.5).mean()),
            "mcc_at_0.5": mcc((p > 0.5).astype(int), y),
            "best_threshold": float(grid[i]), "mcc_best_threshold": float(scores[i])}  # fmt: skip


def analyse(report: dict, source: str) -> list[dict]:
    rows = []
    for r in report["runs"]:
        curve = r.get("val_curve") or []
        if not curve:
            continue
        row = {"report": source, "task": r["task"], "mode": r["mode"], "seed": r["seed"],
               "epochs": len(curve)}  # fmt: skip
        for rule in RULES:
            pick = selected(curve, rule)
            row[f"mcc_by_{rule}"], row[f"epoch_by_{rule}"] = pick["mcc"], int(pick["epoch"]) + 1
        if r.get("dev_probs"):
            row |= calibration(r["dev_probs"], r["dev_labels"])
        rows.append(row)
    return rows


def summary(rows: list[dict]) -> list[dict]:
    out = []
    for key in dict.fromkeys((r["report"], r["task"], r["mode"]) for r in rows):
        rs = [r for r in rows if (r["report"], r["task"], r["mode"]) == key]
        s = {"report": key[0], "task": key[1], "mode": key[2], "seeds": len(rs)}
        for rule in RULES:
            vals = [r[f"mcc_by_{rule}"] for r in rs]
            s[f"mcc_by_{rule}"] = (statistics.fmean(vals), statistics.pstdev(vals))
        out.append(s)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", help="dna_real report names in benchmarks/results")
    parser.add_argument("--name", default="dna_selection")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument("--no-calibration", action="store_true", help="skip the per-fit table")
    args = parser.parse_args(argv)
    rows, ensembles = [], []
    for name in args.reports:
        path = args.results_dir / f"{name}.json"
        if not path.is_file():
            raise SystemExit(f"{path}: no such report (run benchmarks/dna_real.py --name {name})")
        report = json.loads(path.read_text())
        rows += analyse(report, name)
        ensembles += [{"report": name, **{k: e[k] for k in ("task", "mode", "mcc", "auroc")}}
                      for e in report.get("ensembles", [])]  # fmt: skip
    if not rows:
        raise SystemExit("no fit in these reports kept its per-epoch dev scores (val_curve)")
    summ = summary(rows)
    (args.results_dir / f"{args.name}.json").write_text(
        json.dumps(
            {"reports": args.reports, "fits": rows, "summary": summ, "ensembles": ensembles},
            indent=1,
        )
    )
    lines = [f"# {args.name}: `python benchmarks/dna_selection.py {' '.join(args.reports)}`", "",
             "Dev MCC (threshold 0.5) of the epoch each rule keeps; mean ± sd over seeds. "
             "`plateau`: the latest epoch within 0.002 of the best AUROC. "
             "`mcc` picks on dev MCC itself (an upper bound, not a rule to use).", "",
             "| report | task | mode | seeds | by AUROC | plateau | by loss | last | by MCC |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for s in summ:
        cells = " | ".join(f"{s[f'mcc_by_{r}'][0]:.3f} ± {s[f'mcc_by_{r}'][1]:.3f}" for r in RULES)
        lines.append(f"| {s['report']} | {s['task']} | {s['mode']} | {s['seeds']} | {cells} |")
    if ensembles:
        header = ["| report | task | ensemble | MCC | AUROC |", "|---|---|---|---:|---:|"]
        lines += ["", "The reports' ensembles (seeds' checkpoints averaged by predict):", ""]
        lines += header
        lines += [f"| {e['report']} | {e['task']} | {e['mode']} | {e['mcc']:.3f} "
                  f"| {e['auroc']:.3f} |" for e in ensembles]  # fmt: skip
    calib = [] if args.no_calibration else [r for r in rows if "mean_prob" in r]
    if calib:
        lines += ["", "best.ckpt's dev probabilities: is the 0.5 threshold off?", "",
                  "| report | task | mode | seed | mean p | positive rate | p > 0.5 | MCC at 0.5 "
                  "| best threshold | MCC there |",
                  "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
        for r in calib:
            lines.append(
                f"| {r['report']} | {r['task']} | {r['mode']} | {r['seed']} "
                f"| {r['mean_prob']:.3f} | {r['positive_rate']:.3f} "
                f"| {r['frac_pred_positive']:.3f} | {r['mcc_at_0.5']:.3f} "
                f"| {r['best_threshold']:.2f} | {r['mcc_best_threshold']:.3f} |"
            )
    (args.results_dir / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
