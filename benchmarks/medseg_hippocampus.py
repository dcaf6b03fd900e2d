"""MSD Hippocampus (../shared/data/hippocampus): the default config per symmetry mode.

What it measures, side by side, with the real commands (``gdl-medseg fit`` with
``configs/medseg/default.yaml`` and only ``--data.path``, ``--model.symmetry`` and the
time budget changed; then ``predict`` and ``evaluate``):

- a seeded split of the shared cases: 20% held out (never seen by fit, not even for
  checkpoint selection); fit makes its own 80/20 train/validation split of the rest;
- per mode (equivariant, augment, none): Dice and HD95 per label on the held-out cases,
  fit wall time, optimiser steps, predict time per case and, apart, the predict
  command's start-up (imports, checkpoint load);
- the same at 10% of the training cases (``--data.train_fraction 0.1``);
- held-out cases under random rotations (up to ``--rotation-deg`` about a random axis,
  resampled trilinear / nearest-neighbour labels, padded so nothing leaves the field),
  for the full-data models, on the first ``--rotated-cases`` held-out cases.

Same wall time per mode: each fit gets ``--budget`` minutes as ``--trainer.max_time``
(the core's poly schedule follows it, so every fit anneals to zero when its budget
ends); every command runs with ``--threads`` torch threads (default 1).

    python benchmarks/medseg_hippocampus.py [--budget 45] [--small-budget 10] \
        [--runs none:1 equivariant:1:30 ...] [--threads 1]

Writes benchmarks/results/medseg_hippocampus.{json,md,png}.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage
from scipy.spatial.transform import Rotation

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("GDL_SHARED_DATA", REPO / ".." / "shared" / "data")) / "hippocampus"
CLI = str(Path(sys.executable).parent / "gdl-medseg")
RESULTS = REPO / "benchmarks" / "results"
PAD = 6  # voxels added on every side before rotating, so the structure stays in the field


def thread_env(threads: int) -> dict[str, str]:
    """The environment of every CLI call: ``threads`` torch/BLAS threads, no progress bars."""
    return {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
            "GDL_NO_PROGRESS": "1"}


def heldout_split(data: Path, seed: int, cases: int = 0) -> tuple[list[str], list[str]]:
    """(held-out, training-folder) case ids: a seeded 20% of the cases (the first ``cases``
    of the shuffled list when ``cases`` > 0) that no fit ever sees. Every medseg benchmark
    scores on this split, so their tables compare the same cases."""
    ids = sorted(f.name[: -len("_0000.nii.gz")] for f in (data / "imagesTr").glob("*.nii.gz"))
    ids = [ids[i] for i in np.random.default_rng(seed).permutation(len(ids))]
    ids = ids[:cases] if cases else ids
    n_held = max(1, round(0.2 * len(ids)))
    return sorted(ids[:n_held]), sorted(ids[n_held:])


def link_dataset(src: Path, cases: list[str], out: Path) -> Path:
    """An nnU-Net folder of symlinks to ``cases`` of ``src``."""
    for sub in ("imagesTr", "labelsTr"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    for c in cases:
        for s, name in (("imagesTr", f"{c}_0000.nii.gz"), ("labelsTr", f"{c}.nii.gz")):
            dst = out / s / name
            if not dst.exists():
                dst.symlink_to((src / s / name).resolve())
    (out / "dataset.json").write_text((src / "dataset.json").read_text())
    return out


def write_rotated(src: Path, cases: list[str], out: Path, max_deg: float, seed: int) -> None:
    """Each case padded by PAD voxels and rotated about its centre by a random rotation."""
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "labels").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for c in cases:
        img = nib.load(str(src / "imagesTr" / f"{c}_0000.nii.gz"))
        lab = nib.load(str(src / "labelsTr" / f"{c}.nii.gz"))
        axis = rng.normal(size=3)
        angle = np.deg2rad(rng.uniform(-max_deg, max_deg))
        matrix = Rotation.from_rotvec(axis / np.linalg.norm(axis) * angle).as_matrix()
        data = np.pad(np.asarray(img.dataobj, dtype=np.float32), PAD)
        label = np.pad(np.rint(np.asarray(lab.dataobj)).astype(np.uint8), PAD)
        centre = (np.array(data.shape) - 1) / 2
        offset = centre - matrix @ centre
        data = ndimage.affine_transform(data, matrix, offset, order=1)
        label = ndimage.affine_transform(label, matrix, offset, order=0)
        affine = img.affine.copy()
        affine[:3, 3] -= affine[:3, :3] @ np.full(3, float(PAD))
        nib.save(nib.Nifti1Image(data, affine), str(out / "images" / f"{c}_0000.nii.gz"))
        nib.save(nib.Nifti1Image(label, affine), str(out / "labels" / f"{c}.nii.gz"))


def fit(
    dataset: Path,
    mode: str,
    budget_min: float,
    root: Path,
    fraction: float,
    samples: int,
    env: dict,
    epochs: int = 0,
    extra: tuple[str, ...] = (),
) -> dict:
    """The default config with only the data, the mode and the budget set. The wall-clock
    budget binds (``--trainer.max_time``; the poly schedule anneals to zero when it
    ends, as the core's schedules follow max_time), with an epoch count far above it."""
    seconds = round(budget_min * 60)
    max_time = f"00:{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    args = [
        CLI, "fit", "--config", "configs/medseg/default.yaml", "--data.path", str(dataset),
        "--model.symmetry", mode, "--trainer.max_epochs", str(epochs or 10_000),
        "--trainer.max_time", max_time,
        "--trainer.default_root_dir", str(root), "--trainer.enable_progress_bar", "false",
    ]
    if samples:
        args += ["--data.samples_per_epoch", str(samples)]
    if fraction < 1:
        args += ["--data.train_fraction", str(fraction)]
    args += list(extra)  # any further fit flags (e.g. --data.augment_style patch)
    start = time.perf_counter()
    res = subprocess.run(args, cwd=REPO, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    (root / "fit.log").write_text(res.stdout + res.stderr)
    if res.returncode != 0:
        raise RuntimeError(f"fit {mode} failed:\n{res.stderr[-3000:]}")
    best = re.search(r"best checkpoint: (\S+) \(val/dice_mean=([0-9.]+)", res.stderr)
    net = re.search(r"gdl-medseg network: (.+)", res.stdout)
    plan = re.search(r"gdl-medseg plan: (.+?) from", res.stdout)
    lcc = re.search(r"largest component: (.+)", res.stderr)
    return {
        "checkpoint": best.group(1) if best else "",
        "val_dice_mean": float(best.group(2)) if best else None,
        "fit_wall_s": round(wall, 1),
        "steps": steps_done(root),
        "plan": plan.group(1) if plan else "",
        "network": net.group(1) if net else "",
        "lcc": lcc.group(1) if lcc else "",
    }


def steps_done(root: Path) -> int:
    """The last training step logged by the fit under ``root`` (Lightning's CSV log)."""
    steps = []
    for path in root.rglob("metrics.csv"):
        rows = list(csv.DictReader(path.open()))
        steps += [int(r["step"]) for r in rows if r.get("step")]
    return max(steps, default=0)


def run_predict(
    ckpt: str, images: Path, out: Path, env: dict, extra: tuple[str, ...] = ()
) -> float:
    start = time.perf_counter()
    res = subprocess.run(
        [CLI, "predict", "--checkpoint", ckpt, "--input", str(images), "--output", str(out),
         *extra],
        cwd=REPO, capture_output=True, text=True, env=env,
    )
    if res.returncode != 0:
        raise RuntimeError(f"predict failed: {res.stderr[-2000:]}")
    return time.perf_counter() - start


def predict_and_evaluate(
    ckpt: str, images: Path, labels: Path, out: Path, env: dict, extra: tuple[str, ...] = ()
) -> dict:
    """Predict every case (one command), then score it. The per-case time excludes the
    command's start-up (imports, checkpoint load), measured by a one-case run:
    per case = (T_all - T_one) / (N - 1), start-up = T_one - per case."""
    wall = run_predict(ckpt, images, out, env, extra)
    one = out.with_name(out.name + "_one")
    first = sorted(images.glob("*.nii.gz"))[0]
    wall_one = run_predict(ckpt, first, one, env, extra)
    n = len(list(images.glob("*.nii.gz")))
    metrics = out.with_suffix(".csv")
    res = subprocess.run(
        [CLI, "evaluate", "--pred", str(out), "--ref", str(labels), "--output", str(metrics),
         "--dataset-json", str(DATA / "dataset.json")],
        cwd=REPO, capture_output=True, text=True, env=env,
    )
    if res.returncode != 0:
        raise RuntimeError(f"evaluate failed: {res.stderr[-2000:]}")
    per_case = (wall - wall_one) / max(n - 1, 1)
    summary: dict = {
        "predict_s_per_case": round(per_case, 3),
        "predict_startup_s": round(wall_one - per_case, 2),
        "predict_wall_s": round(wall, 1),
        "cases": n,
    }
    summary.update(scores(metrics))
    return summary


def scores(metrics: Path) -> dict:
    """Dice and HD95 per label from evaluate's ``summary.json`` (its conventions: Dice 0
    or 1 for empty masks, always in the mean; HD95 over the cases where it is defined,
    with the empty ones counted in ``empty_<label>``)."""
    stats = json.loads(metrics.with_name(metrics.name + ".summary.json").read_text())["labels"]
    out: dict = {}
    for label, s in stats.items():
        out[f"dice_{label}"] = round(s["dice_mean"], 4)
        hd = s["hd95_mean_mm"]
        out[f"hd95_{label}"] = round(hd, 2) if hd is not None else None
        out[f"hd95_cases_{label}"] = s["hd95_cases"]
        out[f"empty_{label}"] = sorted(set(s["empty_prediction"]) | set(s["empty_reference"]))
    out["dice_mean"] = round(float(np.mean([out[f"dice_{v}"] for v in stats])), 4)
    return out


def empty_note(h: dict) -> str:
    """'' or e.g. ' (2 cases with an empty mask, no HD95: hippocampus_017, ...)'."""
    empty = sorted({c for k, v in h.items() if k.startswith("empty_") for c in v})
    if not empty:
        return ""
    shown = ", ".join(empty[:3]) + (", ..." if len(empty) > 3 else "")
    return f" ({len(empty)} case(s) with an empty mask, no HD95: {shown})"


def markdown(results: list[dict], meta: dict) -> str:
    lines = [
        f"MSD Hippocampus, {meta['heldout']} held-out cases of {meta['cases']} (seed "
        f"{meta['seed']}, never seen by fit); fit makes its own train/validation split of "
        f"the other {meta['train_folder']}. Fits ran with {meta['threads']} torch thread(s) "
        "on a 2-core machine whose other core ran another engineer's jobs; budget = "
        "`--trainer.max_time` (the poly schedule ends with it). Rotated: "
        f"{meta['rotated_cases']} held-out cases, random rotations up to "
        f"{meta['rotation_deg']}°. Predict s/case excludes the command's start-up "
        "(given separately). Dice and HD95 by `gdl-medseg evaluate`: HD95 is the larger "
        "one-way 95th percentile (MSD/MONAI); a case with an empty mask scores Dice 0 (1 if "
        "both are empty) and is named beside the HD95, which it has none of.",
        "",
        "| mode | train cases | budget (min) | steps | val Dice (fit) | Dice anterior "
        "| Dice posterior | held-out mean | HD95 ant/post (mm) | rotated mean | fit wall (s) "
        "| predict s/case (start-up s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        h, rot = r["heldout"], r.get("rotated", {})
        rotated = f"{rot['dice_mean']:.4f}" if rot else "—"
        lines.append(
            f"| {r['mode']} | {r['train_label']} | {r.get('budget_min', '?')} | "
            f"{r.get('steps', '?')} | {r.get('val_dice_mean') or float('nan'):.4f} | "
            f"{h['dice_1']:.4f} | {h['dice_2']:.4f} | **{h['dice_mean']:.4f}** | "
            f"{h['hd95_1']} / {h['hd95_2']}{empty_note(h)} | {rotated} | {r['fit_wall_s']} | "
            f"{h['predict_s_per_case']} ({h.get('predict_startup_s', '?')}) |"
        )
    lines += ["", "Networks and plans:", ""]
    lines += [
        f"- {r['mode']} ({r['train_label']}): {r['network']}; LCC: {r['lcc']}" for r in results
    ]
    lines += ["", f"Plan: {results[0]['plan']}" if results else ""]
    lines += ["", f"Command: `{meta.get('command', '')}`"]
    return "\n".join(lines) + "\n"


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = [f"{r['mode']}\n{r['train_label']}" for r in results]
    x = np.arange(len(results))
    ax.bar(x - 0.2, [r["heldout"]["dice_mean"] for r in results], 0.4, label="held-out")
    ax.bar(x + 0.2, [r.get("rotated", {}).get("dice_mean", 0) for r in results], 0.4,
           label="held-out, rotated")
    ax.set_xticks(x, names, fontsize=8)
    ax.set_ylabel("mean Dice")
    ax.set_ylim(0, 1)
    ax.axhline(0.895, color="grey", ls="--", lw=0.8, label="nnU-Net (MSD test)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--budget", type=float, default=45.0, help="fit minutes per full-data model")
    p.add_argument("--small-budget", type=float, default=10.0, help="minutes for 10%% runs")
    p.add_argument(
        "--runs",
        nargs="+",
        default=["none:1", "equivariant:1", "augment:1", "none:0.1", "equivariant:0.1"],
        help="mode:train_fraction[:minutes], in the order they run (results are written "
        "after each); minutes default to --budget (full data) or --small-budget",
    )
    p.add_argument(
        "--samples-per-epoch", type=int, default=0,
        help="patches per epoch (validation frequency); 0: the default config's",
    )
    p.add_argument("--threads", type=int, default=1, help="torch threads of every command")
    p.add_argument("--rotation-deg", type=float, default=30.0)
    p.add_argument("--rotated-cases", type=int, default=20, help="held-out cases rotated")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cases", type=int, default=0, help="use only this many cases (smoke)")
    p.add_argument("--work", type=Path, default=Path("/tmp/medseg_hippocampus_bench"))
    p.add_argument("--name", default="medseg_hippocampus")
    p.add_argument("--fresh", action="store_true", help="delete --work first")
    p.add_argument("--epochs", type=int, default=0, help="an epoch cap (0: the budget binds)")
    p.add_argument(
        "--append", action="store_true",
        help="keep the rows already in the JSON, replacing those of the same mode and fraction",
    )
    p.add_argument(
        "--report-only", action="store_true", help="rewrite the Markdown and PNG from the JSON"
    )
    a = p.parse_args(argv)
    if a.report_only:
        saved = json.loads((RESULTS / f"{a.name}.json").read_text())
        (RESULTS / f"{a.name}.md").write_text(markdown(saved["results"], saved["meta"]))
        plot(saved["results"], RESULTS / f"{a.name}.png")
        return
    if not (a.data / "dataset.json").is_file():
        sys.exit(f"{a.data}: no Hippocampus dataset (see ../shared/data/README.md)")
    env = thread_env(a.threads)
    held, train = heldout_split(a.data, a.seed, a.cases)
    if a.fresh and a.work.exists():
        shutil.rmtree(a.work)
    a.work.mkdir(parents=True, exist_ok=True)
    train_ds = link_dataset(a.data, train, a.work / "train")
    held_ds = link_dataset(a.data, held, a.work / "heldout")
    if not (a.work / "rotated" / "labels").is_dir():
        write_rotated(a.data, held[: a.rotated_cases], a.work / "rotated", a.rotation_deg, a.seed)
    meta = {
        "cases": len(held) + len(train), "heldout": len(held), "train_folder": len(train),
        "seed": a.seed,
        "rotation_deg": a.rotation_deg, "rotated_cases": min(a.rotated_cases, len(held)),
        "threads": a.threads, "command": "python benchmarks/medseg_hippocampus.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    runs = []
    for spec in a.runs:
        mode, fraction, *minutes = spec.split(":")
        default = a.budget if float(fraction) == 1 else a.small_budget
        runs.append((mode, float(fraction), float(minutes[0]) if minutes else default))
    results = []
    out_json = RESULTS / f"{a.name}.json"
    if a.append and out_json.is_file():
        saved = json.loads(out_json.read_text())
        redo = {(m, f) for m, f, _ in runs}
        results = [r for r in saved["results"] if (r["mode"], r["train_fraction"]) not in redo]
        meta["command"] = saved["meta"].get("command", "") + "; " + meta["command"]
    for mode, fraction, budget in runs:
        tag = f"{mode}_{int(fraction * 100)}"
        root = a.work / f"fit_{tag}"
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        print(f"--- {tag}: fit ({budget} min)", flush=True)
        r = {"mode": mode, "train_fraction": fraction, "budget_min": budget,
             "train_label": "100%" if fraction == 1 else f"{int(fraction * 100)}%"}
        r.update(fit(train_ds, mode, budget, root, fraction, a.samples_per_epoch, env, a.epochs))
        r["heldout"] = predict_and_evaluate(
            r["checkpoint"], held_ds / "imagesTr", held_ds / "labelsTr", root / "pred_heldout",
            env,
        )
        if fraction == 1:  # rotated rows for the full-data models (time)
            r["rotated"] = predict_and_evaluate(
                r["checkpoint"], a.work / "rotated" / "images", a.work / "rotated" / "labels",
                root / "pred_rotated", env,
            )
        print(json.dumps(r), flush=True)
        results = [x for x in results if (x["mode"], x["train_fraction"]) != (mode, fraction)]
        results.append(r)
        RESULTS.mkdir(parents=True, exist_ok=True)
        out_json.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
        (RESULTS / f"{a.name}.md").write_text(markdown(results, meta))
        plot(results, RESULTS / f"{a.name}.png")
    print(markdown(results, meta))


if __name__ == "__main__":
    main()
