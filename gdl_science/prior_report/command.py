"""``gdl-<app> prior-report``: the grid of fits, resumable, then the report.

    gdl-<app> prior-report --config configs/<app>/default.yaml --data.path DATA \\
        [--modes equivariant augment none] [--fractions 0.1 0.3 1.0] [--seeds 1] \\
        [--budget-scale 1.0] --output report_dir/ [--cell I | --collect | --dry-run]

Every argument it does not know is the cells' ``fit``'s (``--config``, ``--data.*``,
``--model.*``, ``--trainer.*``). ``--cell I`` runs cell I alone (0-based: a SLURM array
index, ``configs/slurm/prior_report.sbatch``) and ``--collect`` writes the report from
the finished cells. Writes ``prior_report.json``, ``.md`` and ``.png`` in the output.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gdl_science.cli.app import Command, one_line
from gdl_science.io.atomic import atomic_write
from gdl_science.io.user_error import UserInputError
from gdl_science.prior_report.cells import cell_args, collect, finished, run_cell
from gdl_science.prior_report.grid import build_grid
from gdl_science.prior_report.hooks import PriorHooks
from gdl_science.prior_report.plan import Plan, make_plan
from gdl_science.prior_report.plot import plot_report
from gdl_science.prior_report.report import markdown_report, summarise, verdict

NAMES = ("prior_report.json", "prior_report.md", "prior_report.png")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--modes", nargs="+", default=["equivariant", "augment", "none"])
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.1, 0.3, 1.0],
                        help="nested shares of the training split")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1],
                        help="model initialisation and subset seeds")
    parser.add_argument("--budget-scale", type=float, default=1.0,
                        help="multiplies the config's max_steps/max_epochs/max_time per cell")
    parser.add_argument("--output", required=True, help="report folder (cells inside it)")
    parser.add_argument("--cell", type=int, default=None, help="run only this cell (0-based)")
    parser.add_argument("--collect", action="store_true",
                        help="write the report from the finished cells; train nothing")
    parser.add_argument("--dry-run", action="store_true", help="print the plan only")
    # Unknown arguments are the fit's (gdl_science.cli.app.run_app).
    parser.set_defaults(passthrough=True, fit_args=[])


def write_report(plan: Plan, hooks: PriorHooks, root: Path, args: argparse.Namespace,
                 not_run: dict[str, str] | None = None) -> None:
    records, missing = collect(plan, root)
    not_run = not_run or {}
    if not records:
        reasons = "; ".join(f"{m}: {why}" for m, why in not_run.items())
        raise UserInputError(f"{root}: no finished cell to report on" +
                             (f" ({reasons})" if reasons else ""))
    rows = summarise(records)
    header = [
        f"modes {' '.join(args.modes)}; fractions {' '.join(f'{f:g}' for f in args.fractions)}; "
        f"seeds {' '.join(map(str, args.seeds))}; budget scale {args.budget_scale:g}",
        f"budget per cell: {plan.budget.describe()}",
        f"{plan.n_train} training records (whole split), {plan.n_val} validation records",
        f"fit arguments: `{' '.join(plan.fit_args) or '(config defaults)'}`",
        f"fit wall time: {sum(r['fit_seconds'] for r in records) / 60:.1f} min over "
        f"{len(records)} cells",
    ]
    lines = verdict(rows, hooks)
    report = {
        "group": hooks.group,
        "metric": hooks.metric,
        "higher_is_better": hooks.higher_is_better,
        "change": hooks.change,
        "modes": args.modes,
        "fractions": args.fractions,
        "seeds": args.seeds,
        "budget_scale": args.budget_scale,
        "budget": {"max_steps": plan.budget.max_steps, "max_time_s": plan.budget.max_time_s,
                   "steps_per_epoch": plan.budget.steps_per_epoch},
        "fit_args": plan.fit_args,
        "n_train": plan.n_train,
        "n_val": plan.n_val,
        "cells": records,
        "summary": rows,
        "verdict": lines,
        "missing": [c.name for c in missing],
        "not_run": not_run,
    }
    with atomic_write(root / NAMES[0]) as fh:
        json.dump(report, fh, indent=1, default=float)
    with atomic_write(root / NAMES[1]) as fh:
        fh.write(markdown_report(rows, hooks, header, [c.name for c in missing], not_run))
    plot_report(rows, hooks, root / NAMES[2])
    print((root / NAMES[1]).read_text())
    print(f"prior-report: {root / NAMES[1]}, {root / NAMES[0]}, {root / NAMES[2]}",
          file=sys.stderr)


def run(spec: Any, hooks: PriorHooks, args: argparse.Namespace) -> int:
    fit_args = [a for a in args.fit_args if a != "--"]
    if fit_args and fit_args[0] == "fit":
        fit_args = fit_args[1:]
    root = Path(args.output).resolve()
    if root.exists() and not root.is_dir():
        raise UserInputError(f"--output {args.output}: exists and is not a folder")
    cells = build_grid(args.modes, args.fractions, args.seeds)
    if args.cell is not None and not 0 <= args.cell < len(cells):
        raise UserInputError(f"--cell {args.cell}: the grid has cells 0..{len(cells) - 1}")
    plan = make_plan(spec, fit_args, cells, args.budget_scale, probe=not args.collect)
    hooks = hooks.specialise(plan.task, plan.datamodule)
    chosen = cells if args.cell is None else [cells[args.cell]]
    todo = [c for c in chosen if finished(plan, c, root) is None]
    print(plan.describe(len(todo)), file=sys.stderr)
    if args.dry_run:
        for c in cells:
            state = "to train" if c in todo else ("done" if c in chosen else "not chosen")
            print(f"{c.index}\t{c.name}\t{state}\tfit {' '.join(cell_args(plan, c, root))}")
        return 0
    not_run: dict[str, str] = {}  # mode -> why its cells cannot run with this config
    if not args.collect:
        root.mkdir(parents=True, exist_ok=True)
        for cell in chosen:
            if cell.mode in not_run:
                continue
            try:
                run_cell(spec, hooks, plan, cell, root)
            except UserInputError as err:
                # e.g. augment with dna's strand head: the other modes still run
                if len(chosen) == 1:
                    raise
                not_run[cell.mode] = one_line(err)
                print(f"prior-report: mode {cell.mode} cannot run: {not_run[cell.mode]}",
                      file=sys.stderr)
    _, missing = collect(plan, root)
    if args.cell is not None and missing:
        print(f"prior-report: cell {args.cell} done; {len(missing)} cells left "
              "(rerun with --collect once all have finished)", file=sys.stderr)
        return 0
    write_report(plan, hooks, root, args, not_run)
    return 0


def prior_report_command(spec: Callable[[], Any], hooks: Callable[[], PriorHooks]) -> Command:
    """The app's ``prior-report`` subcommand; ``spec``/``hooks`` are called when it runs
    (the app's AppSpec and its ``prior.py`` hooks, imported late)."""
    return Command(
        help="what the symmetry prior is worth on your data: fits over modes x training "
        "fractions x seeds, scored as given and under the group (JSON, Markdown, PNG)",
        add_arguments=add_arguments,
        run=lambda a: run(spec(), hooks(), a),
    )
