"""Benchmark: training throughput of the dna networks, equivariant vs plain.

Train steps (forward + backward + AdamW, batch 64, one thread) of the default
architecture (configs/dna/default.yaml) on random one-hot batches at the GUE lengths,
for: the RC-equivariant net; the plain net at equal parameter count (``none``); the
plain net at the equivariant net's channel widths (equal FLOPs, about twice the
parameters); the strand head's conjoined trunk (trained on the given strand only); and
the equivariant net with its convolutions folded (``RCConv1d(fold=True)``: half the
multiply-adds); and the plain net with ``LiveTapConv1d`` (it skips the kernel taps that
read only padding, as the RC layers do). Modes are interleaved and the median of the
repeats is reported (ratios: the median of per-repeat ratios), so background load on a
shared machine hits every mode alike.

Two breakdowns explain the ratios (same interleaving, forward + backward each):
- per stage of the equivariant and the plain net (conv / norm / activation / pool ...),
  fed with real activations: ``dna_throughput_stages.md``;
- per convolution of the equivariant net, dense ``conv1d`` against the folded GEMMs on
  the layer's real input shape: ``dna_throughput_layers.md`` (where ``fold`` would pay).

Usage:
    python benchmarks/dna_throughput.py [--lengths 101 300] [--repeats 7] [--steps 5]

Writes benchmarks/results/dna_throughput{,_stages,_layers}.json and .md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
import yaml
from gdl_dna.data.framing import FramedGroup
from gdl_dna.layers import RCConv1d
from gdl_dna.layers.folded import folded_conv1d
from gdl_dna.layers.taps import LiveTapConv1d, live_taps, same_conv1d
from gdl_dna.task import DNATask

from gdl_science.blueprint import count_parameters

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
ARCH_KEYS = ("channels", "irrep_channels", "kernel_sizes", "dilations", "pool_sizes", "hidden")


def default_arch() -> dict:
    model = yaml.safe_load((ROOT / "configs/dna/default.yaml").read_text())["model"]
    # One-hot input (kmer 1): the trunk as measured; the k-mer layer has no weights.
    return {**{k: model[k] for k in ARCH_KEYS if k in model}, "kmer": 1, "trunk_dropout": 0.0}


def variants(length: int, arch: dict) -> dict[str, DNATask]:
    kw = dict(sequence_length=length, **arch)
    return {
        "equivariant": DNATask(symmetry="equivariant", **kw),
        # The same regular pairs without the +1/-1 irrep channels (--model.irrep_channels 0):
        # what the irreps' split/cat per stage costs.
        "equivariant, no irreps": DNATask(symmetry="equivariant", **{**kw, "irrep_channels": 0}),
        "none (equal parameters)": DNATask(symmetry="none", **kw),
        # The plain net with the RC layers' dead-tap skipping (LiveTapConv1d): what none
        # would run at if model.py used it too (the fair comparison for that saving).
        "none, live taps": live(DNATask(symmetry="none", **kw)),
        "none (equal width)": DNATask(symmetry="none", match_parameters=False, **kw),
        "strand, conjoined trunk": DNATask(symmetry="equivariant", head="strand", **kw),
        "strand, tied trunk": DNATask(
            symmetry="equivariant", head="strand", strand_trunk="tied", **kw
        ),
        "equivariant, folded convs": folded(DNATask(symmetry="equivariant", **kw)),
    }


def live(task: DNATask) -> DNATask:
    """The same task with its plain ``nn.Conv1d`` layers skipping taps that read only
    padding (``LiveTapConv1d``: a subclass, same parameters and output)."""
    for m in task.modules():
        if type(m) is torch.nn.Conv1d:
            m.__class__ = LiveTapConv1d
    return task


def folded(task: DNATask) -> DNATask:
    """The same task with every foldable RC convolution computed by the folded GEMMs."""
    for m in task.modules():
        if isinstance(m, RCConv1d) and m.kernel_size > 1 and m.padding > 0:
            m.fold = True
    return task


def interleaved(fns: dict, repeats: int) -> dict:
    """Median seconds per call of each function, called in turn ``repeats`` times."""
    for f in fns.values():
        f()  # warm-up
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            start = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}


def stage_fns(task: DNATask, length: int) -> dict[str, object]:
    """One forward + backward call per stage of ``task.net`` on a batch of 64, each fed
    the previous stage's real output (the loss gradient replaced by ones)."""
    x = torch.nn.functional.one_hot(torch.randint(4, (64, length)), 4).transpose(1, 2).float()
    fns = {}
    for name in task.net.stage_names:
        stage = getattr(task.net, name)
        xi = x.detach().requires_grad_(name != task.net.stage_names[0])

        def run(stage: torch.nn.Module = stage, xi: torch.Tensor = xi) -> None:
            stage(xi).sum().backward()

        fns[name] = run
        with torch.no_grad():
            x = stage(xi)
        if x.dim() == 2:
            break
    return fns


def stage_times(tasks: dict[str, DNATask], length: int, repeats: int) -> dict[str, dict]:
    """Median seconds per stage for each task; all stages of all tasks interleaved."""
    fns = {(n, s): f for n, t in tasks.items() for s, f in stage_fns(t, length).items()}
    times = interleaved(fns, repeats)
    return {n: {s: v for (m, s), v in times.items() if m == n} for n in tasks}


def layer_times(task: DNATask, length: int, repeats: int) -> list[dict]:
    """Dense conv1d against the folded GEMMs, forward + backward (weights included), for
    every RC convolution of ``task`` on its real input shape (batch 64)."""
    shapes: dict[RCConv1d, torch.Size] = {}
    convs = [m for m in task.modules() if isinstance(m, RCConv1d) and m.padding > 0]

    def record(module: torch.nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        shapes.setdefault(module, inputs[0].shape)  # returns None: the output is kept

    hooks = [m.register_forward_hook(record) for m in convs]
    x = torch.nn.functional.one_hot(torch.randint(4, (64, length)), 4).transpose(1, 2).float()
    with torch.no_grad():
        task.net(x)
    for h in hooks:
        h.remove()
    rows = []
    for i, conv in enumerate(convs):
        xi = torch.randn(shapes[conv], requires_grad=i > 0)

        def all_taps(conv: RCConv1d = conv, xi: torch.Tensor = xi) -> None:
            F.conv1d(xi, conv.weight(), conv.bias(), padding=conv.padding,
                     dilation=conv.dilation).sum().backward()  # fmt: skip

        def dense(conv: RCConv1d = conv, xi: torch.Tensor = xi) -> None:
            same_conv1d(xi, conv.weight(), conv.bias(), conv.dilation).sum().backward()

        def fold(conv: RCConv1d = conv, xi: torch.Tensor = xi) -> None:
            folded_conv1d(xi, conv.weight(), conv.bias(), conv.in_type, conv.out_type,
                          conv.dilation).sum().backward()  # fmt: skip

        t = interleaved({"all": all_taps, "dense": dense, "folded": fold}, repeats)
        rows.append({
            "length": length, "layer": i, "input": list(shapes[conv]),
            "channels": f"{conv.in_type.size} -> {conv.out_type.size}",
            "kernel_size": conv.kernel_size, "dilation": conv.dilation,
            "live_taps": 2 * live_taps(conv.kernel_size, conv.dilation, shapes[conv][-1]) + 1,
            "all_taps_ms": 1e3 * t["all"], "dense_ms": 1e3 * t["dense"],
            "folded_ms": 1e3 * t["folded"],
            "folded_vs_dense": t["dense"] / t["folded"],
        })  # fmt: skip
    return rows


def conv_macs(task: DNATask, length: int) -> int:
    """Multiply-adds of every convolution for one sequence of ``length`` (forward).

    Counted from the modules' real shapes with forward hooks, so tied and plain layers
    are counted alike: a tied RC conv runs as one dense ``conv1d`` of its full width over
    its live taps (``gdl_dna.layers.taps``; a plain ``nn.Conv1d`` runs all K), a folded
    one as its two GEMMs.
    """
    total = 0

    def hook(module: torch.nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        c_in = inputs[0].shape[1]
        k = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        dilation = module.dilation if isinstance(module, RCConv1d) else module.dilation[0]
        if isinstance(module, LiveTapConv1d) or (isinstance(module, RCConv1d) and module.same):
            k = min(k, 2 * live_taps(k, dilation, output.shape[-1]) + 1)  # the taps it runs
        if isinstance(module, RCConv1d) and module.fold:
            taps = live_taps(k, module.dilation, output.shape[-1])
            i, o = module.in_type, module.out_type
            p_in, m_in = i.regular + i.plus, i.regular + i.minus
            p_out, m_out = o.regular + o.plus, o.regular + o.minus
            per_position = p_out * (p_in * (1 + taps) + m_in * taps)
            per_position += m_out * (m_in * (1 + taps) + p_in * taps)
            total += per_position * output.shape[-1]
            return
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
    none = times["none (equal parameters)"]
    base_macs = conv_macs(tasks["none (equal parameters)"], length)
    for name, ts in times.items():
        speed = 64 * steps / statistics.median(ts)
        # The ratio is the median of per-repeat ratios: each repeat times every model
        # within a few seconds, so slow drifts of the background load cancel.
        vs_none = statistics.median(t_none / t for t_none, t in zip(none, ts))
        macs = conv_macs(tasks[name], length)
        rows.append({
            "length": length, "model": name, "parameters": count_parameters(tasks[name]),
            "seq_per_s": speed, "vs_none": vs_none, "conv_macs": macs,
            "macs_vs_none": macs / base_macs,
            # speed x work: 1.0 = the same multiply-adds per second as none
            "work_rate_vs_none": vs_none * macs / base_macs,
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
    write_breakdowns(args, arch, report["machine"])
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


def write_breakdowns(args: argparse.Namespace, arch: dict, machine: str) -> None:
    """Per-stage and per-convolution timings (see the module docstring)."""
    stages, layers = [], []
    for n in args.lengths:
        torch.manual_seed(0)
        eq = DNATask(symmetry="equivariant", sequence_length=n, **arch).train()
        plain = DNATask(symmetry="none", sequence_length=n, **arch).train()
        both = stage_times({"eq": eq, "none": plain}, n, args.repeats)
        t_eq, t_plain = both["eq"], both["none"]
        for name in dict.fromkeys([*t_eq, *t_plain]):
            stages.append({"length": n, "stage": name, "equivariant_ms": 1e3 * t_eq.get(name, 0.0),
                           "none_ms": 1e3 * t_plain.get(name, 0.0)})  # fmt: skip
        layers += layer_times(eq, n, args.repeats)
    cmd = "python benchmarks/dna_throughput.py"
    (args.results_dir / "dna_throughput_stages.json").write_text(
        json.dumps({"command": cmd, "machine": machine, "rows": stages}, indent=1)
    )
    (args.results_dir / "dna_throughput_layers.json").write_text(
        json.dumps({"command": cmd, "machine": machine, "rows": layers}, indent=1)
    )
    lines = [
        f"# dna train-step time per stage, forward + backward, batch 64 (`{cmd}`; {machine})",
        "",
        "| length | stage | equivariant ms | none (equal parameters) ms |",
        "|---:|---|---:|---:|",
    ]
    for n in args.lengths:
        rows = [r for r in stages if r["length"] == n]
        lines += [
            f"| {n} | {r['stage']} | {r['equivariant_ms']:.2f} | {r['none_ms']:.2f} |" for r in rows
        ]
        eq_sum, none_sum = (sum(r[k] for r in rows) for k in ("equivariant_ms", "none_ms"))
        lines.append(f"| {n} | **all stages** | **{eq_sum:.2f}** | **{none_sum:.2f}** |")
    (args.results_dir / "dna_throughput_stages.md").write_text("\n".join(lines) + "\n")
    lines = [
        f"# dna RC convolutions, forward + backward (`{cmd}`; {machine})",
        "",
        "Dense conv1d with all K taps, dense with the live taps only (the default path: taps",
        "reading only padding skipped), and the folded GEMMs (`RCConv1d(fold=True)`).",
        "",
        "| length | layer | input (B, C, L) | channels | kernel | live taps | dilation "
        "| all taps ms | dense (live taps) ms | folded ms | folded speed vs dense |",
        "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['length']} | {r['layer']} | {tuple(r['input'])} | {r['channels']} | "
        f"{r['kernel_size']} | {r['live_taps']} | {r['dilation']} | {r['all_taps_ms']:.2f} | "
        f"{r['dense_ms']:.2f} | {r['folded_ms']:.2f} | {r['folded_vs_dense']:.2f}x |"
        for r in layers
    ]
    (args.results_dir / "dna_throughput_layers.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
