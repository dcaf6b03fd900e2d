"""``gdl-molprop crossval``: k-fold cross-validation × seed replicates -> mean ± sd table.

Each (replicate, fold) is an ordinary ``fit`` through LightningCLI with
``--data.num_folds K --data.fold k --data.seed r --seed_everything r`` added to the
user's fit arguments, followed by ``test`` on that fold's held-out molecules. Folds are
random or, with ``--data.split scaffold``, scaffold-disjoint. Writes ``OUTPUT`` (Markdown
table), ``OUTPUT.json`` (every run's test metrics) and ``OUTPUT.png`` (a parity plot,
or ROC curves for classification, of every held-out molecule of the first replicate:
each molecule is in exactly one test fold) atomically.

    gdl-molprop crossval --folds 5 --replicates 2 --output cv.md -- \\
        --config configs/molprop/default.yaml --data.path mols.csv
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from gdl_science.io import UserInputError, atomic_write, check_output_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--folds", type=int, default=5, help="number of folds (>= 2)")
    parser.add_argument("--replicates", type=int, default=1, help="seeds 0..R-1")
    parser.add_argument("--output", required=True, help="Markdown table (+ .json beside it)")
    parser.add_argument("--root", default=None, help="run folder (default: OUTPUT + '.runs')")
    parser.add_argument(
        "fit_args",
        nargs=argparse.REMAINDER,
        help="after '--': arguments of `gdl-molprop fit` (config, data, trainer)",
    )


def summarise(runs: list[dict[str, float]]) -> dict[str, tuple[float, float]]:
    """metric -> (mean, sample sd) over runs; sd is 0 for a single run."""
    keys = sorted({k for r in runs for k in r})
    out = {}
    for k in keys:
        v = np.array([r[k] for r in runs if k in r], dtype=float)
        out[k] = (float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0)
    return out


def markdown_table(summary: dict[str, tuple[float, float]], n_runs: int, folds: int) -> str:
    lines = [
        f"Cross-validation: {folds} folds, {n_runs} runs (mean ± sd of test metrics)",
        "",
        "| metric | mean ± sd |",
        "|---|---|",
    ]
    lines += [f"| {k} | {m:.4f} ± {s:.4f} |" for k, (m, s) in summary.items()]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from gdl_molprop.links import LightningSpec
    from gdl_molprop.plots import prediction_plot
    from gdl_science.cli.lightning import run_lightning

    if args.folds < 2:
        raise UserInputError(f"--folds must be at least 2; got {args.folds}")
    output = check_output_path(args.output)
    root = Path(args.root or f"{output}.runs")
    fit_args = [a for a in args.fit_args if a != "--"]
    runs: list[dict] = []
    held_out: list[tuple[np.ndarray, np.ndarray]] = []  # (y, p) of replicate 0's folds
    for rep in range(args.replicates):
        for fold in range(args.folds):
            cli = run_lightning(
                LightningSpec(),
                [
                    "fit",
                    *fit_args,
                    "--data.num_folds",
                    str(args.folds),
                    "--data.fold",
                    str(fold),
                    "--data.seed",
                    str(rep),
                    "--seed_everything",
                    str(rep),
                    "--trainer.default_root_dir",
                    str(root / f"r{rep}_f{fold}"),
                ],
            )
            # Test the best-validation epoch (best.ckpt), as a user of `predict` would.
            best = next(
                (cb.best_model_path for cb in cli.trainer.checkpoint_callbacks
                 if getattr(cb, "filename", "") == "best" and cb.best_model_path),
                None,
            )  # fmt: skip
            metrics = cli.trainer.test(
                cli.model, datamodule=cli.datamodule, ckpt_path=best, verbose=False
            )[0]
            if rep == 0 and getattr(cli.model, "test_predictions", None) is not None:
                held_out.append(cli.model.test_predictions)
            runs.append(
                {
                    "replicate": rep,
                    "fold": fold,
                    "metrics": {k: float(v) for k, v in metrics.items()},
                }
            )
            print(
                f"crossval replicate {rep} fold {fold}: "
                + " ".join(f"{k}={v:.4g}" for k, v in runs[-1]["metrics"].items()),
                file=sys.stderr,
            )
    summary = summarise([r["metrics"] for r in runs])
    with atomic_write(output) as fh:
        fh.write(markdown_table(summary, len(runs), args.folds))
    with atomic_write(f"{output}.json") as fh:
        json.dump(
            {
                "folds": args.folds,
                "replicates": args.replicates,
                "runs": runs,
                "summary": {k: {"mean": m, "sd": s} for k, (m, s) in summary.items()},
            },
            fh,
            indent=1,
        )
    if held_out:
        task = cli.model
        plot = prediction_plot(
            np.concatenate([y for y, _ in held_out]),
            np.concatenate([p for _, p in held_out]),
            task.task_names,
            task.task_type,
            f"{output}.png",
            f"{args.folds}-fold held out: ",
        )
        print(f"crossval plot: {plot}", file=sys.stderr)
    print(markdown_table(summary, len(runs), args.folds))
    return 0
