"""Exactness of trained gdl-molprop checkpoints: S_N × E(3) invariance error in float32
and float64 (``check_symmetry``, the same check as ``gdl-molprop check-symmetry``), on
the built-in check molecules and on up to 8 molecules of an optional input file.

    .venv/bin/python benchmarks/molprop_exactness.py CKPT [CKPT ...] [--input mols.csv] \
        [--tag biogen]

Writes ``benchmarks/results/molprop_exactness[_TAG].{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
BARS = {"float32": 1e-5, "float64": 1e-10}  # DESIGN.md section 8


def main(argv: list[str] | None = None) -> int:
    import torch
    from gdl_molprop.task import MolPropTask

    from gdl_science.io import load_task

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--input", default=None)
    parser.add_argument("--tag", default="")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rows = []
    for path in args.checkpoints:
        task = load_task(MolPropTask, path)
        for name, dtype in (("float32", torch.float32), ("float64", torch.float64)):
            for source in [None, args.input] if args.input else [None]:
                report = task.check_symmetry(source, dtype)
                rows.append({
                    "checkpoint": path, "dtype": name, "input": source or "built-in",
                    "architecture": task.hparams.architecture, "symmetry": task.symmetry,
                    "max_abs": report.max_abs, "bar": BARS[name],
                    "within_bar": bool(report.max_abs <= BARS[name]),
                })  # fmt: skip
                where = source or "built-in"
                print(f"{path} {name} {where}: {report.max_abs:.2e}", file=sys.stderr)
    stem = "molprop_exactness" + (f"_{args.tag}" if args.tag else "")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / f"{stem}.json").write_text(json.dumps(rows, indent=1))
    lines = [
        "S_N × E(3) invariance error (max |f(g·x) − f(x)|) of trained checkpoints.",
        "",
        "| checkpoint | architecture | symmetry | dtype | molecules | max error | bar | ok |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {Path(r['checkpoint']).parent.name}/{Path(r['checkpoint']).name} "
            f"| {r['architecture']} | {r['symmetry']} | {r['dtype']} | {r['input']} "
            f"| {r['max_abs']:.1e} | {r['bar']:.0e} | {'yes' if r['within_bar'] else 'NO'} |"
        )
    (args.results_dir / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all(r["within_bar"] for r in rows if r["symmetry"] == "equivariant") else 1


if __name__ == "__main__":
    sys.exit(main())
