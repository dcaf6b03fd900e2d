"""Benchmark: training throughput of the dna networks, equivariant vs plain.

Train steps (forward + backward + AdamW, batch 64, one thread) of the default
architecture (configs/dna/default.yaml) on random one-hot batches at the GUE lengths,
for: the RC-equivariant net; the plain net at equal parameter count (``none``); the
plain net at the equivariant net's channel widths (equal FLOPs, about twice the
parameters); and the strand head's conjoined trunk (trained on the given strand only).
Modes are interleaved and the median of the repeats is reported, so background load on
a shared machine hits every mode alike.

Usage:
    python benchmarks/dna_throughput.py [--lengths 101 300] [--repeats 7] [--steps 5]

Writes benchmarks/results/dna_throughput.json and .md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch
import yaml
from gdl_dna.data.framing import FramedGroup
from gdl_dna.layers import RCConv1d
from gdl_dna.task import DNATask

from gdl_science.blueprint import count_parameters

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
ARCH_KEYS = ("channels", "irrep_channels", "kernel_sizes", "dilations", "pool_sizes", "hidden")


def default_arch() -> dict:
    model = yaml.safe_load((ROOT / "configs/dna/default.yaml").read_text())["model"]
    return {k: model[k] for k in ARCH_KEYS if k in model}


def variants(length: int, arch: dict) -> dict[str, DNATask]:
    kw = dict(sequence_length=length, **arch)
    return {
        "equivariant": DNATask(symmetry="equivariant", **kw),
        # The same regular pairs without the +1/-1 irrep channels (--model.irrep_channels 0):
        # what the irreps' split/cat per stage costs.
        "equivariant, no irreps": DNATask(symmetry="equivariant", **{**kw, "irrep_channels": 0}),
        "none (equal parameters)": DNATask(symmetry="none", **kw),
        "none (equal width)": DNATask(symmetry="none", match_parameters=False, **kw),
        "strand, conjoined trunk": DNATask(symmetry="equivariant", head="strand", **kw),
        "strand, tied trunk": DNATask(
            symmetry="equivariant", head="strand", strand_trunk="tied", **kw
        ),
    }


def conv_macs(task: DNATask, length: int) -> int:
    """Multiply-adds of every convolution for one sequence of ``length`` (forward).

    Counted from the modules' real shapes with forward hooks, so tied and plain layers
    are counted alike (a tied RC conv runs as one dense ``conv1d`` of its full width).
    """
    total = 0

    def hook(module: torch.nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        c_in = inputs[0].shape[1]
        k = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        total += output.shape[1] * c_in * k * output.shape[-1]

    convs = [m for m in task.modules() if isinstance(m, (torch.nn.Conv1d, RCConv1d))]
    handles = [m.register_forward_hook(hook) for m in convs]
    x = torch.nn.functional.one_hot(torch.randint(4, (1, length)), 4).transpose(1, 2).float()
    with torch.no_grad():
        task.eval()
        task(x)  # what a train step runs (the conjoined trunk: the given strand only)
        task.train()
    for h in handles:
        h.remove()
    return total


def measure(length: int, arch: dict, repeats: int, steps: int) -> list[dict]:
    torch.manual_seed(0)
    tasks = {name: t.train() for name, t in variants(length, arch).items()}
    x = torch.nn.functional.one_hot(torch.randint(4, (64, length)), 4).transpose(1, 2).float()
    batch = ([FramedGroup(torch.arange(64), x, None)], (torch.rand(64, 1) < 0.5).float())
    opts = {n: torch.optim.AdamW(t.parameters(), lr=1e-3) for n, t in tasks.items()}
    times: dict[str, list[float]] = {n: [] for n in tasks}
    for _ in range(repeats):
        for name, task in tasks.items():
            for i in range(steps + 2):  # two warm-up steps
                if i == 2:
                    start = time.perf_counter()
                loss = task.step(batch).loss
                opts[name].zero_grad()
                loss.backward()
                opts[name].step()
            times[name].append(time.perf_counter() - start)
    rows = []
    base = 64 * steps / statistics.median(times["none (equal parameters)"])
    base_macs = conv_macs(tasks["none (equal parameters)"], length)
    for name, ts in times.items():
        speed = 64 * steps / statistics.median(ts)
        macs = conv_macs(tasks[name], length)
        rows.append({
            "length": length, "model": name, "parameters": count_parameters(tasks[name]),
            "seq_per_s": speed, "vs_none": speed / base, "conv_macs": macs,
            "macs_vs_none": macs / base_macs,
            # speed x work: 1.0 = the same multiply-adds per second as none
            "work_rate_vs_none": speed * macs / (base * base_macs),
        })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[101, 300])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    arch = default_arch()
    rows = [r for n in args.lengths for r in measure(n, arch, args.repeats, args.steps)]
    report = {
        "command": "python benchmarks/dna_throughput.py",
        "machine": f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{args.threads} thread(s), the other core busy with another job",
        "architecture": arch,
        "rows": rows,
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / "dna_throughput.json").write_text(json.dumps(report, indent=1))
    lines = [
        f"# dna training throughput (`{report['command']}`; {report['machine']})",
        "",
        "| length | model | parameters | train seq/s | vs none | conv MMACs/seq | MACs vs none "
        "| MAC/s vs none |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['length']} | {r['model']} | {r['parameters']} | {r['seq_per_s']:.0f} | "
        f"{r['vs_none']:.2f}x | {r['conv_macs'] / 1e6:.1f} | {r['macs_vs_none']:.2f}x | "
        f"{r['work_rate_vs_none']:.2f}x |"
        for r in rows
    ]
    (args.results_dir / "dna_throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
