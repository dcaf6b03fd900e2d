"""The two contestants of the molprop benchmark, on one split CSV each.

- ``run_ours``: gdl-molprop with ``configs/molprop/default.yaml`` (model and data
  sections), plus the overrides of a named variant, trained through the product's own
  task and data module by a Lightning Trainer for the same number of epochs as Chemprop,
  best val/loss epoch kept, scored on val and test. Conformers start from a cold cache
  (a fresh folder per run).
- ``run_chemprop``: Chemprop 2.3.1's own CLI with its defaults from a separate venv
  (``--task-type classification`` for the classification sets).

Both get one compute thread (``THREADS``); ours also uses ``prep_workers`` RDKit
processes for conformers (2 on this machine).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml
from molprop_bench_data import read_split, score, write_part_smiles

ROOT = Path(__file__).resolve().parents[1]
CHEMPROP_VENV = ROOT / "benchmarks" / ".venv-chemprop"
TORCH_WHEEL_DIRS = (Path("/opt/wheels"), Path("/tmp/tdl"))
DEFAULT_CONFIG = ROOT / "configs" / "molprop" / "default.yaml"
# One compute thread per model: on a shared 2-core machine more threads oversubscribe the
# cores and slow a training step down by up to 50x (measured here). Both models get the same.
THREADS = 1
# Variants: overrides of the default config (model.* / data.* / prep.* keys, prep being
# data.prep).
VARIANTS: dict[str, dict] = {
    "default": {},
    "none": {"model.symmetry": "none"},
    "augment": {"model.symmetry": "augment"},
    "2d": {"prep.geometry": "2d"},
    "3d": {"prep.geometry": "3d"},  # conformers whatever the task type (the pre-auto default)
    "desc": {"prep.descriptors": True},
    "nodesc": {"prep.descriptors": False},  # the classification default before "auto"
    "mmff": {"prep.forcefield": "mmff", "prep.embed_hydrogens": True},
    "chiral": {"model.chirality": True},
    "drop0": {"model.dropout": 0.0},
    "drop3": {"model.dropout": 0.3},
    "radial0": {"model.radial_layers": 0},
    "radial2": {"model.radial_layers": 2},
    "rw16": {"model.radial_width": 16},
    "wd": {"model.weight_decay": 0.01},
    "mean": {"model.readout": "mean"},
    "sum": {"model.readout": "sum"},
    "lr3": {"model.lr": 0.0003},
    "narrow": {"model.width": 150, "model.head_hidden": 150},
    "raw": {"prep.standardize": False},  # every fragment featurised, as Chemprop does
    # Parent featurised, plus molecule-level bits of what standardisation removed.
    "salt": {"prep.salt_features": True},
    "nosalt": {"prep.salt_features": False},
    "desc_narrow": {"prep.descriptors": True, "model.width": 150, "model.head_hidden": 150},
}  # fmt: skip


def config_for(variant: str, quick: bool) -> tuple[dict, dict]:
    """(model kwargs, data kwargs) of the default config with the variant applied."""
    cfg = yaml.safe_load(DEFAULT_CONFIG.read_text())
    model, data = dict(cfg.get("model", {})), dict(cfg.get("data", {}))
    data["prep"] = dict(data.get("prep", {}))
    for key, value in VARIANTS[variant].items():
        section, name = key.split(".")
        {"model": model, "data": data, "prep": data["prep"]}[section][name] = value
    if quick:
        model.update(width=16, head_hidden=16)
    for k in ("split", "val_fraction", "test_fraction", "limit", "path"):
        data.pop(k, None)
    return model, data


def run_ours(
    path: Path,
    targets: list[str],
    variant: str,
    epochs: int,
    seed: int,
    work: Path,
    quick: bool,
    kind: str = "regression",
    shared_cache: Path | None = None,
) -> dict:
    import lightning.pytorch as pl
    import torch
    from gdl_molprop.datamodule import MolPropDataModule
    from gdl_molprop.task import MolPropTask
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger

    from gdl_science.io import load_task

    torch.set_num_threads(THREADS)
    pl.seed_everything(seed, verbose=False)
    model_cfg, data_cfg = config_for(variant, quick)
    if shared_cache is None:
        cache = work / f"cache_{variant}_{path.stem}"
        shutil.rmtree(cache, ignore_errors=True)  # cold cache: conformers are part of the time
    else:  # ablations: conformers made once per preparation setting (prep_s is then warm)
        cache = shared_cache
    start = time.perf_counter()
    dm = MolPropDataModule(
        path=str(path), targets=targets, split="column", cache_dir=str(cache), seed=seed,
        task_type=kind, **{"prep_workers": 2, **data_cfg},
    )  # fmt: skip
    # What the CLI links do: the data module tells the task its targets and preparation.
    task = MolPropTask(
        task_names=dm.task_names,
        task_type=dm.task_type,
        target_mean=dm.target_mean,
        target_std=dm.target_std,
        prep=dm.prep_hparams,
        augment_seed=seed,
        **model_cfg,
    )
    dm.setup("fit")
    prep_seconds = time.perf_counter() - start
    ckpt = ModelCheckpoint(
        dirpath=work / f"ckpt_{variant}_{path.stem}", monitor="val/loss", mode="min",
        save_last=True,
    )  # fmt: skip
    trainer = pl.Trainer(
        max_epochs=epochs, accelerator="cpu", devices=1, callbacks=[ckpt],
        logger=CSVLogger(work / "logs"), enable_progress_bar=False,
        enable_model_summary=False, gradient_clip_val=5.0, num_sanity_val_steps=0,
    )  # fmt: skip
    fit_start = time.perf_counter()
    trainer.fit(task, datamodule=dm)
    fit_seconds = time.perf_counter() - fit_start
    best = load_task(MolPropTask, ckpt.best_model_path or ckpt.last_model_path)
    smiles, y, split = read_split(path, targets)
    pred_start = time.perf_counter()
    out = predict_parts(best, smiles, y, split, len(targets), cache)
    predict_seconds = time.perf_counter() - pred_start
    wall = time.perf_counter() - start
    invariance = best.check_symmetry(None, torch.float32).max_abs
    n_train = len(dm.datasets["train"])
    y_train = y[[i for i, s in enumerate(split) if s == "train"]]
    return {
        "model": f"gdl-molprop ({variant})",
        **score(*out["test"], kind, y_train),
        "val": score(*out["val"], kind, y_train),
        "wall_s": wall,
        "prep_s": prep_seconds,
        "fit_s": fit_seconds,
        "predict_s": predict_seconds,
        "best_epoch": _best_epoch(ckpt.best_model_path),
        "train_mol_epochs_per_s": n_train * trainer.current_epoch / fit_seconds,
        "epochs": epochs,
        "n_train": n_train,
        "invariance_error_f32": invariance,
        "prep_status": dict(dm.status_counts),
        "curves": _curves(trainer),
        "_y": out["test"][0].tolist(),
        "_p": out["test"][1].tolist(),
    }


def predict_parts(task, smiles, y, split, n_targets: int, cache: Path) -> dict:
    """{"val"/"test": (y_true (n, T), predictions (n, T), NaN where a molecule failed)}
    of one trained task, through the product's own preparation and prediction."""
    from gdl_molprop.data.cache import ConformerCache
    from gdl_molprop.data.pipeline import MoleculeSource, prepare_many
    from gdl_molprop.predict import predict_molecules

    out = {}
    for part in ("val", "test"):
        rows = [i for i, s in enumerate(split) if s == part]
        mols = prepare_many(
            [MoleculeSource(smiles=smiles[i]) for i in rows],
            task.prep_settings,
            ConformerCache(cache, task.prep_settings),
        )
        preds = np.full((len(rows), n_targets), np.nan)
        ok = [k for k, m in enumerate(mols) if m.ok]
        if ok:
            preds[ok] = predict_molecules([task], [mols[k] for k in ok])[:, :, 0]
        out[part] = (y[rows], preds)
    return out


def _curves(trainer) -> dict[str, list[float]]:
    """Per-epoch train and val loss from the CSV log (why the best epoch is where it is)."""
    path = Path(trainer.logger.log_dir) / "metrics.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    out: dict[str, list[float]] = {}
    for key in ("train/loss_epoch", "val/loss"):
        out[key] = [round(float(r[key]), 4) for r in rows if r.get(key)]
    return out


def _best_epoch(path: str) -> int | None:
    import re

    m = re.search(r"epoch=(\d+)", Path(path).name) if path else None
    return int(m.group(1)) if m else None


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


def run_chemprop(
    path: Path, targets: list[str], epochs: int, seed: int, work: Path, kind: str = "regression"
) -> dict:
    exe = ensure_chemprop()
    out = work / f"chemprop_{path.stem}"
    shutil.rmtree(out, ignore_errors=True)
    smiles, y, split = read_split(path, targets)
    env = {**os.environ, "OMP_NUM_THREADS": str(THREADS), "MKL_NUM_THREADS": str(THREADS)}
    common = ["--accelerator", "cpu", "--devices", "1", "-n", "0"]
    start = time.perf_counter()
    subprocess.run(
        [str(exe), "train", "--data-path", str(path), "-s", "smiles",
         "--target-columns", *targets, "--splits-column", "split", "--epochs", str(epochs),
         "--warmup-epochs", str(min(2, epochs - 1)), "--save-dir", str(out),
         "--pytorch-seed", str(seed), "--data-seed", str(seed), "--task-type", kind,
         *common],
        check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    fit_seconds = time.perf_counter() - start
    model = next(out.rglob("best*.pt"))
    result: dict = {}
    pred_start = time.perf_counter()
    for part in ("val", "test"):
        part_csv = work / f"chemprop_{part}_{path.stem}.csv"
        rows = write_part_smiles(smiles, split, part, part_csv)
        preds_csv = work / f"chemprop_preds_{part}_{path.stem}.csv"
        subprocess.run(
            [str(exe), "predict", "--test-path", str(part_csv), "--model-paths", str(model),
             "--preds-path", str(preds_csv), *common],
            check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        with open(preds_csv, newline="") as fh:
            pred_rows = list(csv.DictReader(fh))
        preds = np.array(
            [[_number(r.get(t, "")) for t in targets] for r in pred_rows], dtype=float
        ).reshape(len(rows), len(targets))
        result[part] = (y[rows], preds)
    predict_seconds = time.perf_counter() - pred_start
    y_train = y[[i for i, s in enumerate(split) if s == "train"]]
    return {
        "model": "Chemprop 2.3.1",
        **score(*result["test"], kind, y_train),
        "val": score(*result["val"], kind, y_train),
        "wall_s": time.perf_counter() - start,
        "prep_s": None,  # featurisation happens inside `chemprop train` (in fit_s)
        "fit_s": fit_seconds,
        "predict_s": predict_seconds,
        "train_mol_epochs_per_s": sum(s == "train" for s in split) * epochs / fit_seconds,
        "epochs": epochs,
        "n_train": sum(s == "train" for s in split),
        "invariance_error_f32": None,
        "_y": result["test"][0].tolist(),
        "_p": result["test"][1].tolist(),
    }


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:  # "Invalid SMILES" and blanks
        return float("nan")
