"""Running one cell: an ordinary ``fit`` in its folder, then scoring its best checkpoint.

A finished cell leaves ``cell.json`` (written atomically after its scores): a rerun of
the same command finds it with the same fit arguments and skips the cell without
touching its files. A cell killed mid-fit has no ``cell.json``; rerunning it resumes
its fit from ``last.ckpt`` (the CLI's ``--resume auto``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from gdl_science.cli.ensemble_fit import selection_checkpoint
from gdl_science.cli.lightning import run_lightning
from gdl_science.io.atomic import atomic_write
from gdl_science.io.checkpoint import load_task
from gdl_science.prior_report.grid import Cell
from gdl_science.prior_report.hooks import PriorHooks
from gdl_science.prior_report.plan import Plan, train_size

RECORD = "cell.json"  # written when the cell is finished and scored
STARTED = "cell_args.json"  # written when its fit starts (resume only the same fit)


def cell_args(plan: Plan, cell: Cell, root: Path) -> list[str]:
    """The cell's ``fit`` arguments: the user's, then the cell's mode, seed, subset and
    budget (later arguments win in LightningCLI). A cell is one model: a config's seed
    ensemble (``ensemble_size``) is turned off, the seeds of the grid replace it."""
    return [
        *plan.fit_args,
        "--ensemble_size", "1",
        "--model.symmetry", cell.mode,
        "--seed_everything", str(cell.seed),
        "--data.train_fraction", f"{cell.fraction:g}",
        "--data.subset_seed", str(cell.seed),
        "--trainer.default_root_dir", str(root / cell.name),
        *plan.budget.overrides(),
    ]  # fmt: skip


def read_record(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def finished(plan: Plan, cell: Cell, root: Path) -> dict[str, Any] | None:
    """The cell's record if it finished with these very arguments, else None."""
    record = read_record(root / cell.name / RECORD)
    if record is not None and record.get("args") == cell_args(plan, cell, root):
        record["cell"] = cell.as_dict()  # its place in this grid (a grown grid renumbers)
        return record
    return None


def best_checkpoint(trainer: Any, folder: Path) -> Path:
    path = selection_checkpoint(trainer).best_model_path
    if path:
        return Path(path)
    found = sorted(folder.glob("**/checkpoints/best.ckpt"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise RuntimeError(f"{folder}: the fit left no best.ckpt")
    return found[-1]


def run_cell(spec: Any, hooks: PriorHooks, plan: Plan, cell: Cell, root: Path) -> dict[str, Any]:
    """Fit (or resume) the cell, score its best checkpoint, write ``cell.json``."""
    done = finished(plan, cell, root)
    total = len(plan.cells)
    if done is not None:
        print(f"prior-report cell {cell.index + 1}/{total} {cell.name}: already trained",
              file=sys.stderr)
        return done
    folder = root / cell.name
    args = cell_args(plan, cell, root)
    started = read_record(folder / STARTED)
    if started is not None and started.get("args") != args:
        # Begun with other arguments (e.g. another budget): its last.ckpt must not be
        # resumed, its schedule and step count are another run's. Kept, renamed.
        stale = folder.with_name(f"{folder.name}.stale-{int(time.time())}")
        folder.rename(stale)
        print(f"prior-report cell {cell.name}: arguments changed since it started; "
              f"the old run is kept in {stale}", file=sys.stderr)
    with atomic_write(folder / STARTED) as fh:
        json.dump({"args": args}, fh, indent=1)
    print(f"prior-report cell {cell.index + 1}/{total} {cell.name}: fit", file=sys.stderr)
    start = time.monotonic()
    cli = run_lightning(spec, ["fit", *args])
    fit_seconds = time.monotonic() - start
    trainer = cli.trainer
    if not trainer.is_global_zero:  # under DDP, rank 0 scores and writes
        return {}
    best = best_checkpoint(trainer, folder)
    task = load_task(spec.task_class, best)
    scores = hooks.score(task, cli.datamodule)
    monitor = task.selection_metric()
    score = selection_checkpoint(trainer).best_model_score
    record = {
        "cell": cell.as_dict(),
        "name": cell.name,
        "args": args,
        "best_checkpoint": os.path.relpath(best, root),
        "selection": {monitor.name: None if score is None else float(score)},
        "n_train": train_size(cli.datamodule),
        "steps": int(trainer.global_step),
        "fit_seconds": round(fit_seconds, 2),
        "score_seconds": round(time.monotonic() - start - fit_seconds, 2),
        **scores.as_dict(),
    }
    with atomic_write(folder / RECORD) as fh:
        json.dump(record, fh, indent=1, default=float)
    shown = scores.given.get(hooks.metric, float("nan"))
    print(f"prior-report cell {cell.index + 1}/{total} {cell.name}: {hooks.metric}={shown:.4g} "
          f"(transformed {scores.transformed.get(hooks.metric, float('nan')):.4g}, "
          f"{hooks.change}={scores.consistency.get(hooks.change, float('nan')):.3g})",
          file=sys.stderr)
    return record


def collect(plan: Plan, root: Path) -> tuple[list[dict[str, Any]], list[Cell]]:
    """The finished cells' records, and the cells not (or not with these arguments) done."""
    records, missing = [], []
    for cell in plan.cells:
        record = finished(plan, cell, root)
        if record is None:
            missing.append(cell)
        else:
            records.append(record)
    return records, missing
