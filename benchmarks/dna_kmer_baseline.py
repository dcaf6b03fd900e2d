"""Benchmark: a bag-of-k-mers logistic regression on the GUE dev sets, as a yardstick.

Where a linear model on k-mer counts is as good as the CNN, the CNN is not using more
than k-mer composition; where it is far worse, position and arrangement matter. The
counts are of canonical k-mers (a k-mer and its reverse complement are one feature) on
strand-symmetric tasks and of plain k-mers on strand-specific ones; every k from 1 to
``--k``, standardised, L2-regularised logistic regression fitted by L-BFGS on train and
scored on dev (MCC at 0.5, AUROC). Seconds on one core.

Usage:
    python benchmarks/dna_kmer_baseline.py [--tasks tf0 tata] [--l2 0.1 0.3 1 3]

Writes benchmarks/results/dna_kmer_baseline.json and .md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torchmetrics.functional import auroc, matthews_corrcoef

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "dna"
RESULTS = ROOT / "benchmarks" / "results"
# name -> (folder, longest k, strand-symmetric labels?)
TASKS = {"tf0": ("gue_tf0", 7, True), "tata": ("gue_prom300_tata", 6, False)}


def read_tsv(path: Path) -> tuple[list[str], np.ndarray]:
    seqs, labels = [], []
    with open(path) as fh:
        header = fh.readline().rstrip("\n").split("\t")
        s_col, y_col = header.index("sequence"), header.index("label")
        for line in fh:
            cells = line.rstrip("\n").split("\t")
            seqs.append(cells[s_col].upper())
            labels.append(int(cells[y_col]))
    return seqs, np.array(labels)


def encode(seqs: list[str]) -> np.ndarray:
    """(N, L) base codes 0-3, 4 for N/padding."""
    lut = np.full(256, 4, np.int64)
    for i, c in enumerate("ACGT"):
        lut[ord(c)] = i
    out = np.full((len(seqs), max(map(len, seqs))), 4, np.int64)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = lut[np.frombuffer(s.encode(), np.uint8)]
    return out


def kmer_columns(k: int, merge_rc: bool) -> tuple[np.ndarray, int]:
    """k-mer code -> feature column (a k-mer and its RC share one when ``merge_rc``)."""
    codes = np.arange(4**k)
    digits = np.stack([(codes // 4 ** (k - 1 - i)) % 4 for i in range(k)], 1)
    rc = (3 - digits[:, ::-1]) @ (4 ** np.arange(k - 1, -1, -1))
    canonical = np.minimum(codes, rc) if merge_rc else codes
    _, column = np.unique(canonical, return_inverse=True)
    return column, int(column.max()) + 1


def kmer_counts(bases: np.ndarray, k_max: int, merge_rc: bool) -> np.ndarray:
    """(N, L) codes -> (N, F) counts of every k-mer, k = 1..k_max (windows with N skipped)."""
    n, length = bases.shape
    blocks = []
    for k in range(1, k_max + 1):
        column, width = kmer_columns(k, merge_rc)
        span = length - k + 1
        code = np.zeros((n, span), np.int64)
        unknown = np.zeros((n, span), bool)
        for i in range(k):
            window = bases[:, i : i + span]
            code = code * 4 + np.minimum(window, 3)
            unknown |= window == 4
        rows = np.broadcast_to(np.arange(n)[:, None], code.shape)
        counts = np.zeros((n, width), np.float32)
        np.add.at(counts, (rows[~unknown], column[code[~unknown]]), 1.0)
        blocks.append(counts)
    return np.concatenate(blocks, 1)


def fit_logistic(x: torch.Tensor, y: torch.Tensor, l2: float) -> tuple[torch.Tensor, torch.Tensor]:
    w = torch.zeros(x.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=300, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w + b, y)
        loss = loss + 0.5 * l2 * (w**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach(), b.detach()


def run_task(name: str, l2s: list[float]) -> list[dict]:
    folder, k_max, symmetric = TASKS[name]
    train, y_train = read_tsv(DATA / folder / "train.tsv")
    dev, y_dev = read_tsv(DATA / folder / "dev.tsv")
    start = time.time()
    x_train = kmer_counts(encode(train), k_max, symmetric)
    x_dev = kmer_counts(encode(dev), k_max, symmetric)
    mean, std = x_train.mean(0), x_train.std(0) + 1e-3
    xt = torch.tensor((x_train - mean) / std)
    xd = torch.tensor((x_dev - mean) / std)
    yt, yd = torch.tensor(y_train, dtype=torch.float32), torch.tensor(y_dev)
    rows = []
    for l2 in l2s:
        w, b = fit_logistic(xt, yt, l2)
        p = torch.sigmoid(xd @ w + b)
        rows.append({
            "task": name, "k": f"1-{k_max}", "rc_merged": symmetric, "features": xt.shape[1],
            "l2": l2, "dev_mcc": float(matthews_corrcoef(p, yd, task="binary")),
            "dev_auroc": float(auroc(p, yd, task="binary")),
            "wall_s": round(time.time() - start, 1),
        })
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--l2", nargs="+", type=float, default=[0.1, 0.3, 1.0, 3.0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if not DATA.is_dir():
        sys.exit(f"{DATA}: the shared GUE data is not here")
    rows = [r for t in args.tasks for r in run_task(t, args.l2)]
    command = "python benchmarks/dna_kmer_baseline.py " + " ".join(sys.argv[1:])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "dna_kmer_baseline.json").write_text(
        json.dumps({"command": command.strip(), "rows": rows}, indent=2) + "\n"
    )
    lines = [
        f"# k-mer logistic regression on GUE dev (`{command.strip()}`)", "",
        "| task | k | RC-merged | features | L2 | dev MCC | dev AUROC |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['task']} | {r['k']} | {r['rc_merged']} | {r['features']} | {r['l2']:g} | "
        f"{r['dev_mcc']:.3f} | {r['dev_auroc']:.3f} |" for r in rows
    ]
    (RESULTS / "dna_kmer_baseline.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
