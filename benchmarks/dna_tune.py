"""Cheap hyperparameter probes for the dna default on the GUE dev sets (one core).

Trains ``DNATask`` with the product's own step, optimiser and per-step schedule
(AdamW, cosine to zero over the run) in a bare loop, without Lightning, and scores
dev after every epoch: MCC at 0.5, AUROC, dev loss. Used to decide what moves dev MCC
(width, depth, dropout, weight decay, lr, epochs) before spending full fits on the CLI
(``benchmarks/dna_real.py``). Train can be subsampled (``--limit``); dev is always whole.

Usage:
    python benchmarks/dna_tune.py --task tf0 --limit 8000 --epochs 4 \
        --set channels=[64,64,64] dropout=0.3 --name probe_a

``--set`` takes ``key=value`` overrides of ``DNATask`` arguments (values parsed as YAML);
the base is ``configs/dna/default.yaml``'s model section *at the time of the probe* (the
default changed during tuning: every probe whose overrides do not name dropout and
weight_decay ran on the earlier dropout 0.1 and no weight decay). Appends
one JSON line per probe to benchmarks/results/dna_tune.jsonl (and prints the per-epoch
curve); ``--report`` rewrites benchmarks/results/dna_tune.md from that file.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from gdl_dna.data.alphabet import encode
from gdl_dna.metrics import mcc
from gdl_dna.task import DNATask
from gdl_dna.weight_averaging import rc_safe_ema_avg_fn
from torchmetrics.functional.classification import binary_auroc

from gdl_science.training.schedules import build_optimizer, build_schedule

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("GDL_SHARED_DATA", ROOT / ".." / "shared" / "data")) / "dna"
TASKS = {"tf0": "gue_tf0", "tata": "gue_prom300_tata"}


def load(path: Path, limit: int | None, seed: int) -> tuple[list[np.ndarray], torch.Tensor]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    if limit and limit < len(rows):
        pick = np.random.default_rng(seed).choice(len(rows), limit, replace=False)
        rows = [rows[i] for i in sorted(pick)]
    xs = [encode(r["sequence"]) for r in rows]
    y = torch.tensor([[float(r["label"])] for r in rows])
    return xs, y


def batches(n: int, size: int, rng: np.random.Generator | None):
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for i in range(0, n, size):
        yield order[i : i + size]


def evaluate(task: DNATask, xs: list[np.ndarray], y: torch.Tensor) -> dict[str, float]:
    task.eval()
    probs = torch.cat(
        [task.predict_sequences([xs[i] for i in idx]) for idx in batches(len(xs), 256, None)]
    )
    p = probs[:, 0].numpy()
    loss = float(
        torch.nn.functional.binary_cross_entropy(probs[:, 0].clamp(1e-7, 1 - 1e-7), y[:, 0])
    )
    return {"mcc": mcc(torch.from_numpy((p > 0.5).astype(np.int64)), y[:, 0].long()),
            "auroc": float(binary_auroc(probs[:, 0], y[:, 0].long())), "loss": loss}  # fmt: skip


def run(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    model = yaml.safe_load((ROOT / "configs/dna/default.yaml").read_text())["model"]
    batch_size = yaml.safe_load((ROOT / "configs/dna/default.yaml").read_text())["data"][
        "batch_size"
    ]
    for item in args.set:
        key, value = item.split("=", 1)
        if key == "batch_size":
            batch_size = int(value)
            continue
        model[key] = yaml.safe_load(value)
    folder = DATA / TASKS[args.task]
    train_x, train_y = load(folder / "train.tsv", args.limit, args.seed)
    dev_x, dev_y = load(folder / "dev.tsv", None, 0)
    held = None
    if args.holdout:
        # The last N train rows (a fixed pick, whatever the seed) scored like dev: does dev
        # come from the training distribution?
        held = (train_x[-args.holdout :], train_y[-args.holdout :])
        train_x, train_y = train_x[: -args.holdout], train_y[: -args.holdout]
    torch.manual_seed(args.seed)
    length = max(x.shape[1] for x in train_x)
    task = DNATask(sequence_length=length, **model)
    opt = build_optimizer("adamw", task.parameters(), task.lr, task.weight_decay)
    steps = args.epochs * -(-len(train_x) // batch_size)
    sched = build_schedule(opt, task.scheduler_name, steps, task.warmup_steps)
    rng, gen = np.random.default_rng(args.seed), torch.Generator().manual_seed(args.seed)
    seq_gen = torch.Generator().manual_seed(args.seed + 7919)
    # The averaging of gdl_dna's RCSafeEMA callback (parameters and batch-norm statistics;
    # integer buffers copied: the stock EMA truncates them, see gdl_dna.weight_averaging).
    ema = (
        torch.optim.swa_utils.AveragedModel(
            task, multi_avg_fn=rc_safe_ema_avg_fn(args.ema), use_buffers=True
        )
        if args.ema
        else None
    )
    curve, start = [], time.perf_counter()
    for epoch in range(args.epochs):
        task.train()
        t0, losses = time.perf_counter(), []
        for idx in batches(len(train_x), batch_size, rng):
            items = task.augment_items([train_x[i] for i in idx], seq_gen)
            batch = (task.frame(items), train_y[idx])
            if task.symmetry == "augment":
                batch = task.random_transform(batch, gen)
            loss = task.step(batch).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if ema is not None:
                ema.update_parameters(task)
            losses.append(float(loss.detach()))
        train_s = time.perf_counter() - t0
        scores = evaluate(task, dev_x, dev_y)
        if ema is not None:  # the averaged weights are what a checkpoint would hold
            raw = scores
            scores = evaluate(ema.module, dev_x, dev_y)
            scores |= {f"raw_{k}": v for k, v in raw.items()}
        if held is not None:
            scores |= {
                f"held_{k}": v for k, v in evaluate(ema.module if ema else task, *held).items()
            }
        curve.append({"epoch": epoch + 1, "train_loss": float(np.mean(losses)),
                      "train_seq_s": len(train_x) / train_s, **scores})  # fmt: skip
        print(json.dumps(curve[-1]), flush=True)
    best = max(curve, key=lambda c: c["auroc"])
    n_params = sum(p.numel() for p in task.parameters())
    return {"name": args.name, "task": args.task, "limit": args.limit, "epochs": args.epochs,
            "seed": args.seed, "set": args.set + ([f"ema={args.ema}"] if args.ema else [])
            + ([f"holdout={args.holdout}"] if args.holdout else []), "parameters": n_params,
            "wall_s": time.perf_counter() - start, "curve": curve,
            "best_auroc_epoch": best["epoch"], "mcc_at_best_auroc": best["mcc"],
            "max_mcc": max(c["mcc"] for c in curve), "last_mcc": curve[-1]["mcc"]}  # fmt: skip


def report(path: Path) -> None:
    """One Markdown row per probe of the JSONL log, in the order they ran."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    lines = [
        "# dna tuning probes on GUE dev (`python benchmarks/dna_tune.py ...`; one thread, "
        "the other core busy with another job)",
        "",
        "Train subsampled where `limit` is set; dev always whole; cosine schedule over the "
        "probe's epochs; MCC at 0.5. One seed per row (seed 0 unless the name says `_s1`). "
        "Rows whose overrides do not name dropout and weight_decay ran on the earlier "
        "default (dropout 0.1, no weight decay). `ema=D`: dev scored with an exponential "
        "moving average of the weights (decay D); the `_ema` rows before the `safeema` ones "
        "used torch's stock EMA, which truncates the RC layers' integer index buffers "
        "(a scrambled net: their EMA figures are void, the `raw_*` curves in the JSONL are "
        "fine). `holdout=N`: N train rows held out and scored too (`held_*` in the JSONL).",
        "",
        "| probe | task | epochs | overrides | params | dev MCC at best AUROC | max MCC | last "
        "MCC | best AUROC | wall s |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        best_auroc = max(c["auroc"] for c in r["curve"])
        lines.append(
            f"| {r['name']} | {r['task']} | {r['epochs']} | {' '.join(r['set']) or '-'} | "
            f"{r['parameters']} | {r['mcc_at_best_auroc']:.3f} | {r['max_mcc']:.3f} | "
            f"{r['last_mcc']:.3f} | {best_auroc:.3f} | {r['wall_s']:.0f} |"
        )
    path.with_suffix(".md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=list(TASKS))
    parser.add_argument("--limit", type=int, default=None, help="random N training rows")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 1)))
    parser.add_argument("--set", nargs="*", default=[], help="DNATask overrides key=value")
    parser.add_argument("--name", default="probe")
    parser.add_argument("--ema", type=float, default=0.0, help="EMA decay (0 = off)")
    parser.add_argument("--holdout", type=int, default=0, help="score N train rows too")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/dna_tune.jsonl")
    parser.add_argument("--report", action="store_true", help="only rewrite the .md table")
    args = parser.parse_args(argv)
    if args.report:
        report(args.out)
        return
    if args.task is None:
        parser.error("--task is required")
    result = run(args)
    print(f"{args.name}: max MCC {result['max_mcc']:.3f} last {result['last_mcc']:.3f} "
          f"wall {result['wall_s']:.0f}s params {result['parameters']}")  # fmt: skip
    with open(args.out, "a") as fh:
        fh.write(json.dumps(result) + "\n")
    report(args.out)


if __name__ == "__main__":
    main()
