"""Benchmark: the strand test (``head: auto``) on GUE training sets and planted motifs.

What ``gdl-dna fit`` decides before training, on the data it would train on: GUE tf0
(strand-symmetric TF binding) and prom300 TATA (strand-specific promoters) training
files, and the planted-motif generator with sites on both strands (symmetric labels) or
on the given strand only (strand-specific), at two sizes. Each row is the held-out gain
of strand-specific over RC-merged k-mer features, the decision and the seconds it took
(one thread). The GUE rows are skipped when the shared data is absent.

Usage:
    python benchmarks/dna_strand_test.py [--sizes 600 2000] [--seeds 0 1]

Writes benchmarks/results/dna_strand_test.json and .md (``--results-dir``).
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
from gdl_dna.data.planted_motifs import generate
from gdl_dna.strand_test import THRESHOLD, strand_test

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("GDL_SHARED_DATA", ROOT.parent / "shared" / "data")) / "dna"
RESULTS = ROOT / "benchmarks" / "results"
GUE = {"GUE tf0 train": "gue_tf0", "GUE prom300 TATA train": "gue_prom300_tata"}


def gue(folder: str) -> tuple[list[str], np.ndarray] | None:
    path = DATA / folder / "train.tsv"
    if not path.is_file():
        return None
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [r["sequence"] for r in rows], np.array([[float(r["label"])] for r in rows], np.float32)


def planted(n: int, forward_only: bool, seed: int) -> tuple[list[str], np.ndarray]:
    _, rows = generate(n, 200, seed=seed, forward_only=forward_only)
    return [r[1] for r in rows], np.array([r[2] for r in rows], np.float32)


def row(name: str, data: tuple[list[str], np.ndarray], seed: int) -> dict:
    start = time.perf_counter()
    d = strand_test(*data, "binary", seed=seed)
    return {"data": name, "seed": seed, "n": len(data[0]), "specific": d.specific,
            "merged": d.merged, "gain": d.gain, "head": d.head, "kmer": d.kmer,
            "seconds": time.perf_counter() - start, "evidence": d.evidence()}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[600, 2000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--no-gue", action="store_true", help="planted data only")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for seed in args.seeds:
        for name, folder in ({} if args.no_gue else GUE).items():
            data = gue(folder)
            if data is not None:
                rows.append(row(name, data, seed))
        for n in args.sizes:
            for forward_only in (False, True):
                what = "one strand" if forward_only else "both strands"
                rows.append(row(f"planted motifs, {what}", planted(n, forward_only, seed), seed))
        for r in rows[-(len(args.sizes) * 2 + len(GUE)):]:
            print(f"{r['data']} n={r['n']} seed {r['seed']}: {r['evidence']}", flush=True)
    command = ("python benchmarks/dna_strand_test.py " + " ".join(argv or sys.argv[1:])).strip()
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / "dna_strand_test.json").write_text(
        json.dumps({"command": command, "threshold": THRESHOLD, "rows": rows}, indent=1) + "\n"
    )
    lines = [
        f"# The strand test (`{command}`; threshold {THRESHOLD:+.3f}, one thread)", "",
        "| data | sequences | seed | strand-specific | RC-merged | gain | decision | s |",
        "|---|---:|---:|---:|---:|---:|---|---:|",
    ]  # fmt: skip
    lines += [
        f"| {r['data']} | {r['n']} | {r['seed']} | {r['specific']:.3f} | {r['merged']:.3f} | "
        f"{r['gain']:+.3f} | {r['head']}, kmer {r['kmer']} | {r['seconds']:.1f} |" for r in rows
    ]  # fmt: skip
    (args.results_dir / "dna_strand_test.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
