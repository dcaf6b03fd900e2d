"""Benchmark: what carries the signal in GUE prom300 TATA? Linear probes on dev.

Logistic regressions (L-BFGS, L2 1e-3, standardised features) trained on ``train.tsv``
and scored on ``dev.tsv`` (MCC at 0.5), on hand-made features:

- positional one-hot: the base at every position (300 x 4), or base counts in 10 bp or
  50 bp bins: how much does *where* a base is matter, at what resolution?
- whole-sequence 3-mer counts, as read (strand-specific) or summed with their reverse
  complements (RC-symmetrised): how much does strand matter for composition alone?

Usage: python benchmarks/dna_tata_probe.py   (about a minute on one core)
Writes benchmarks/results/dna_tata_probe.json and .md.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("GDL_SHARED_DATA", ROOT / ".." / "shared" / "data")) / "dna"
RESULTS = ROOT / "benchmarks" / "results"
BASES = {"A": 0, "C": 1, "G": 2, "T": 3}


def load(name: str) -> tuple[list[str], np.ndarray]:
    with open(DATA / "gue_prom300_tata" / name) as fh:
        rows = [line.rstrip("\n").split("\t") for line in fh]
    return [r[1] for r in rows[1:]], np.array([int(r[2]) for r in rows[1:]])


def positional(seqs: list[str], bin_size: int) -> np.ndarray:
    x = np.zeros((len(seqs), 300 // bin_size, 4), dtype=np.float32)
    for n, s in enumerate(seqs):
        for i, c in enumerate(s[:300]):
            if c in BASES:
                x[n, i // bin_size, BASES[c]] += 1
    return x.reshape(len(seqs), -1)


def kmer_counts(seqs: list[str], k: int, rc_symmetric: bool) -> np.ndarray:
    index = {"".join(p): i for i, p in enumerate(itertools.product("ACGT", repeat=k))}
    comp = str.maketrans("ACGT", "TGCA")
    x = np.zeros((len(seqs), len(index)), dtype=np.float32)
    for n, s in enumerate(seqs):
        for i in range(len(s) - k + 1):
            words = [s[i : i + k]] + ([s[i : i + k].translate(comp)[::-1]] if rc_symmetric else [])
            for w in words:
                if w in index:
                    x[n, index[w]] += 1
    return x


def probe_mcc(xtr: np.ndarray, ytr: np.ndarray, xdv: np.ndarray, ydv: np.ndarray) -> float:
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-6
    a, b = torch.tensor((xtr - mu) / sd), torch.tensor((xdv - mu) / sd)
    w = torch.zeros(a.shape[1], requires_grad=True)
    c = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([w, c], max_iter=200)
    y = torch.tensor(ytr).float()

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(a @ w + c, y)
        loss = loss + 1e-3 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    p = ((b @ w + c).detach().numpy() > 0).astype(int)
    tp, tn = ((p == 1) & (ydv == 1)).sum(), ((p == 0) & (ydv == 0)).sum()
    fp, fn = ((p == 1) & (ydv == 0)).sum(), ((p == 0) & (ydv == 1)).sum()
    denom = np.sqrt(float((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))
    return float((tp * tn - fp * fn) / denom) if denom else 0.0


def main() -> None:
    torch.set_num_threads(1)
    (tr, ytr), (dv, ydv) = load("train.tsv"), load("dev.tsv")
    probes = {
        "positional one-hot (1 bp)": lambda s: positional(s, 1),
        "positional base counts (10 bp bins)": lambda s: positional(s, 10),
        "positional base counts (50 bp bins)": lambda s: positional(s, 50),
        "3-mer counts, strand-specific": lambda s: kmer_counts(s, 3, False),
        "3-mer counts, RC-symmetrised": lambda s: kmer_counts(s, 3, True),
    }
    rows = [{"features": name, "dev_mcc": probe_mcc(f(tr), ytr, f(dv), ydv)}
            for name, f in probes.items()]  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {"command": "python benchmarks/dna_tata_probe.py", "rows": rows}
    (RESULTS / "dna_tata_probe.json").write_text(json.dumps(report, indent=1))
    lines = ["# GUE prom300 TATA: linear probes, dev MCC (`python benchmarks/dna_tata_probe.py`)",
             "", "| features | dev MCC |", "|---|---:|"]  # fmt: skip
    lines += [f"| {r['features']} | {r['dev_mcc']:.3f} |" for r in rows]
    (RESULTS / "dna_tata_probe.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
