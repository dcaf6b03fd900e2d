"""Predict on a CT-sized volume (512 x 512 x 300 float32) on CPU: time and peak memory.

The network is the default config's as planned on MSD Hippocampus (a 4-level
mirror-equivariant U-Net, channels [16, 32, 64, 128], 33x49x33 windows), trained for one
short epoch through ``gdl-medseg fit`` on phantoms: its weights do not change the time.
The volume is CT-like, in HU: air (-1000 with noise) around an elliptic body cylinder
(40 HU) holding a few bright balls, at 1 mm.

Runs (each ``gdl-medseg predict`` in a fresh child process; peak RSS is that child's
``ru_maxrss``, time the whole command's wall time, start-up included):
1. the whole volume at ``--overlap 0``: measured;
2. the whole volume at ``--overlap 0`` with ``--background-below -500``: measured;
3. a slab of ``--slab`` slices at the default overlap 0.5, without and with
   ``--background-below -500``: measured, and *extrapolated* to the whole volume by the
   number of windows (per-window time x the whole volume's windows; start-up once),
   because the whole volume at overlap 0.5 is about 12,000 windows (~20 min on one
   core), more than this shared machine can give a benchmark. The slab runs also say
   how many voxels' labels the skipping changed.

    python benchmarks/medseg_large_volume.py [--shape 512,512,300] [--slab 49] [--threads 1]

Writes benchmarks/results/medseg_large_volume.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
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
AIR = -500.0  # HU: the --background-below threshold used here (air is ~-1000)
# Runs a command and prints its peak RSS (KiB): ru_maxrss of the one child it waited for.
RSS_WRAPPER = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(r.returncode)"
)


def ct_volume(path: Path, shape: tuple[int, int, int], seed: int = 0) -> None:
    """Air around an elliptic body (semi-axes 40% / 30% of the in-plane size) with balls."""
    rng = np.random.default_rng(seed)
    x, y = np.ogrid[: shape[0], : shape[1]]
    cx, cy = (shape[0] - 1) / 2, (shape[1] - 1) / 2
    body = ((x - cx) / (0.4 * shape[0])) ** 2 + ((y - cy) / (0.3 * shape[1])) ** 2 <= 1
    data = np.empty(shape, np.float32)
    for z in range(shape[2]):  # slice by slice: no float64 volume in memory
        noise = rng.normal(0, 20, size=shape[:2]).astype(np.float32)
        data[:, :, z] = np.where(body, 40.0, -1000.0) + noise
    r = max(2, min(shape) // 20)
    for _ in range(6):
        c = [int(rng.uniform(cx - 0.2 * shape[0], cx + 0.2 * shape[0])),
             int(rng.uniform(cy - 0.15 * shape[1], cy + 0.15 * shape[1])),
             int(rng.uniform(r, shape[2] - r))]
        sl = tuple(slice(max(0, ci - r), ci + r) for ci in c)
        data[sl] += 200.0
    nib.save(nib.Nifti1Image(data, np.eye(4)), str(path))


def default_checkpoint(work: Path, env: dict) -> Path:
    """The default architecture (as planned on Hippocampus), one short fit on phantoms."""
    args = [
        CLI, "fit", "--config", "configs/medseg/small.yaml", "--model.group", "mirror",
        "--model.channels", "[16, 32, 64, 128]", "--model.convs_per_level", "2",
        "--data.patch_size", "[33, 49, 33]", "--data.phantom_size", "48",
        "--trainer.default_root_dir", str(work / "fit"), "--data.cache_dir", str(work / "c"),
    ]
    res = subprocess.run(args, cwd=REPO, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-3000:])
    return next((work / "fit").rglob("best.ckpt"))


def predict(ckpt: Path, image: Path, out: Path, overlap: float, env: dict,
            background: float | None, window_batch: int) -> dict:
    cmd = [sys.executable, "-c", RSS_WRAPPER, CLI, "predict", "--checkpoint", str(ckpt),
           "--input", str(image), "--output", str(out), "--overlap", str(overlap),
           "--window-batch", str(window_batch)]
    if background is not None:
        cmd += ["--background-below", str(background)]
    start = time.perf_counter()
    res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-3000:])
    return {"wall_s": round(wall, 1), "peak_rss_mib": round(int(res.stderr.split()[-1]) / 1024)}


def windows_run(image: Path, window: list[int], overlap: float, background: float | None) -> int:
    """Windows the network sees: all, or those not wholly below ``background``."""
    from gdl_medseg.layers.sliding_window import window_corners

    shape = nib.load(str(image)).shape
    corners = window_corners(np.maximum(shape, window), window, overlap)
    if background is None:
        return len(corners)
    mask = np.asarray(nib.load(str(image)).dataobj) < background
    return sum(not mask[a : a + window[0], b : b + window[1], c : c + window[2]].all()
               for a, b, c in corners)


def labels(path: Path) -> np.ndarray:
    return np.asarray(nib.load(str(path)).dataobj)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default=None, help="default: train the default architecture")
    p.add_argument("--shape", default="512,512,300")
    p.add_argument("--slab", type=int, default=49, help="slices of the overlap-0.5 slab runs")
    p.add_argument("--window-batch", type=int, default=4)
    p.add_argument("--threads", type=int, default=1, help="torch threads of every command")
    p.add_argument("--name", default="medseg_large_volume")
    p.add_argument("--out", type=Path, default=RESULTS)
    a = p.parse_args(argv)
    shape = tuple(int(v) for v in a.shape.split(","))
    env = {**os.environ, "OMP_NUM_THREADS": str(a.threads), "MKL_NUM_THREADS": str(a.threads),
           "GDL_NO_PROGRESS": "1"}
    work = Path(tempfile.mkdtemp(prefix="medseg_large_"))
    ckpt = Path(a.checkpoint) if a.checkpoint else default_checkpoint(work, env)
    from gdl_medseg.task import MedSegTask

    from gdl_science.io import load_task

    task = load_task(MedSegTask, ckpt)
    window = list(task.window)
    volumes = {"whole": shape, "slab": (shape[0], shape[1], min(a.slab, shape[2]))}
    for name, s in volumes.items():
        (work / name).mkdir()
        ct_volume(work / name / "ct_0000.nii.gz", s)
    rows = []
    for volume, overlap, bg in (("whole", 0.0, None), ("whole", 0.0, AIR),
                                ("slab", 0.5, None), ("slab", 0.5, AIR)):
        image = work / volume / "ct_0000.nii.gz"
        out = work / f"out_{volume}_{overlap}_{bg}"
        r = {"volume": "x".join(map(str, volumes[volume])), "overlap": overlap,
             "background_below": bg, "windows": windows_run(image, window, overlap, bg)}
        r.update(predict(ckpt, image, out, overlap, env, bg, a.window_batch))
        r["labels"] = out / "ct.nii.gz"
        rows.append(r)
        print(json.dumps({k: v for k, v in r.items() if k != "labels"}), flush=True)
    # The skipping's effect on the labels (slab runs), then per-window extrapolation.
    changed = float((labels(rows[2]["labels"]) != labels(rows[3]["labels"])).mean())
    # Start-up (imports, checkpoint load): a one-window volume's predict, minus nothing.
    (work / "tiny").mkdir()
    ct_volume(work / "tiny" / "ct_0000.nii.gz", tuple(window))  # type: ignore[arg-type]
    startup = predict(ckpt, work / "tiny" / "ct_0000.nii.gz", work / "out_tiny", 0.5, env,
                      None, a.window_batch)["wall_s"]
    whole_image = work / "whole" / "ct_0000.nii.gz"
    for slab in rows[2:]:
        full = windows_run(whole_image, window, 0.5, slab["background_below"])
        per_window = (slab["wall_s"] - startup) / max(slab["windows"], 1)
        rows.append({"volume": "x".join(map(str, shape)), "overlap": 0.5,
                     "background_below": slab["background_below"], "windows": full,
                     "wall_s": round(startup + per_window * full, 1), "peak_rss_mib": None,
                     "extrapolated": True})
    for r in rows:
        r.pop("labels", None)
    volume_mib = float(np.prod(shape)) * 4 / 2**20
    result = {"network": task.describe_network(), "window": window, "shape": list(shape),
              "input_float32_mib": round(volume_mib), "threads": a.threads,
              "window_batch": a.window_batch, "label_voxels_changed_by_skipping": changed,
              "startup_s": startup, "load": os.getloadavg(), "rows": rows}
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / f"{a.name}.json").write_text(json.dumps(result, indent=2))
    md = [
        f"`gdl-medseg predict` on a CT-like {'x'.join(map(str, shape))} float32 volume "
        f"({round(volume_mib)} MiB), {task.describe_network()}, "
        f"{'x'.join(map(str, window))} windows, {a.window_batch} per batch, "
        f"{a.threads} torch thread(s) on a shared 2-core CPU (load average "
        f"{os.getloadavg()[0]:.1f}). Wall time includes start-up; peak RSS is the command's.",
        "",
        "| volume | overlap | --background-below | windows run | wall (s) | peak RSS (MiB) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        wall = f"~{r['wall_s']} (extrapolated)" if r.get("extrapolated") else r["wall_s"]
        md.append(f"| {r['volume']} | {r['overlap']} | {r['background_below'] or '—'} | "
                  f"{r['windows']} | {wall} | {r['peak_rss_mib'] or '—'} |")
    md += ["", f"Skipping air windows changed {100 * changed:.3f}% of the slab's label voxels. "
           "Extrapolated rows: the slab's time per window (after a "
           f"{startup:.0f} s start-up) times the whole volume's windows.",
           "", f"Command: `python benchmarks/medseg_large_volume.py "
           f"{' '.join(argv if argv is not None else sys.argv[1:])}`"]
    (a.out / f"{a.name}.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
