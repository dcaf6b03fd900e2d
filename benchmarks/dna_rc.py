"""Benchmark: RC-equivariant vs augmented vs plain CNN on planted JASPAR motifs.

For each sequence length, training-set size and seed, the same generator
(``gdl_dna.data.planted_motifs``: CTCF, SPI1 and FOXA1 matrices planted on random
strands, i.i.d. background) makes a training set, a validation set (for choosing the
epoch) and a 2000-sequence test set. The three symmetry modes train the same blueprint
at equal trainable-parameter count (the plain net's widths are scaled to match), with
the same optimiser, epochs and batches. We report the macro test auROC at the epoch of
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

import numpy as np
import torch
from gdl_dna.data.dataset import SequenceDataset, collate_sequences
from gdl_dna.data.framing import FramedGroup
from gdl_dna.data.planted_motifs import generate
from gdl_dna.metrics import binary_metrics
from gdl_dna.task import DNATask

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


def build_task(mode: str, names: list[str], length: int, arch: dict, seed: int) -> DNATask:
    torch.manual_seed(seed)
    return DNATask(
        label_names=names, sequence_length=length, symmetry=mode, augment_seed=seed, **arch
    )


@torch.no_grad()
def evaluate(task: DNATask, loader: torch.utils.data.DataLoader, names: list[str]) -> float:
    task.eval()
    preds, targets = [], []
    for items, y in loader:
        preds.append(task.predict_sequences(items))
        targets.append(y)
    return binary_metrics(torch.cat(preds), torch.cat(targets), names)["auroc"]


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
    task = build_task(mode, names, length, arch, seed)
    gen = torch.Generator().manual_seed(seed)
    loader = torch.utils.data.DataLoader
    train = loader(
        data["train"], batch_size=64, shuffle=True, generator=gen, collate_fn=collate_sequences
    )
    val = loader(data["val"], batch_size=256, collate_fn=collate_sequences)
    test = loader(data["test"], batch_size=256, collate_fn=collate_sequences)
    opt = torch.optim.AdamW(task.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * len(train))
    best_val, best_test, best_epoch, curve = -1.0, float("nan"), -1, []
    aug_gen = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for epoch in range(epochs):
        task.train()
        for raw in train:
            batch = task.on_before_batch_transfer(raw, 0)  # pad by the window rule
            if mode == "augment":
                batch = task.random_transform(batch, aug_gen)
            loss = task.step(batch).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        val_auroc = evaluate(task, val, names)
        curve.append(val_auroc)
        if val_auroc > best_val:
            best_val, best_epoch = val_auroc, epoch
            best_test = evaluate(task, test, names)
    return {
        "mode": mode,
        "seed": seed,
        "val_auroc": best_val,
        "test_auroc": best_test,
        "best_epoch": best_epoch,
        "val_curve": curve,
        "train_seconds": time.perf_counter() - start,
        "parameters": count_parameters(task),
    }


def throughput(
    names: list[str], length: int, arch: dict, repeats: int, steps: int
) -> dict[str, float]:
    """Training sequences/s per mode: batch 64, forward+backward+AdamW step, interleaved."""
    x = torch.nn.functional.one_hot(torch.randint(4, (64, length)), 4).transpose(1, 2).float()
    y = (torch.rand(64, len(names)) < 0.4).float()
    index = torch.arange(64)
    tasks = {m: build_task(m, names, length, arch, 0).train() for m in MODES}
    # The plain net at the equivariant net's channel widths (about twice the parameters,
    # the same convolution FLOPs): separates the cost of weight tying from that of width.
    wide = DNATask(
        label_names=names, sequence_length=length, symmetry="none", match_parameters=False, **arch
    )
    tasks["none_equal_width"] = wide.train()
    opts = {m: torch.optim.AdamW(t.parameters(), lr=1e-3) for m, t in tasks.items()}
    gen = torch.Generator().manual_seed(0)
    times: dict[str, list[float]] = {m: [] for m in tasks}
    for _ in range(repeats):
        for m in tasks:
            task, opt = tasks[m], opts[m]
            for i in range(steps + 2):  # two warm-up steps
                if i == 2:
                    t0 = time.perf_counter()
                batch = ([FramedGroup(index, x, None)], y)
                if m == "augment":
                    batch = task.random_transform(batch, gen)
                loss = task.step(batch).loss
                opt.zero_grad()
                loss.backward()
                opt.step()
            times[m].append(time.perf_counter() - t0)
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
