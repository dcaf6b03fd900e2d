"""Write the dna app's planted-motif data set (real JASPAR motifs) to a TSV.

The generator itself is ``gdl_dna.data.planted_motifs`` (the app's embedded default);
this is its command line.

Usage:
    python -m data_recipes.dna_planted_motifs --output planted.tsv --n 2000 --length 200
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from pathlib import Path

from gdl_dna.data.planted_motifs import (  # noqa: F401  (re-exported for scripts)
    DEFAULT_MOTIFS,
    dinucleotide_shuffle,
    generate,
    load_motif,
    markov_background,
)


def write_tsv(path: str | Path, names: list[str], rows: list[tuple[str, str, list[int]]]) -> None:
    from gdl_science.io import atomic_write

    with atomic_write(path, newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(["id", "sequence", *names])
        for rid, seq, labels in rows:
            writer.writerow([rid, seq, *labels])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--motifs", nargs="+", default=list(DEFAULT_MOTIFS))
    parser.add_argument("--p-present", type=float, default=0.4)
    parser.add_argument("--max-copies", type=int, default=2)
    parser.add_argument("--background", choices=("iid", "dinuc"), default="iid")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    names, rows = generate(
        args.n, args.length, args.motifs, args.p_present, args.max_copies, args.background,
        seed=args.seed,
    )  # fmt: skip
    write_tsv(args.output, names, rows)
    print(f"wrote {len(rows)} sequences x {len(names)} motifs to {args.output}")


if __name__ == "__main__":
    main()
