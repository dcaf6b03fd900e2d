"""How far apart are two dna ensembles on GUE dev, beyond the noise of a finite dev set?

For each task, every ensemble row in the given ``benchmarks/results/<name>.json`` reports
(written by ``benchmarks/dna_real.py``, which keeps each ensemble's dev probabilities)
is compared with the reference row (``--reference``, by default the first row whose mode
starts with ``default (ensemble``): the MCC difference at threshold 0.5 and its paired
bootstrap interval (dev sequences resampled with replacement, the same resample for
both, so the shared difficulty of each sequence cancels). A difference whose 95%
interval spans 0 is not evidence that one ensemble is better on data like dev. The
reports keep probabilities to 4 decimals, so an MCC here can differ by ~0.002 from the
one ``dna_real`` printed (a probability just above 0.5 that rounds to 0.5).

Usage:
    python benchmarks/dna_compare.py dna_real_default_final dna_real_tf0_modes_final \
        dna_real_tata_modes_final --name dna_compare_final

Writes benchmarks/results/dna_compare.json and .md (or ``--name``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def mcc(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    """MCC of (..., n) 0/1 predictions against (..., n) labels, vectorised over the front."""
    tp, tn = ((pred == 1) & (y == 1)).sum(-1), ((pred == 0) & (y == 0)).sum(-1)
    fp, fn = ((pred == 1) & (y == 0)).sum(-1), ((pred == 0) & (y == 1)).sum(-1)
    tp, tn, fp, fn = (v.astype(float) for v in (tp, tn, fp, fn))
    denom = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return np.where(denom > 0, (tp * tn - fp * fn) / np.where(denom > 0, denom, 1), 0.0)


def paired_bootstrap(
    p_a: np.ndarray, p_b: np.ndarray, y: np.ndarray, n_boot: int, seed: int
) -> tuple[float, float, float]:
    """(MCC(a) - MCC(b), 2.5% and 97.5% quantiles of the paired bootstrap difference)."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(y), (n_boot, len(y)))  # (n_boot, n) resampled sequences
    a, b = (p_a > 0.5).astype(int), (p_b > 0.5).astype(int)
    diff = mcc(a[idx], y[idx]) - mcc(b[idx], y[idx])
    point = float(mcc(a, y) - mcc(b, y))
    return point, float(np.quantile(diff, 0.025)), float(np.quantile(diff, 0.975))


def rows_of(reports: list[str], results: Path) -> dict[str, list[dict]]:
    """task -> its ensemble rows (report, mode, probabilities) and the task's dev labels."""
    by_task: dict[str, list[dict]] = {}
    for name in reports:
        path = results / f"{name}.json"
        if not path.is_file():
            raise SystemExit(f"{path}: no such report (run benchmarks/dna_real.py --name {name})")
        report = json.loads(path.read_text())
        labels = {r["task"]: r["dev_labels"] for r in report["runs"] if r.get("dev_labels")}
        for e in report.get("ensembles", []):
            if e.get("dev_probs") and e["task"] in labels:
                row = {"report": name, "mode": e["mode"], "probs": e["dev_probs"]}
                by_task.setdefault(e["task"], []).append(row | {"labels": labels[e["task"]]})
    return by_task


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", help="dna_real report names in benchmarks/results")
    parser.add_argument("--reference", default="default (ensemble of 3)", help="mode to compare to")
    parser.add_argument("--bootstrap", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="dna_compare")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    out = []
    for task, rows in rows_of(args.reports, args.results_dir).items():
        ref = next((r for r in rows if r["mode"] == args.reference), None)
        if ref is None:
            continue
        y = np.asarray(ref["labels"])
        for r in rows:
            if len(r["labels"]) != len(y) or r["labels"] != ref["labels"]:
                raise SystemExit(f"{r['report']}: {task} dev labels differ from the reference's")
            d, lo, hi = paired_bootstrap(
                np.asarray(r["probs"]), np.asarray(ref["probs"]), y, args.bootstrap, args.seed
            )
            out.append({"task": task, "report": r["report"], "mode": r["mode"],
                        "mcc": float(mcc((np.asarray(r["probs"]) > 0.5).astype(int), y)),
                        "minus_reference": d, "ci95": [lo, hi]})  # fmt: skip
    if not out:
        raise SystemExit(f"no ensemble row named {args.reference!r} with dev probabilities")
    (args.results_dir / f"{args.name}.json").write_text(
        json.dumps({"reports": args.reports, "reference": args.reference, "rows": out}, indent=1)
    )
    lines = [
        f"# {args.name}: `python benchmarks/dna_compare.py {' '.join(args.reports)}`", "",
        f"Dev MCC (threshold 0.5) of each ensemble, and its difference from `{args.reference}` "
        f"of the same task with a paired bootstrap 95% interval ({args.bootstrap} resamples "
        "of the dev sequences).", "",
        "| task | report | ensemble | MCC | minus reference | 95% interval |",
        "|---|---|---|---:|---:|---|",
    ]  # fmt: skip
    for r in out:
        lo, hi = r["ci95"]
        lines.append(f"| {r['task']} | {r['report']} | {r['mode']} | {r['mcc']:.3f} | "
                     f"{r['minus_reference']:+.3f} | [{lo:+.3f}, {hi:+.3f}] |")  # fmt: skip
    (args.results_dir / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
