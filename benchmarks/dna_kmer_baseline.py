"""Benchmark: bag-of-k-mers logistic regression on the GUE dev sets, RC-merged and not.

A yardstick and the strand test's evidence on held-out data. Where a linear model on
k-mer frequencies is as good as the CNN, the CNN is not using more than k-mer
composition; where it is far worse, position and arrangement matter. Each task is fitted
twice: with RC-merged features (a k-mer and its reverse complement are one feature: a
model blind to the strand) and with strand-specific ones; the gap between the two on dev
is what ``head: auto`` measures on a held-out part of the training set
(``gdl_dna.strand_test``, whose features and fitter this script uses). Every k from 1 to
``--k``, standardised, L2-regularised logistic regression by L-BFGS, fitted on train and
scored on dev (MCC at 0.5, AUROC). Seconds to minutes on one core.

Usage:
    python benchmarks/dna_kmer_baseline.py [--tasks tf0 tata] [--k 7 6] [--l2 0.1 0.3 1 3]

Writes benchmarks/results/dna_kmer_baseline.json and .md (``--results-dir``, ``--name``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from gdl_dna.strand_test import base_codes, fit_linear, kmer_frequencies
from torchmetrics.functional import auroc, matthews_corrcoef

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("GDL_SHARED_DATA", ROOT.parent / "shared" / "data")) / "dna"
RESULTS = ROOT / "benchmarks" / "results"
TASKS = {"tf0": "gue_tf0", "tata": "gue_prom300_tata"}


def read_tsv(path: Path, limit: int | None) -> tuple[list[str], np.ndarray]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))[:limit]
    return [r["sequence"] for r in rows], np.array([[float(r["label"])] for r in rows], np.float32)


def run_task(name: str, k_max: int, l2s: list[float], data: Path, limit: int | None) -> list[dict]:
    train, y_train = read_tsv(data / TASKS[name] / "train.tsv", limit)
    dev, y_dev = read_tsv(data / TASKS[name] / "dev.tsv", limit)
    bases_train, bases_dev = base_codes(train), base_codes(dev)
    yt, yd = torch.from_numpy(y_train), torch.from_numpy(y_dev[:, 0]).long()
    rows = []
    for merge in (True, False):
        start = time.time()
        x_train = kmer_frequencies(bases_train, k_max, merge)
        x_dev = kmer_frequencies(bases_dev, k_max, merge)
        mean, std = x_train.mean(0), x_train.std(0) + 1e-3
        xt = torch.from_numpy((x_train - mean) / std)
        xd = torch.from_numpy((x_dev - mean) / std)
        for l2 in l2s:
            w = fit_linear(xt, yt, "binary", 1, l2=l2, max_iter=300)
            p = torch.sigmoid(torch.cat([xd, torch.ones(len(xd), 1)], 1) @ w)[:, 0]
            rows.append({
                "task": name, "k": f"1-{k_max}", "rc_merged": merge, "features": xt.shape[1],
                "l2": l2, "dev_mcc": float(matthews_corrcoef(p, yd, task="binary")),
                "dev_auroc": float(auroc(p, yd, task="binary")),
                "wall_s": round(time.time() - start, 1),
            })  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--k", nargs="+", type=int, default=[7, 6], help="longest k per task")
    parser.add_argument("--l2", nargs="+", type=float, default=[0.1, 0.3, 1.0, 3.0])
    parser.add_argument("--limit", type=int, default=None, help="first N rows of each file")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data", type=Path, default=DATA, help="folder with gue_* folders")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument("--name", default="dna_kmer_baseline")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if not args.data.is_dir():
        sys.exit(f"{args.data}: the shared GUE data is not here (set GDL_SHARED_DATA)")
    ks = dict(zip(args.tasks, args.k + args.k[-1:] * len(args.tasks)))
    rows = [r for t in args.tasks for r in run_task(t, ks[t], args.l2, args.data, args.limit)]
    command = ("python benchmarks/dna_kmer_baseline.py " + " ".join(argv or sys.argv[1:])).strip()
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / f"{args.name}.json").write_text(
        json.dumps({"command": command, "rows": rows}, indent=2) + "\n"
    )
    lines = [
        f"# k-mer logistic regression on GUE dev (`{command}`)", "",
        "| task | k | RC-merged | features | L2 | dev MCC | dev AUROC |",
        "|---|---|---|---:|---:|---:|---:|",
    ]  # fmt: skip
    lines += [
        f"| {r['task']} | {r['k']} | {r['rc_merged']} | {r['features']} | {r['l2']:g} | "
        f"{r['dev_mcc']:.3f} | {r['dev_auroc']:.3f} |" for r in rows
    ]  # fmt: skip
    lines += ["", "Best dev AUROC over L2, strand-specific minus RC-merged features:", ""]
    for task in args.tasks:
        best = {m: max(r["dev_auroc"] for r in rows if r["task"] == task and r["rc_merged"] == m)
                for m in (True, False)}  # fmt: skip
        lines.append(f"- {task}: \u0394AUROC {best[False] - best[True]:+.3f} "
                     f"({best[False]:.3f} vs {best[True]:.3f})")  # fmt: skip
    (args.results_dir / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
