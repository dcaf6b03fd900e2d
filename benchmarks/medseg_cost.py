"""Cost of the symmetry prior: train-step time, peak memory and inference speed.

Networks (all 2-level U-Nets with the same pooling and decoder unless noted):
- equivariant: the escnn octahedral U-Net, ``widths`` regular fields (24 channels each);
- plain_same_widths: the plain U-Net with the same channel widths (24 × widths);
- plain_matched_params: the plain U-Net scaled to the equivariant parameter count;
- monai_matched_params: MONAI's UNet (residual units) at that parameter count, if installed.
Train step = ``MedSegTask.training_step`` (the product's Dice + cross-entropy loss, on
random labels) + backward + AdamW step, batch 2: every network is put in the task, so the
step is the one fit runs. Timings
interleave the networks round-robin (the machine is shared, so load drifts hit all of
them alike) and report medians. Peak memory is the rise of the process's peak RSS
(VmHWM) during two train steps, measured in a fresh subprocess per network.
Inference: voxels per second of an eval-mode forward, escnn vs exported plain PyTorch.

    python benchmarks/medseg_cost.py [--quick] [--size 33] [--widths 2,4] [--reps 7]
Writes medseg_cost.json and medseg_cost.md under --out.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import torch
from gdl_medseg.layers.escnn_unet import EquivariantUNet
from gdl_medseg.layers.unet import build_plain_unet, matched_plain_channels
from gdl_medseg.task import MedSegTask

from gdl_science.blueprint import count_parameters


def build(name: str, widths: list[int], convs: int, n_classes: int = 4) -> torch.nn.Module:
    if name == "equivariant":
        return EquivariantUNet(1, n_classes, widths, convs)
    if name == "plain_same_widths":
        return build_plain_unet(1, n_classes, [24 * w for w in widths], convs)
    target = count_parameters(EquivariantUNet(1, n_classes, widths, convs))
    if name == "plain_matched_params":
        return build_plain_unet(
            1, n_classes, matched_plain_channels(target, 1, n_classes, widths, convs), convs
        )
    if name == "monai_matched_params":
        from monai.networks.nets import UNet

        nets = [
            UNet(3, 1, n_classes, channels=(b, 2 * b), strides=(2,), num_res_units=2)
            for b in range(2, 48)
        ]
        return min(nets, key=lambda n: abs(count_parameters(n) - target))
    raise ValueError(name)


def input_size(name: str, size: int) -> int:
    return size - 1 if name.startswith("monai") else size  # MONAI's strided convs want even sizes


def as_task(net: torch.nn.Module) -> MedSegTask:
    """The product's task around ``net`` (its loss and training step)."""
    task = MedSegTask(n_classes=4, channels=[2, 2], convs_per_level=1, symmetry="none",
                      deep_supervision=False)
    task.net = net
    return task


def batch_for(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(image (B, 1, S, S, S), random labels (B, S, S, S) of 4 classes), seeded."""
    g = torch.Generator().manual_seed(0)
    return x, torch.randint(0, 4, (x.shape[0], *x.shape[2:]), generator=g)


def train_step(task: MedSegTask, opt: torch.optim.Optimizer, batch: tuple) -> float:
    t0 = time.perf_counter()
    with warnings.catch_warnings():  # self.log() outside a Trainer only warns
        warnings.simplefilter("ignore")
        loss = task.training_step(batch, 0)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return time.perf_counter() - t0


def vm_hwm_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def peak_memory_child(name: str, widths: list[int], convs: int, size: int) -> None:
    """Run in a subprocess: print the peak-RSS rise (MiB) of two train steps."""
    torch.set_num_threads(1)
    net = build(name, widths, convs).train()
    s = input_size(name, size)
    batch = batch_for(torch.randn(2, 1, s, s, s))
    opt = torch.optim.AdamW(net.parameters())
    task = as_task(net)
    before = vm_hwm_kib()
    for _ in range(2):
        train_step(task, opt, batch)
    print(json.dumps({"peak_mib": (vm_hwm_kib() - before) / 1024}))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--size", type=int, default=33)
    p.add_argument("--widths", default="2,4")
    p.add_argument("--convs", type=int, default=2)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--out", default="benchmarks/results")
    p.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.quick:
        a.size, a.widths, a.convs, a.reps = 9, "1,1", 1, 2
    widths = [int(w) for w in a.widths.split(",")]
    if a.memory_child:
        peak_memory_child(a.memory_child, widths, a.convs, a.size)
        return
    torch.set_num_threads(1)
    names = ["equivariant", "plain_same_widths", "plain_matched_params"]
    try:
        import monai  # noqa: F401

        names.append("monai_matched_params")
    except ImportError:
        print("monai not installed (pip install --no-deps monai): its row is skipped")
    nets = {n: build(n, widths, a.convs).train() for n in names}
    opts = {n: torch.optim.AdamW(nets[n].parameters()) for n in names}
    inputs = {n: torch.randn(2, 1, *(3 * [input_size(n, a.size)])) for n in names}
    tasks = {n: as_task(nets[n]) for n in names}
    for n in names:  # warm-up
        train_step(tasks[n], opts[n], batch_for(inputs[n]))
    times: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(a.reps):
        for n in names:
            times[n].append(train_step(tasks[n], opts[n], batch_for(inputs[n])))

    # Inference: escnn eval mode vs its export, and the plain networks, batch 1.
    infer_nets = {f"{n}": nets[n].eval() for n in names}
    infer_nets["equivariant_exported"] = nets["equivariant"].export()
    voxels_per_s: dict[str, float] = {}
    with torch.no_grad():
        for _ in range(1):
            for n, net in infer_nets.items():
                base = n.replace("_exported", "")
                x = inputs[base][:1]
                net(x)
                ts = []
                for _ in range(max(2, a.reps // 2)):
                    t0 = time.perf_counter()
                    net(x)
                    ts.append(time.perf_counter() - t0)
                voxels_per_s[n] = x[0, 0].numel() / statistics.median(ts)

    memory = {}
    for n in names:
        cmd = [
            sys.executable,
            __file__,
            "--memory-child",
            n,
            "--size",
            str(a.size),
            "--widths",
            a.widths,
            "--convs",
            str(a.convs),
        ]
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
        memory[n] = json.loads(res.stdout.strip().splitlines()[-1])["peak_mib"]

    base = statistics.median(times["plain_same_widths"])
    rows = {}
    for n in names:
        med = statistics.median(times[n])
        rows[n] = {
            "params": count_parameters(nets[n]),
            "train_step_s": round(med, 4),
            "train_step_vs_plain_same_widths": round(med / base, 3),
            "peak_train_memory_mib": round(memory[n], 1),
            "inference_voxels_per_s": round(voxels_per_s[n]),
        }
    rows["equivariant"]["inference_exported_voxels_per_s"] = round(
        voxels_per_s["equivariant_exported"]
    )
    config = {**vars(a), "threads": 1, "batch": 2, "input": f"{a.size}^3"}
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "medseg_cost.json").write_text(
        json.dumps({"config": config, "results": rows, "raw_s": times}, indent=2)
    )
    lines = [
        f"Input {a.size}³ (MONAI {a.size - 1}³), batch 2, widths {widths} regular fields "
        f"({[24 * w for w in widths]} channels), {a.convs} convs per block, 1 CPU thread, "
        f"median of {a.reps} interleaved steps.",
        "",
        "| network | parameters | train step (s) | × plain same widths | peak train memory (MiB) "
        "| inference (voxels/s) |",
        "|---|---|---|---|---|---|",
    ]
    for n, r in rows.items():
        inf = f"{r['inference_voxels_per_s']:,}"
        if n == "equivariant":
            inf += f" (exported: {r['inference_exported_voxels_per_s']:,})"
        lines.append(
            f"| {n} | {r['params']:,} | {r['train_step_s']:.3f} "
            f"| {r['train_step_vs_plain_same_widths']:.2f} "
            f"| {r['peak_train_memory_mib']:.0f} | {inf} |"
        )
    (out / "medseg_cost.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
