"""Predict on a CT-sized synthetic volume (512 x 512 x 300) on CPU: peak memory and time.

The volume is a float32 NIfTI at 1 mm with a few bright balls in noise. ``gdl-medseg
predict`` runs as a child process; its peak resident memory comes from the kernel
(``ru_maxrss`` of the child), its time is the wall time of the whole command. Memory is
bounded by design: the model sees ``--window-batch`` windows at a time and the class
probabilities are stitched into one CPU buffer (see ``layers/sliding_window.py``).

With no ``--checkpoint`` a small checkpoint is trained first (1 epoch on phantoms, a
4-level U-Net with [4, 8, 16, 32] channels and 41^3 windows, the Hippocampus plan's
window): the memory is dominated by the volume-sized buffers, not the network; the time
is that network's. ``--seconds-per-window`` in the output lets a reader scale the time
to a bigger network.

    python benchmarks/medseg_large_volume.py [--checkpoint best.ckpt] [--overlap 0]

Writes benchmarks/results/medseg_large_volume.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nibabel as nib
import numpy as np

REPO = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "gdl-medseg")
RESULTS = REPO / "benchmarks" / "results"


def synthetic_volume(path: Path, shape: tuple[int, int, int], seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    data = rng.normal(0, 0.1, size=shape).astype(np.float32)
    axes = np.ogrid[tuple(slice(0, n) for n in shape)]
    for _ in range(6):
        c = rng.uniform(40, np.array(shape) - 40)
        r2 = sum((a - ci) ** 2 for a, ci in zip(axes, c))
        data[r2 < rng.uniform(8, 20) ** 2] += 1.0
    nib.save(nib.Nifti1Image(data, np.eye(4)), str(path))


def small_checkpoint(work: Path) -> Path:
    args = [
        CLI, "fit", "--config", "configs/medseg/small.yaml", "--model.group", "mirror",
        "--model.channels", "[4, 8, 16, 32]", "--data.patch_size", "41",
        "--trainer.default_root_dir", str(work / "fit"), "--data.cache_dir", str(work / "c"),
    ]
    res = subprocess.run(args, cwd=REPO, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-3000:])
    return next((work / "fit").rglob("best.ckpt"))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--shape", default="512,512,300")
    p.add_argument("--overlap", type=float, default=0.0)
    p.add_argument("--window-batch", type=int, default=8)
    p.add_argument("--name", default="medseg_large_volume")
    a = p.parse_args(argv)
    shape = tuple(int(v) for v in a.shape.split(","))
    work = Path(tempfile.mkdtemp(prefix="medseg_large_"))
    ckpt = Path(a.checkpoint) if a.checkpoint else small_checkpoint(work)
    (work / "in").mkdir()
    synthetic_volume(work / "in" / "big_0000.nii.gz", shape)
    start = time.perf_counter()
    res = subprocess.run(
        [CLI, "predict", "--checkpoint", str(ckpt), "--input", str(work / "in"),
         "--output", str(work / "out"), "--overlap", str(a.overlap),
         "--window-batch", str(a.window_batch)],
        cwd=REPO, capture_output=True, text=True,
    )
    wall = time.perf_counter() - start
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-3000:])
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out = nib.load(str(work / "out" / "big.nii.gz"))
    assert out.shape == shape
    import torch
    from gdl_medseg.layers.sliding_window import window_starts
    from gdl_medseg.task import MedSegTask

    from gdl_science.io import load_task

    task = load_task(MedSegTask, ckpt)
    size = list(task.window_for(shape))
    windows = int(np.prod([len(window_starts(n, w, a.overlap)) for n, w in zip(shape, size)]))
    volume_mib = np.prod(shape) * 4 / 2**20
    result = {
        "shape": list(shape), "window": size, "overlap": a.overlap, "windows": windows,
        "window_batch": a.window_batch, "network": task.describe_network(),
        "checkpoint": str(ckpt), "wall_s": round(wall, 1),
        "seconds_per_window": round(wall / windows, 4),
        "peak_rss_mib": round(peak_mib), "input_float32_mib": round(volume_mib),
        "peak_over_input": round(peak_mib / volume_mib, 2),
        "torch_threads": torch.get_num_threads(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{a.name}.json").write_text(json.dumps(result, indent=2))
    md = (
        f"Predict on a {'x'.join(map(str, shape))} float32 volume ({round(volume_mib)} MiB), "
        f"{task.describe_network()}, {'x'.join(map(str, size))} windows, overlap {a.overlap}, "
        f"{a.window_batch} windows per batch, CPU:\n\n"
        "| windows | wall time (s) | s per window | peak RSS (MiB) | peak / input size |\n"
        "|---|---|---|---|---|\n"
        f"| {windows} | {result['wall_s']} | {result['seconds_per_window']} | "
        f"{result['peak_rss_mib']} | {result['peak_over_input']} |\n"
    )
    (RESULTS / f"{a.name}.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
