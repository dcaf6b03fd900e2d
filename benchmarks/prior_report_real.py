"""Benchmark: ``gdl-<app> prior-report`` on the shared real sets, as a user runs it.

    python benchmarks/prior_report_real.py esol [--budget-scale 1] [--seeds 1] \\
        [--fractions 0.1 0.3 1.0] [--modes equivariant none augment] [-- FIT ARGS]

Runs the app's prior-report with the set's default config and data (the cells live in
``--work``, default /tmp/prior_report_work/<set>), then copies prior_report.{md,json,png}
into benchmarks/results/prior_report_<set>/, the JSON with the exact command added.
Sets: esol, biogen (molprop); tf0, tata (dna: GUE train with dev as the validation
split, via a ``split`` column; TATA's head is the default's strand test: strand, so no
``augment``); hippocampus (medseg). Only training/dev data are used; test parts stay
held out. Reruns resume: finished cells are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "benchmarks"))

ESOL_TARGET = "measured log solubility in mols per litre"
SETS: dict[str, dict] = {
    "esol": {"app": "molprop", "modes": ["equivariant", "none", "augment"],
             "args": ["--data.path", str(DATA / "esol.csv"),
                      "--data.targets", json.dumps([ESOL_TARGET])]},
    "biogen": {"app": "molprop", "modes": ["equivariant", "none", "augment"],
               "args": ["--data.path", str(DATA / "biogen_adme.csv")]},
    "tf0": {"app": "dna", "modes": ["equivariant", "none", "augment"], "dna_task": "tf0",
            "args": ["--data.split", "column"]},
    "tata": {"app": "dna", "modes": ["equivariant", "none"], "dna_task": "tata",
             "args": ["--data.split", "column"]},
    "hippocampus": {"app": "medseg", "modes": ["equivariant", "none", "augment"],
                    "args": ["--data.path", str(DATA / "hippocampus")]},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set", choices=sorted(SETS))
    parser.add_argument("--modes", nargs="+", default=None)
    parser.add_argument("--fractions", nargs="+", default=["0.1", "0.3", "1.0"])
    parser.add_argument("--seeds", nargs="+", default=["1"])
    parser.add_argument("--budget-scale", default="1.0")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (OMP)")
    parser.add_argument("--work", default=None)
    parser.add_argument("--name", default=None, help="results folder suffix (default: set)")
    parser.add_argument("--results", default=str(ROOT / "benchmarks" / "results"),
                        help="folder that receives prior_report_<name>/")
    args, fit_args = parser.parse_known_args()  # the rest: the cells' fit arguments
    spec = SETS[args.set]
    work = Path(args.work or f"/tmp/prior_report_work/{args.set}")
    work.mkdir(parents=True, exist_ok=True)
    data_args = list(spec["args"])
    if "dna_task" in spec:
        from dna_real import write_combined  # train + dev with a split column

        combined, _, _ = write_combined(spec["dna_task"], work, None)
        data_args = ["--data.path", str(combined), *data_args]
    extra = [a for a in fit_args if a != "--"]
    command = [
        str(BIN / f"gdl-{spec['app']}"), "prior-report",
        "--config", str(ROOT / "configs" / spec["app"] / "default.yaml"), *data_args,
        "--modes", *(args.modes or spec["modes"]), "--fractions", *args.fractions,
        "--seeds", *args.seeds, "--budget-scale", args.budget_scale,
        "--output", str(work / "report"), *extra,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads),
           "MKL_NUM_THREADS": str(args.threads), "GDL_NO_PROGRESS": "1"}
    print(" ".join(command), flush=True)
    code = subprocess.run(command, env=env).returncode
    if code != 0 or "--dry-run" in extra:  # a dry run prints the plan only: no report
        return code
    out = Path(args.results) / f"prior_report_{args.name or args.set}"
    out.mkdir(parents=True, exist_ok=True)
    shown = " ".join(sys.argv[1:])
    report = json.loads((work / "report" / "prior_report.json").read_text())
    report["command"] = f"python benchmarks/prior_report_real.py {shown}"
    report["prior_report_command"] = " ".join(command)
    (out / "prior_report.json").write_text(json.dumps(report, indent=1, default=float))
    md = (work / "report" / "prior_report.md").read_text()
    (out / "prior_report.md").write_text(
        md.replace("\n\n", f"\n\nCommand: `python benchmarks/prior_report_real.py {shown}`\n\n", 1)
    )
    shutil.copyfile(work / "report" / "prior_report.png", out / "prior_report.png")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
