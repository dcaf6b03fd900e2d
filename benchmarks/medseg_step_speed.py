"""Where a medseg training step goes on CPU, and what the speed changes bought.

Times (median of ``--steps`` after one warm-up, ``--threads`` torch threads) for the
plan's U-Net on MSD Hippocampus (``../shared/data/hippocampus``; phantoms without it):
- one training step: forward + deep-supervised Dice + CE loss + backward + AdamW, batch 2,
  per mode (none, equivariant = mirror group convs) and variant:
  ``before``: the previous plan's 41^3 cube and the norm written as mean/var/affine;
  ``group_norm``: the same norm as one fused ``F.group_norm`` (identical maths);
  ``anisotropic``: + the median-shape patch 33x49x33 (the current plan);
  ``channels_last``: + channels_last_3d memory (measured, not adopted: see the MD);
- one batch of data: patch sampling + nnU-Net augmentation (the data loader's work);
- inference on a median-shaped case: the patch-sized sliding window (overlap 0.5)
  against one whole-case window (``sliding_window.case_window``).

    python benchmarks/medseg_step_speed.py [--threads 1] [--steps 5]

Writes benchmarks/results/medseg_step_speed.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from gdl_medseg.layers.plain_layers import FieldInstanceNorm3d
from gdl_medseg.layers.sliding_window import case_window, sliding_window
from gdl_medseg.metrics import soft_dice_loss
from gdl_medseg.model import build_network

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("GDL_SHARED_DATA", REPO / ".." / "shared" / "data")) / "hippocampus"
RESULTS = REPO / "benchmarks" / "results"
CHANNELS = [16, 32, 64, 128]


class MeanVarNorm(FieldInstanceNorm3d):
    """The previous FieldInstanceNorm3d forward (mean, var, affine as separate ops)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, *spatial = x.shape
        v = x.reshape(b, self.n_fields, self.field_size, *spatial)
        dims = tuple(range(2, v.dim()))
        mean = v.mean(dims, keepdim=True)
        var = v.var(dims, keepdim=True, unbiased=False)
        shape = (1, self.n_fields) + (1,) * (v.dim() - 2)
        v = (v - mean) / torch.sqrt(var + self.eps) * self.weight.view(shape)
        return (v + self.bias.view(shape)).reshape(x.shape)


def use_mean_var_norm(net: torch.nn.Module) -> None:
    for module in list(net.modules()):
        if type(module) is FieldInstanceNorm3d:
            module.__class__ = MeanVarNorm


def net_for(mode: str, old_norm: bool) -> torch.nn.Module:
    torch.manual_seed(0)
    net = build_network(mode == "equivariant", 1, 3, CHANNELS, "mirror", 0, 2, "instance", True)
    if old_norm:
        use_mean_var_norm(net)
    return net


def train_step_s(net: torch.nn.Module, shape: tuple, steps: int, channels_last: bool) -> float:
    """Median seconds of one deep-supervised training step on random data, batch 2."""
    opt = torch.optim.AdamW(net.parameters(), 1e-3)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 1, *shape, generator=g)
    y = torch.randint(0, 3, (2, *shape), generator=g)
    if channels_last:
        net = net.to(memory_format=torch.channels_last_3d)
        x = x.contiguous(memory_format=torch.channels_last_3d)
    net.train()
    times = []
    for i in range(steps + 1):
        start = time.perf_counter()
        outputs = net(x)
        loss = x.new_zeros(())
        for k, logits in enumerate(outputs):
            target = y[:, :: 2**k, :: 2**k, :: 2**k]
            loss = loss + 0.5**k * (
                F.cross_entropy(logits, target) + soft_dice_loss(logits, target)
            )
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def data_batch_s(patch: tuple, items: int) -> tuple[float, str]:
    """Seconds per batch of 2 augmented training patches from the real cache (or phantoms)."""
    from gdl_medseg.datamodule import MedSegDataModule

    path = str(DATA) if (DATA / "dataset.json").is_file() else None
    dm = MedSegDataModule(path, patch_size=list(patch))
    dm.prepare_data()
    dm.setup("fit")
    ds = dm._patches("train", items, True)
    start = time.perf_counter()
    for i in range(items):
        ds[i]
    return 2 * (time.perf_counter() - start) / items, "hippocampus" if path else "phantoms"


def inference_s(patch: tuple, case: tuple, repeats: int) -> dict:
    net = net_for("none", False).eval()
    image = np.random.default_rng(0).normal(size=(1, *case)).astype(np.float32)
    out = {}
    for name, window in (("sliding", patch), ("whole_case", case_window(case, patch, 4, 2.0))):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            sliding_window([net], image, window, 3)
            times.append(time.perf_counter() - start)
        out[name] = {"window": list(window), "s_per_case": round(float(np.median(times)), 3)}
    return out


def markdown(r: dict) -> str:
    lines = [
        f"medseg training step on CPU, {r['threads']} torch thread(s), batch 2, channels "
        f"{CHANNELS}, deep supervision (2 CPU cores shared with another engineer's job: "
        "absolute times vary by ~10%, ratios less).",
        "",
        "| mode | variant | patch | s/step | steps/s | vs before |",
        "|---|---|---|---|---|---|",
    ]
    for row in r["steps"]:
        lines.append(
            f"| {row['mode']} | {row['variant']} | {'x'.join(map(str, row['patch']))} | "
            f"{row['s_per_step']:.3f} | {1 / row['s_per_step']:.2f} | {row['speedup']:.2f}x |"
        )
    d = r["data"]
    lines += [
        "",
        f"Data per batch (sampling + augmentation, {d['source']}): {d['s_per_batch']:.4f} s "
        "(num_workers 0 is right: a worker process would cost more than it saves).",
        "",
        f"Inference on one {'x'.join(map(str, r['inference_case']))} case (plain net, eval):",
        "",
    ]
    for name, v in r["inference"].items():
        lines.append(f"- {name}: window {v['window']}, {v['s_per_case']} s")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 1)))
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--name", default="medseg_step_speed")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    old, new = (41, 41, 41), (33, 49, 33)
    variants = [
        ("before", old, True, False),
        ("group_norm", old, False, False),
        ("anisotropic", new, False, False),
        ("channels_last", new, False, True),
    ]
    rows = []
    for mode in ("none", "equivariant"):
        base = None
        for variant, shape, old_norm, cl in variants:
            s = train_step_s(net_for(mode, old_norm), shape, a.steps, cl)
            base = base or s
            rows.append({"mode": mode, "variant": variant, "patch": list(shape),
                         "channels_last": cl, "s_per_step": round(s, 4),
                         "speedup": round(base / s, 3)})
            print(rows[-1], flush=True)
    batch_s, source = data_batch_s(new, 32)
    case = (35, 50, 36)  # the median Hippocampus case
    result = {
        "command": "python benchmarks/medseg_step_speed.py "
        f"--threads {a.threads} --steps {a.steps}",
        "threads": a.threads, "torch": torch.__version__, "machine": platform.processor(),
        "steps": rows, "data": {"source": source, "s_per_batch": round(batch_s, 4)},
        "inference_case": list(case), "inference": inference_s(new, case, 3),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{a.name}.json").write_text(json.dumps(result, indent=2))
    (RESULTS / f"{a.name}.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
