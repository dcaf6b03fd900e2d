"""Benchmark: RC-equivariant vs augmented vs plain CNN on planted JASPAR motifs.

For each sequence length, training-set size and seed, the same generator
(``gdl_dna.data.planted_motifs``: CTCF, SPI1 and FOXA1 matrices planted on random
strands, i.i.d. background) makes a training set, a validation set (for choosing the
epoch) and a 2000-sequence test set. The three symmetry modes train the same blueprint
at equal trainable-parameter count (the plain net's widths are scaled to match), with
the same optimiser, epochs and batches, each through the product's own training step
(a Lightning ``Trainer`` fitting ``DNATask``; augment mode's random RC is the task's).
We report the macro test auROC at the epoch of
best validation auROC, its mean and standard deviation across seeds, and the training
throughput (sequences/s, forward + backward + step, median of interleaved repeats).

Usage:
    python benchmarks/dna_rc.py                  # the reported configuration (slow)
    python benchmarks/dna_rc.py --quick          # seconds: a smoke run of every code path
    python benchmarks/dna_rc.py --lengths 1000 --train-sizes 1000 --seeds 0 1 2 --epochs 15

Writes benchmarks/results/dna_rc.json, dna_rc.md and dna_rc.png (or *_quick.*).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from gdl_dna.data.dataset import SequenceDataset, collate_sequences
from gdl_dna.data.planted_motifs import generate
from gdl_dna.metrics import binary_metrics
from gdl_dna.task import DNATask
from torch.utils.data import DataLoader

from gdl_science.blueprint import count_parameters

MODES = ("equivariant", "augment", "none")
RESULTS = Path(__file__).parent / "results"


BENCH_MOTIFS = ("MA0139.2", "MA0138.3", "MA0106.3")  # CTCF, REST, TP53: long, specific sites


def make_split(
    n: int, length: int, seed: int, motifs: tuple[str, ...] = BENCH_MOTIFS
) -> tuple[list[str], np.ndarray, list[str]]:
    names, rows = generate(n, length, motifs, seed=seed)
    seqs = [s for _, s, _ in rows]
    y = np.array([labels for _, _, labels in rows], dtype=np.float32)
    return seqs, y, names


def build_task(
    mode: str, names: list[str], length: int, arch: dict, seed: int, lr: float = 3e-3, **kw
) -> DNATask:
    torch.manual_seed(seed)
    return DNATask(
        label_names=names, sequence_length=length, symmetry=mode, augment_seed=seed, lr=lr,
        weight_decay=1e-4, **arch, **kw,
    )  # fmt: skip


@torch.no_grad()
def evaluate(task: DNATask, loader: torch.utils.data.DataLoader, names: list[str]) -> float:
    """Macro auROC through the product's predict path (``predict_sequences``)."""
    was_training = task.training
    task.eval()
    preds, targets = [], []
    for items, y in loader:
        preds.append(task.predict_sequences(items))
        targets.append(y)
    task.train(was_training)
    return binary_metrics(torch.cat(preds), torch.cat(targets), names)["auroc"]


class BestEpoch(pl.Callback):
    """After every training epoch: validation auROC; at a new best, the test auROC."""

    def __init__(self, val: DataLoader, test: DataLoader, names: list[str]) -> None:
        self.val, self.test, self.names = val, test, names
        self.best_val, self.best_test, self.best_epoch, self.curve = -1.0, float("nan"), -1, []

    def on_train_epoch_end(self, trainer: pl.Trainer, task: DNATask) -> None:
        val_auroc = evaluate(task, self.val, self.names)
        self.curve.append(val_auroc)
        if val_auroc > self.best_val:
            self.best_val, self.best_epoch = val_auroc, trainer.current_epoch
            self.best_test = evaluate(task, self.test, self.names)


class StepTimer(pl.Callback):
    """Wall time of the training steps after ``warmup`` (forward, backward, optimiser)."""

    def __init__(self, warmup: int = 2) -> None:
        self.warmup, self.start, self.end = warmup, 0.0, 0.0

    def on_train_batch_start(self, trainer: pl.Trainer, *args: object) -> None:
        if trainer.global_step == self.warmup:
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer: pl.Trainer, *args: object) -> None:
        self.end = time.perf_counter()


def trainer(callbacks: list[pl.Callback], **kw: object) -> pl.Trainer:
    """The product's training step and optimiser (the task's), no logging or checkpoints."""
    return pl.Trainer(
        accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0,
        num_sanity_val_steps=0, callbacks=callbacks, **kw,
    )  # fmt: skip


def train_one(
    mode: str,
    data: dict,
    names: list[str],
    length: int,
    arch: dict,
    seed: int,
    epochs: int,
    lr: float,
) -> dict:
    task = build_task(mode, names, length, arch, seed, lr)
    gen = torch.Generator().manual_seed(seed)
    train = DataLoader(
        data["train"], batch_size=64, shuffle=True, generator=gen, collate_fn=collate_sequences
    )
    val = DataLoader(data["val"], batch_size=256, collate_fn=collate_sequences)
    test = DataLoader(data["test"], batch_size=256, collate_fn=collate_sequences)
    best = BestEpoch(val, test, names)
    start = time.perf_counter()
    trainer([best], max_epochs=epochs).fit(task, train_dataloaders=train)
    return {
        "mode": mode,
        "seed": seed,
        "val_auroc": best.best_val,
        "test_auroc": best.best_test,
        "best_epoch": best.best_epoch,
        "val_curve": best.curve,
        "train_seconds": time.perf_counter() - start,
        "parameters": count_parameters(task),
    }


def throughput(
    names: list[str], length: int, arch: dict, repeats: int, steps: int
) -> dict[str, float]:
    """Training sequences/s per mode (batch 64, the task's training step through Lightning),
    median over ``repeats`` rounds that interleave the modes."""
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), length)) for _ in range(64 * (steps + 2))]
    y = (rng.random((len(seqs), len(names))) < 0.4).astype(np.float32)
    loader = DataLoader(SequenceDataset(seqs, y), batch_size=64, collate_fn=collate_sequences)
    # The plain net at the equivariant net's channel widths (about twice the parameters,
    # the same convolution FLOPs): separates the cost of weight tying from that of width.
    kinds = {m: {"mode": m} for m in MODES}
    kinds["none_equal_width"] = {"mode": "none", "match_parameters": False}
    times: dict[str, list[float]] = {m: [] for m in kinds}
    for _ in range(repeats):
        for m, kw in kinds.items():
            kw = dict(kw)
            task = build_task(kw.pop("mode"), names, length, arch, 0, **kw)
            timer = StepTimer()
            trainer([timer], max_steps=steps + 2).fit(task, train_dataloaders=loader)
            times[m].append(timer.end - timer.start)
    return {m: 64 * steps / statistics.median(ts) for m, ts in times.items()}


def run(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    arch = {
        "channels": args.channels,
        "irrep_channels": args.irrep_channels,
        "kernel_sizes": args.kernel_sizes,
        "dilations": args.dilations,
        "pool_sizes": args.pool_sizes,
        "hidden": [32],
        "dropout": 0.1,
        "kmer": 1,  # the reported configuration: one-hot input, no trunk dropout
        "trunk_dropout": 0.0,
        "head": "invariant",
    }
    results = []
    for length in args.lengths:
        test_seqs, test_y, names = make_split(args.test_size, length, seed=10_000 + length)
        test = SequenceDataset(test_seqs, test_y)
        for n_train in args.train_sizes:
            for seed in args.seeds:
                seqs, y, _ = make_split(n_train + args.val_size, length, seed=seed * 7919 + length)
                data = {
                    "train": SequenceDataset(seqs[:n_train], y[:n_train]),
                    "val": SequenceDataset(seqs[n_train:], y[n_train:]),
                    "test": test,
                }
                for mode in MODES:
                    r = train_one(mode, data, names, length, arch, seed, args.epochs, args.lr)
                    r.update(length=length, n_train=n_train)
                    results.append(r)
                    print(
                        f"L={length} n={n_train} seed={seed} {mode:12s} test auROC "
                        f"{r['test_auroc']:.4f} (epoch {r['best_epoch']}, "
                        f"{r['train_seconds']:.0f} s, "
                        f"{r['parameters']} params)",
                        flush=True,
                    )
    speed = {
        str(length): throughput(names, length, arch, args.speed_repeats, args.speed_steps)
        for length in args.lengths
    }
    return {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "architecture": arch,
        "machine": f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{args.threads} thread(s)",
        "runs": results,
        "throughput": speed,
    }


def summarise(report: dict) -> list[dict]:
    rows = []
    groups: dict[tuple, list[dict]] = {}
    for r in report["runs"]:
        groups.setdefault((r["length"], r["n_train"], r["mode"]), []).append(r)
    for (length, n_train, mode), runs in groups.items():
        aurocs = [r["test_auroc"] for r in runs]
        speed = report["throughput"][str(length)]
        rows.append(
            {
                "length": length,
                "n_train": n_train,
                "mode": mode,
                "seeds": len(runs),
                "auroc_mean": float(np.mean(aurocs)),
                "auroc_std": float(np.std(aurocs)),
                "parameters": runs[0]["parameters"],
                "seq_per_s": speed[mode],
                "speed_vs_none": speed[mode] / speed["none"],
            }
        )
    return rows


def write_outputs(report: dict, stem: str, results: Path = RESULTS) -> None:
    results.mkdir(parents=True, exist_ok=True)
    report["summary"] = summarise(report)
    (results / f"{stem}.json").write_text(json.dumps(report, indent=2))
    lines = [
        "| length | train seqs | mode | seeds | test auROC (mean ± sd) | parameters "
        "| train seq/s | vs none |",
        "|---:|---:|---|---:|---|---:|---:|---:|",
    ]
    for s in report["summary"]:
        lines.append(
            f"| {s['length']} | {s['n_train']} | {s['mode']} | {s['seeds']} | "
            f"{s['auroc_mean']:.3f} ± {s['auroc_std']:.3f} | {s['parameters']} | "
            f"{s['seq_per_s']:.0f} | {s['speed_vs_none']:.2f}x |"
        )
    cfg = report["config"]
    lines += [
        "",
        "Throughput of the plain net at the equivariant net's channel widths (same conv FLOPs, "
        "about twice the parameters), relative to equivariant: "
        + ", ".join(
            f"{length} bp: equivariant {v['equivariant'] / v['none_equal_width']:.2f}x"
            for length, v in report["throughput"].items()
        )
        + ".",
        f"Epochs {cfg['epochs']}, lr {cfg['lr']}, batch 64, validation {cfg['val_size']} and test "
        f"{cfg['test_size']} sequences; machine: {report['machine']}.",
    ]
    (results / f"{stem}.md").write_text("\n".join(lines) + "\n")
    _plot(report, results / f"{stem}.png")
    print("\n".join(lines))


def _plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = sorted({(r["length"], r["n_train"]) for r in report["runs"]})
    fig, axes = plt.subplots(1, len(settings), figsize=(4 * len(settings), 3.2), squeeze=False)
    for ax, (length, n_train) in zip(axes[0], settings):
        for i, mode in enumerate(MODES):
            vals = [
                r["test_auroc"]
                for r in report["runs"]
                if (r["length"], r["n_train"], r["mode"]) == (length, n_train, mode)
            ]
            ax.scatter([i] * len(vals), vals, alpha=0.7)
            ax.errorbar(
                i + 0.15, np.mean(vals), yerr=np.std(vals), fmt="o", color="black", capsize=3
            )
        ax.set_xticks(range(len(MODES)), MODES)
        ax.set_title(f"{length} bp, {n_train} train")
        ax.set_ylabel("test auROC (macro)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny smoke run (seconds)")
    p.add_argument("--lengths", type=int, nargs="+", default=[1000, 200])
    p.add_argument("--train-sizes", type=int, nargs="+", default=[1000])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--channels", type=int, nargs="+", default=[16, 16])
    p.add_argument("--kernel-sizes", type=int, nargs="+", default=[15, 9])
    p.add_argument("--dilations", type=int, nargs="+", default=[1, 2])
    p.add_argument("--pool-sizes", type=int, nargs="+", default=[10, 5])
    p.add_argument("--irrep-channels", type=int, default=4)
    p.add_argument("--val-size", type=int, default=500)
    p.add_argument("--test-size", type=int, default=2000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--stem", default="dna_rc", help="output file stem")
    p.add_argument("--results-dir", type=Path, default=RESULTS)
    p.add_argument("--speed-repeats", type=int, default=3)
    p.add_argument("--speed-steps", type=int, default=10)
    args = p.parse_args()
    if args.quick:
        args.lengths, args.train_sizes, args.seeds, args.epochs = [128], [96], [0], 1
        args.channels, args.irrep_channels, args.pool_sizes = [4, 4], 2, [4, 1]
        args.val_size, args.test_size, args.speed_repeats, args.speed_steps = 32, 64, 1, 2
    report = run(args)
    write_outputs(report, "dna_rc_quick" if args.quick else args.stem, args.results_dir)


if __name__ == "__main__":
    main()
