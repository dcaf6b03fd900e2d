"""Benchmark: the dna app on real GUE tasks, as a user runs it (fit -> predict on dev).

Data: ``../shared/data/dna/gue_tf0`` (human TF ChIP-seq, 101 bp) and
``gue_prom300_tata`` (TATA promoters, 300 bp, strand-specific), each ``train.tsv`` and
``dev.tsv``. The GUE test files are held out. As in the GUE protocol, ``dev`` is the
validation split: the fit keeps ``best.ckpt`` (best dev AUROC), which is scored on dev
(so dev figures carry that mild selection bias), and ``last.ckpt`` is scored too
(``mcc_last``: no selection at all). Metrics: dev MCC (threshold 0.5, as GUE), AUROC and
accuracy.

Each run is the real command line: ``gdl-dna fit --config configs/dna/default.yaml
--data.path <train+dev, split column> --model.symmetry M [--model.head strand]``, then
``gdl-dna predict`` on ``dev.tsv``. Wall time is the fit's (data loading included);
seq/s = sequences trained on (optimizer steps x batch) / fit wall time. Runs are
sequential, one at a time.

Usage:
    python benchmarks/dna_real.py                         # every task, mode, seed 0
    python benchmarks/dna_real.py --tasks tf0 tata --modes default --seeds 0 1 2  # no flags
    python benchmarks/dna_real.py --tasks tata --modes strand none --seeds 0 1 2
    python benchmarks/dna_real.py --epochs tata=6 tf0=3   # per-task epochs
    python benchmarks/dna_real.py --quick                 # a few hundred sequences, 1 epoch
    python benchmarks/dna_real.py --threads 1             # torch threads per fit (default 1)

Writes benchmarks/results/dna_real.json, .md and .png (ROC curves), or ``--name``.*.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DATA = Path(os.environ.get("GDL_SHARED_DATA", ROOT / ".." / "shared" / "data")) / "dna"
TASKS = {"tf0": "gue_tf0", "tata": "gue_prom300_tata"}
# mode name -> extra CLI arguments. "strand" is the equivariant net with the strand head.
MODES = {
    "default": [],  # no flags: head and kmer chosen by the strand test (equivariant)
    "invariant": ["--model.head", "invariant"],  # the invariant head with its 3-mer input
    "equivariant": ["--model.symmetry", "equivariant"],
    "augment": ["--model.symmetry", "augment"],
    "none": ["--model.symmetry", "none"],
    # The strand head with its one-hot input (conjoined trunk).
    "strand": ["--model.symmetry", "equivariant", "--model.head", "strand"],
    "strand_tied": ["--model.symmetry", "equivariant", "--model.head", "strand",
                    "--model.strand_trunk", "tied"],
}  # fmt: skip
REFERENCE = {  # published test MCC (GUE paper, DNABERT-2 Table)
    "tf0": "DNABERT-2 0.720, DNABERT 0.680, NT-2500M 0.666",
    "tata": "NT-2500M 0.794, DNABERT-2 0.716",
}
GDL_DNA = str(Path(sys.executable).parent / "gdl-dna")


def read_table(path: Path, limit: int | None = None, delimiter: str = "\t") -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=delimiter))
    return rows[:limit] if limit else rows


def write_combined(task: str, work: Path, limit: int | None) -> tuple[Path, Path, int]:
    """train + dev in one TSV with a ``split`` column; dev alone for predict."""
    folder = DATA / TASKS[task]
    train, dev = read_table(folder / "train.tsv", limit), read_table(folder / "dev.tsv", limit)
    combined, dev_path = work / f"{task}.tsv", work / f"{task}_dev.tsv"
    with open(combined, "w") as fh:
        fh.write("id\tsequence\tlabel\tsplit\n")
        for part, rows in (("train", train), ("val", dev)):
            for r in rows:
                fh.write(f"{r['id']}\t{r['sequence']}\t{r['label']}\t{part}\n")
    with open(dev_path, "w") as fh:
        fh.write("id\tsequence\tlabel\n")
        for r in dev:
            fh.write(f"{r['id']}\t{r['sequence']}\t{r['label']}\n")
    return combined, dev_path, len(train)


def mcc(pred: np.ndarray, y: np.ndarray) -> float:
    tp, tn = float(((pred == 1) & (y == 1)).sum()), float(((pred == 0) & (y == 0)).sum())
    fp, fn = float(((pred == 1) & (y == 0)).sum()), float(((pred == 0) & (y == 1)).sum())
    denom = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return float((tp * tn - fp * fn) / denom) if denom > 0 else 0.0


def roc(scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(fpr, tpr, auroc) with ties handled by sorting on the score (trapezoid rule)."""
    order = np.argsort(-scores, kind="mergesort")
    s, t = scores[order], y[order]
    distinct = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps, fps = np.cumsum(t)[distinct], np.cumsum(1 - t)[distinct]
    tpr = np.r_[0, tps / max(t.sum(), 1)]
    fpr = np.r_[0, fps / max((1 - t).sum(), 1)]
    return fpr, tpr, float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))  # trapezoids


def run_one(task: str, mode: str, seed: int, args: argparse.Namespace, work: Path) -> dict:
    combined, dev_path, n_train = write_combined(task, work, args.limit)
    run_dir = work / f"{task}_{mode}_{seed}"
    cmd = [
        GDL_DNA, "fit", "--config", str(args.config), "--data.path", str(combined),
        "--data.split", "column", "--seed_everything", str(seed),
        # One model per seed: the default's 3-member ensemble (seeds s, s+1, s+2) is the
        # "ensemble of 3" row, built here from the seed runs by predict.
        "--ensemble_size", "1",
        "--trainer.default_root_dir", str(run_dir), "--trainer.enable_progress_bar", "false",
        *MODES[mode], *args.extra,
    ]  # fmt: skip
    epochs = args.epochs.get(task, args.epochs.get("all"))
    if epochs:
        cmd += ["--trainer.max_epochs", str(epochs)]
    threads = str(args.threads)
    env = {**os.environ, "GDL_NO_PROGRESS": "1", "OMP_NUM_THREADS": threads,
           "MKL_NUM_THREADS": threads}  # fmt: skip
    start = time.perf_counter()
    fit = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if fit.returncode != 0:
        raise RuntimeError(f"fit failed ({task} {mode} {seed}):\n{fit.stderr[-3000:]}")
    decision = [ln for ln in fit.stderr.splitlines() if "strand test:" in ln]
    folder = next(run_dir.glob("lightning_logs/version_*/checkpoints"))
    last, best = folder / "last.ckpt", folder / "best.ckpt"
    epochs, best_epoch = _epoch(last), _epoch(best)
    # Sequences actually trained on: optimizer steps x batch (the budget is in steps, so
    # the last epoch may be partial), capped by whole epochs for a last short batch.
    seen = min(_steps(last) * _batch_size(args), n_train * epochs)
    p, y = predict_dev(best, dev_path, work / f"{task}_{mode}_{seed}_pred.tsv", env)
    p_last, _ = predict_dev(last, dev_path, work / f"{task}_{mode}_{seed}_last.tsv", env)
    fpr, tpr, auroc = roc(p, y)
    return {
        "task": task, "mode": mode, "seed": seed, "mcc": mcc((p > 0.5).astype(int), y),
        "auroc": auroc, "accuracy": float(((p > 0.5) == y).mean()), "fit_seconds": wall,
        "mcc_last": mcc((p_last > 0.5).astype(int), y), "auroc_last": roc(p_last, y)[2],
        "epochs": epochs, "best_epoch": best_epoch, "n_train": n_train,
        "seq_per_s": seen / wall, "sequences_trained": seen, "threads": args.threads,
        "best_ckpt": str(best), "strand_test": decision[-1] if decision else None,
        "val_curve": val_curve(folder.parent / "metrics.csv"),
        # best.ckpt's dev probabilities and labels, for calibration / threshold checks.
        "dev_probs": [round(float(v), 4) for v in p], "dev_labels": y.astype(int).tolist(),
        "roc": {"fpr": fpr[:: max(1, len(fpr) // 200)].tolist(),
                "tpr": tpr[:: max(1, len(tpr) // 200)].tolist()},
    }  # fmt: skip


def val_curve(metrics_csv: Path) -> list[dict[str, float]]:
    """Per validation: epoch, step and val auroc/loss/mcc from the fit's CSV log (val is
    dev here, so these are dev scores of every epoch: how the selection rule matters)."""
    if not metrics_csv.is_file():
        return []
    out = []
    for row in read_table(metrics_csv, delimiter=","):
        if row.get("val/auroc"):
            out.append({k: float(row[c]) for k, c in (("epoch", "epoch"), ("step", "step"),
                        ("auroc", "val/auroc"), ("loss", "val/loss"), ("mcc", "val/mcc"))
                        if row.get(c)})  # fmt: skip
    return out


def predict_dev(
    ckpt: Path | list[Path], dev_path: Path, out: Path, env: dict[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    """``gdl-dna predict`` on dev (several checkpoints: their mean probability):
    (probabilities, labels) in file order."""
    ckpts = ckpt if isinstance(ckpt, list) else [ckpt]
    flags = [a for c in ckpts for a in ("--checkpoint", str(c))]
    pred = subprocess.run(
        [GDL_DNA, "predict", *flags, "--input", str(dev_path), "--output", str(out)],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    if pred.returncode != 0:
        raise RuntimeError(f"predict failed:\n{pred.stderr[-2000:]}")
    labels = {r["id"]: int(r["label"]) for r in read_table(dev_path)}
    rows = read_table(out)
    return np.array([float(r["label_pred"]) for r in rows]), np.array(
        [labels[r["id"]] for r in rows]
    )


def ensemble_row(
    task: str, mode: str, runs: list[dict], work: Path, threads: int, which: str = "best"
) -> dict:
    """The seeds' best (or last) checkpoints averaged by ``gdl-dna predict`` (one command,
    several ``--checkpoint``): what a user gets from the seeds they already trained."""
    env = {**os.environ, "GDL_NO_PROGRESS": "1", "OMP_NUM_THREADS": str(threads)}
    ckpts = [Path(r["best_ckpt"]).with_name(f"{which}.ckpt") for r in runs]
    dev_path = work / f"{task}_dev.tsv"
    p, y = predict_dev(ckpts, dev_path, work / f"{task}_{mode}_{which}_ensemble.tsv", env)
    auroc = roc(p, y)[2]
    label = f"ensemble of {len(runs)}" + ("" if which == "best" else f", {which}.ckpt")
    return {
        "task": task, "mode": f"{mode} ({label})", "seeds": len(runs),
        "mcc": mcc((p > 0.5).astype(int), y), "auroc": auroc,
        "accuracy": float(((p > 0.5) == y).mean()),
        "dev_probs": [round(float(v), 4) for v in p],
    }  # fmt: skip


def _steps(ckpt: Path) -> int:
    import torch

    return int(torch.load(ckpt, map_location="cpu", weights_only=False)["global_step"])


def _batch_size(args: argparse.Namespace) -> int:
    """data.batch_size of the fit: from the extra arguments, else from the config."""
    import yaml

    extra = list(args.extra)
    if "--data.batch_size" in extra:
        return int(extra[extra.index("--data.batch_size") + 1])
    return int(yaml.safe_load(Path(args.config).read_text())["data"]["batch_size"])


def _epoch(ckpt: Path) -> int:
    """The 1-based epoch a checkpoint was written at."""
    import torch

    return int(torch.load(ckpt, map_location="cpu", weights_only=False)["epoch"]) + 1


def summarise(runs: list[dict]) -> list[dict]:
    out = []
    for key in dict.fromkeys((r["task"], r["mode"]) for r in runs):
        rs = [r for r in runs if (r["task"], r["mode"]) == key]
        row = {"task": key[0], "mode": key[1], "seeds": len(rs)}
        for m in ("mcc", "auroc", "accuracy", "mcc_last", "fit_seconds", "seq_per_s"):
            vals = [r[m] for r in rs]
            vals = [v for v in vals if v is not None]
            row[f"{m}_mean"] = statistics.fmean(vals) if vals else float("nan")
            row[f"{m}_std"] = statistics.pstdev(vals) if len(vals) > 1 else 0.0
        out.append(row)
    return out


def write_outputs(report: dict, name: str, results: Path) -> None:
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{name}.json").write_text(json.dumps(report, indent=1))
    lines = [
        f"# {name}: GUE dev sets, `{report['command']}`",
        "",
        f"{report['machine']}; best.ckpt (best dev AUROC) scored on dev (test held out); "
        "MCC last = last.ckpt; mean ± sd over seeds.",
        "",
        "| task | mode | seeds | MCC | AUROC | accuracy | MCC last | fit s | seq/s "
        "| published test MCC |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in report["summary"]:
        lines.append(
            f"| {s['task']} | {s['mode']} | {s['seeds']} | {s['mcc_mean']:.3f} ± {s['mcc_std']:.3f}"
            f" | {s['auroc_mean']:.3f} ± {s['auroc_std']:.3f} | {s['accuracy_mean']:.3f} | "
            f"{s['mcc_last_mean']:.3f} | "
            f"{s['fit_seconds_mean']:.0f} | {s['seq_per_s_mean']:.0f} | {REFERENCE[s['task']]} |"
        )
    for e in report.get("ensembles", []):
        lines.append(
            f"| {e['task']} | {e['mode']} | {e['seeds']} | {e['mcc']:.3f} | {e['auroc']:.3f} | "
            f"{e['accuracy']:.3f} | | | | {REFERENCE[e['task']]} |"
        )
    decisions = {(r["task"], r["mode"], r["strand_test"]) for r in report["runs"]
                 if r.get("strand_test")}  # fmt: skip
    if decisions:
        lines += ["", "The strand test's decision (printed by fit, same for every seed):", ""]
        lines += [f"- {t} {m}: {d}" for t, m, d in sorted(decisions)]
    (results / f"{name}.md").write_text("\n".join(lines) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(r["task"] for r in report["runs"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 4.5), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for r in report["runs"]:
            if r["task"] == task and r["seed"] == report["runs"][0]["seed"]:
                label = f"{r['mode']} (AUROC {r['auroc']:.3f}, MCC {r['mcc']:.3f})"
                ax.plot(r["roc"]["fpr"], r["roc"]["tpr"], label=label)
        ax.plot([0, 1], [0, 1], color="grey", lw=0.5)
        ax.set(title=f"GUE {task} dev", xlabel="false positive rate", ylabel="true positive rate")
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(results / f"{name}.png", dpi=110)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--modes", nargs="+", default=None, choices=list(MODES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--config", type=Path, default=ROOT / "configs/dna/default.yaml")
    parser.add_argument(
        "--epochs", nargs="+", default=[], help="override max_epochs: N, or TASK=N per task"
    )
    parser.add_argument("--limit", type=int, default=None, help="first N rows of each file")
    parser.add_argument("--quick", action="store_true", help="300 rows, 1 epoch (smoke test)")
    parser.add_argument("--name", default=None)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per fit")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument("extra", nargs="*", help="more fit arguments, after --")
    args = parser.parse_args(argv)
    args.epochs = {
        (e.split("=")[0] if "=" in e else "all"): int(e.split("=")[-1]) for e in args.epochs
    }
    if args.quick:
        args.limit, args.epochs = args.limit or 300, args.epochs or {"all": 1}
    name = args.name or ("dna_real_quick" if args.quick else "dna_real")
    if not DATA.is_dir():
        sys.exit(f"no GUE data at {DATA} (set GDL_SHARED_DATA)")
    runs, ensembles = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for task in args.tasks:
            modes = args.modes or ["equivariant", "augment", "none"] + (
                ["strand"] if task == "tata" else []
            )
            for mode in modes:
                for seed in args.seeds:
                    r = run_one(task, mode, seed, args, Path(tmp))
                    print(
                        f"{task} {mode} seed {seed}: MCC {r['mcc']:.3f} AUROC {r['auroc']:.3f}"
                        f" acc {r['accuracy']:.3f} {r['fit_seconds']:.0f}s",
                        flush=True,
                    )
                    if r["strand_test"]:
                        print(f"  {r['strand_test']}", flush=True)
                    runs.append(r)
                if len(args.seeds) > 1:
                    group = [r for r in runs if (r["task"], r["mode"]) == (task, mode)]
                    for which in ("best", "last"):
                        e = ensemble_row(task, mode, group, Path(tmp), args.threads, which)
                        ensembles.append(e)
                        print(f"{task} {e['mode']}: MCC {e['mcc']:.3f} AUROC {e['auroc']:.3f}")
    report = {
        "command": "python benchmarks/dna_real.py " + " ".join(argv or sys.argv[1:]),
        "machine": f"{platform.processor() or platform.machine()}, {args.threads} thread(s) "
        f"of {os.cpu_count()} CPUs (the other core busy with another job)",
        "runs": runs,
        "summary": summarise(runs),
        "ensembles": ensembles,
    }
    write_outputs(report, name, args.results_dir)
    print(f"wrote {args.results_dir / name}.json/.md/.png")


if __name__ == "__main__":
    main()
