"""Training-step time of the compact and the classic U-Net on a data plan, side by side.

The networks are those ``fit`` builds for the plan (default: MSD Hippocampus, patch
33x49x33, channels [16, 32, 64, 128], batch 2, group mirror, deep supervision), in both
modes (``equivariant``: mirror group convolutions; ``none``: plain) and both layouts
(``--model.unet compact``: 3³ box pooling, coarse maps projected 1×1 before upsampling;
``classic``: the 5³ blur pooling, coarse maps upsampled whole). A step is the task's own
loss (Dice + cross-entropy at every supervised stage, on a random label map) + backward
+ AdamW step. The networks take turns, round-robin, for ``--reps`` rounds, so load
drifts on a shared machine hit all of them alike; medians are reported, with the load
average before and after.

    python benchmarks/medseg_step_time.py [--threads 1] [--reps 15] [--patch 33,49,33]

Writes medseg_step_time.json and .md under --out (default benchmarks/results).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch
from gdl_medseg.task import MedSegTask

from gdl_science.blueprint import count_parameters

RESULTS = Path(__file__).resolve().parent / "results"
ARMS = [(mode, unet) for mode in ("equivariant", "none") for unet in ("classic", "compact")]


def make_task(mode: str, unet: str, patch: list[int], channels: list[int]) -> MedSegTask:
    return MedSegTask(
        1,
        3,
        channels=channels,
        group="mirror",
        group_axis=0,
        unet=unet,
        symmetry=mode,
        patch_size=patch,
        deep_supervision=True,
    ).train()


def step_seconds(task: MedSegTask, opt: torch.optim.Optimizer, batch) -> float:
    start = time.perf_counter()
    loss = task.step(batch).loss
    opt.zero_grad()
    loss.backward()
    opt.step()
    return time.perf_counter() - start


def cpu_name() -> str:
    """The CPU's model and the vector unit torch uses: the same step costs about 4x more
    on some shared machines than on others, so a step time means little without them."""
    model = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, torch {torch.backends.cpu.get_cpu_capability()}"


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--patch", default="33,49,33")
    p.add_argument("--channels", default="16,32,64,128")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--out", type=Path, default=RESULTS)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    patch = [int(v) for v in a.patch.split(",")]
    channels = [int(v) for v in a.channels.split(",")]
    tasks = {arm: make_task(*arm, patch, channels) for arm in ARMS}
    opts = {arm: torch.optim.AdamW(t.parameters(), lr=1e-3) for arm, t in tasks.items()}
    batch = (torch.randn(a.batch, 1, *patch), torch.randint(0, 3, (a.batch, *patch)))
    load_before = os.getloadavg()[0]
    times: dict = {arm: [] for arm in ARMS}
    for rep in range(a.warmup + a.reps):
        for arm in ARMS:
            t = step_seconds(tasks[arm], opts[arm], batch)
            if rep >= a.warmup:
                times[arm].append(t)
    load_after = os.getloadavg()[0]
    rows = []
    for mode, unet in ARMS:
        median = statistics.median(times[mode, unet])
        classic = statistics.median(times[mode, "classic"])
        rows.append(
            {
                "mode": mode,
                "unet": unet,
                "parameters": count_parameters(tasks[mode, unet].net),
                "step_s": round(median, 4),
                "speedup_vs_classic": round(classic / median, 3),
            }
        )
    meta = {
        "patch": patch,
        "channels": channels,
        "batch": a.batch,
        "threads": a.threads,
        "reps": a.reps,
        "load_before": round(load_before, 2),
        "load_after": round(load_after, 2),
        "cpu": cpu_name(),
    }
    result = {"meta": meta, "results": rows}
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "medseg_step_time.json").write_text(json.dumps(result, indent=1))
    lines = [
        f"Training step (loss + backward + AdamW), patch {'x'.join(map(str, patch))}, "
        f"channels {channels}, batch {a.batch}, {a.threads} thread(s), median of {a.reps} "
        f"interleaved rounds; load average {meta['load_before']} -> {meta['load_after']}; "
        f"CPU: {meta['cpu']}.",
        "",
        "| mode | layout | parameters | s/step | speed-up vs classic |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['mode']} | {r['unet']} | {r['parameters']:,} | {r['step_s']:.3f} | "
        f"{r['speedup_vs_classic']:.2f}x |"
        for r in rows
    ]
    (a.out / "medseg_step_time.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return result


if __name__ == "__main__":
    main()
