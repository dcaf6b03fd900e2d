"""The ensemble contestant of the molprop benchmark: the product's own ``fit
--ensemble_size N`` and ``predict --checkpoint ensemble.json``, on one split CSV.

Both commands run as the user runs them (the console script, ``configs/molprop/
default.yaml`` plus the variant's overrides, one compute thread, a cold conformer cache),
so the wall time is what a user pays for the ensemble: preparation, N member fits, the
ensemble validation the fit prints, and the ensemble predict of val + test. Each member's
best checkpoint is also scored alone (in-process), so the report can set the ensemble
against its own members: member 0 is the single model of the same seed.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from molprop_bench_data import read_split, score, write_part_smiles
from molprop_bench_runners import DEFAULT_CONFIG, THREADS, VARIANTS, predict_parts

GDL_MOLPROP = Path(sys.executable).parent / "gdl-molprop"


def _overrides(variant: str) -> list[str]:
    """The variant as CLI flags (``prep.x`` is ``--data.prep.x``)."""
    flags = []
    for key, value in VARIANTS[variant].items():
        section, name = key.split(".")
        prefix = "--data.prep." if section == "prep" else f"--{section}."
        flags.append(f"{prefix}{name}={json.dumps(value)}")
    return flags


def _run(args: list[str], env: dict, log: Path) -> None:
    with open(log, "a") as fh:
        proc = subprocess.run(args, env=env, stdout=fh, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        tail = log.read_text()[-2000:]
        raise RuntimeError(f"{' '.join(args[:2])} failed ({proc.returncode}):\n{tail}")


def _predictions(out_csv: Path, targets: list[str]) -> np.ndarray:
    with open(out_csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    cells = [[r.get(f"{t}_pred", "") for t in targets] for r in rows]
    return np.array([[float(c) if c else np.nan for c in row] for row in cells], dtype=float)


def _member_scores(
    checkpoint: Path, smiles, y, split, targets, kind: str, y_train, cache: Path
) -> dict:
    """One member's val and test scores (what a single fit of its seed would score)."""
    from gdl_molprop.task import MolPropTask

    from gdl_science.io import load_task

    parts = predict_parts(load_task(MolPropTask, checkpoint), smiles, y, split, len(targets), cache)
    out = {part: score(*parts[part], kind, y_train) for part in parts}
    return {**out["test"], "val": out["val"]}


def run_ensemble(
    path: Path,
    targets: list[str],
    variant: str,
    epochs: int,
    seed: int,
    work: Path,
    kind: str,
    size: int,
    quick: bool = False,
) -> list[dict]:
    """[the ensemble's result, member 0's result]: the rows of the benchmark table."""
    import torch

    torch.set_num_threads(THREADS)
    root = work / f"ens{size}_{variant}_{path.stem}"
    cache = work / f"cache_ens_{variant}_{path.stem}"
    for folder in (root, cache):
        shutil.rmtree(folder, ignore_errors=True)  # cold cache, fresh members
    root.mkdir(parents=True)
    log = root / "commands.log"
    env = {
        **os.environ,
        "OMP_NUM_THREADS": str(THREADS),
        "MKL_NUM_THREADS": str(THREADS),
        "GDL_NO_PROGRESS": "1",
    }
    start = time.perf_counter()
    _run(
        [
            str(GDL_MOLPROP), "fit", "--config", str(DEFAULT_CONFIG), f"--data.path={path}",
            "--data.split=column", f"--data.targets={json.dumps(targets)}",
            f"--data.task_type={kind}", f"--data.cache_dir={cache}", "--data.prep_workers=2",
            f"--seed_everything={seed}", f"--ensemble_size={size}",
            f"--trainer.max_epochs={epochs}", f"--trainer.default_root_dir={root}",
            "--trainer.enable_progress_bar=false", "--trainer.accelerator=cpu",
            *_overrides(variant),
            *(["--model.width=16", "--model.head_hidden=16"] if quick else []),
        ],
        env, log,
    )  # fmt: skip
    fit_seconds = time.perf_counter() - start
    smiles, y, split = read_split(path, targets)
    y_train = y[[i for i, s in enumerate(split) if s == "train"]]
    manifest = root / "ensemble.json"
    result: dict = {}
    pred_start = time.perf_counter()
    for part in ("val", "test"):
        part_csv = root / f"{part}.csv"
        rows = write_part_smiles(smiles, split, part, part_csv)
        out_csv = root / f"{part}_preds.csv"
        _run(
            [
                str(GDL_MOLPROP), "predict", "--checkpoint", str(manifest), "--input",
                str(part_csv), "--output", str(out_csv), "--cache-dir", str(cache),
            ],
            env, log,
        )  # fmt: skip
        result[part] = (y[rows], _predictions(out_csv, targets))
    predict_seconds = time.perf_counter() - pred_start
    wall = time.perf_counter() - start
    members = [
        _member_scores(root / m["best"], smiles, y, split, targets, kind, y_train, cache)
        for m in json.loads(manifest.read_text())["members"]
    ]
    n_train = sum(s == "train" for s in split)
    ensemble = {
        "model": f"gdl-molprop ({variant}-ens{size})",
        **score(*result["test"], kind, y_train),
        "val": score(*result["val"], kind, y_train),
        "wall_s": wall,
        "prep_s": None,  # inside the fit command (its first member prepares the molecules)
        "fit_s": fit_seconds,
        "predict_s": predict_seconds,
        "epochs": epochs,
        "n_train": n_train,
        "ensemble_size": size,
        "members": members,
        "invariance_error_f32": None,
        "_y": result["test"][0].tolist(),
        "_p": result["test"][1].tolist(),
    }
    # Member 0 = the single model of this seed; its time is the fit's share per member.
    single = {
        "model": f"gdl-molprop ({variant}-member0)",
        **members[0],
        "wall_s": fit_seconds / size,
        "prep_s": None,
        "fit_s": fit_seconds / size,
        "epochs": epochs,
        "n_train": n_train,
        "invariance_error_f32": None,
    }
    return [ensemble, single]
