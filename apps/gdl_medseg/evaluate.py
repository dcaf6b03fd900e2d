"""``gdl-medseg evaluate --pred DIR --ref DIR --output metrics.csv``.

Per case and label: Dice, the 95th-percentile symmetric Hausdorff distance in mm
(surface distances with the voxel spacing, so anisotropic data is measured correctly),
and the volume difference in ml. Writes a CSV (one row per case and label) and prints a
per-label summary (mean over cases), also written to ``<output>.summary.md``.
``--overlays N --images DIR`` also draws the N worst and N best cases (``overlays.py``)
into ``<output>.overlays/``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from scipy import ndimage

from gdl_medseg.data.layout import load_volume, read_spec
from gdl_science.io import UserInputError, atomic_write, check_output_path

COLUMNS = ["case", "label", "dice", "hd95_mm", "volume_pred_ml", "volume_ref_ml", "volume_diff_ml"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pred", required=True, help="folder of predicted {case}.nii.gz")
    parser.add_argument("--ref", required=True, help="folder of reference {case}.nii.gz")
    parser.add_argument("--output", required=True, help="CSV to write (atomically)")
    parser.add_argument(
        "--dataset-json", default=None, help="dataset.json for label names (default: numbers)"
    )
    parser.add_argument(
        "--overlays",
        type=int,
        default=0,
        metavar="N",
        help="write PNGs of the N worst and N best cases into <output>.overlays/",
    )
    parser.add_argument(
        "--images", default=None, help="folder of the images ({case}_0000.nii.gz), for --overlays"
    )


def surface(mask: np.ndarray) -> np.ndarray:
    return mask & ~ndimage.binary_erosion(mask, border_value=0)


def hd95(pred: np.ndarray, ref: np.ndarray, spacing: tuple[float, ...]) -> float:
    """95th percentile of symmetric surface distances (mm); nan if either mask is empty."""
    if not pred.any() or not ref.any():
        return float("nan")
    sp, sr = surface(pred), surface(ref)
    to_ref = ndimage.distance_transform_edt(~sr, sampling=spacing)[sp]
    to_pred = ndimage.distance_transform_edt(~sp, sampling=spacing)[sr]
    return float(np.percentile(np.concatenate([to_ref, to_pred]), 95))


def dice(pred: np.ndarray, ref: np.ndarray) -> float:
    total = pred.sum() + ref.sum()
    return 1.0 if total == 0 else float(2 * (pred & ref).sum() / total)


def evaluate_case(pred_path: Path, ref_path: Path, case: str, labels: list[int]) -> list[dict]:
    pred = load_volume(pred_path, case, np.float64)
    ref = load_volume(ref_path, case, np.float64)
    if pred.data.shape != ref.data.shape:
        raise UserInputError(f"{pred_path}: shape {pred.data.shape} != reference {ref.data.shape}")
    if not np.allclose(pred.affine, ref.affine, atol=1e-3):
        raise UserInputError(f"{pred_path}: affine differs from the reference {ref_path}")
    spacing = ref.spacing
    voxel_ml = float(np.prod(spacing)) / 1000.0
    rows = []
    for label in labels:
        p, r = pred.data == label, ref.data == label
        rows.append(
            {
                "case": case,
                "label": label,
                "dice": dice(p, r),
                "hd95_mm": hd95(p, r, spacing),
                "volume_pred_ml": p.sum() * voxel_ml,
                "volume_ref_ml": r.sum() * voxel_ml,
                "volume_diff_ml": (p.sum() - r.sum()) * voxel_ml,
            }
        )
    return rows


def run(args: argparse.Namespace) -> int:
    pred_dir, ref_dir, output = Path(args.pred), Path(args.ref), Path(args.output)
    for d in (pred_dir, ref_dir):
        if not d.is_dir():
            raise UserInputError(f"{d}: not a folder")
    check_output_path(output, [*pred_dir.iterdir(), *ref_dir.iterdir()])
    names: dict[int, str] = {}
    if args.dataset_json:
        spec = read_spec(Path(args.dataset_json).parent)
        names = {v: k for k, v in spec.labels.items()}
    refs = {p.name.split(".nii")[0]: p for p in sorted(ref_dir.glob("*.nii*"))}
    if not refs:
        raise UserInputError(f"{ref_dir}: no reference .nii/.nii.gz files")
    if args.overlays < 0:
        raise UserInputError(f"--overlays {args.overlays}: must be >= 0")
    if args.overlays and not args.images:
        raise UserInputError("--overlays needs --images DIR (the images to draw on)")
    rows: list[dict] = []
    missing = []
    preds: dict[str, Path] = {}
    for case, ref_path in refs.items():
        pred_path = next(iter(sorted(pred_dir.glob(f"{case}.nii*"))), None)
        if pred_path is None:
            missing.append(case)
            continue
        preds[case] = pred_path
        ref_values = np.unique(np.asarray(load_volume(ref_path, case).data)).astype(int)
        labels = sorted(set(names) - {0}) if names else [v for v in ref_values.tolist() if v]
        rows += evaluate_case(pred_path, ref_path, case, labels)
    if not rows:
        raise UserInputError(f"{pred_dir}: no prediction matches a reference case in {ref_dir}")
    with atomic_write(output, newline="") as fh:
        writer = csv.DictWriter(fh, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    summary = summarise(rows, names)
    with atomic_write(output.with_name(output.name + ".summary.md")) as fh:
        fh.write(summary + "\n")
    print(summary)
    if missing:
        print(f"{len(missing)} reference case(s) without prediction: {missing[:5]}", flush=True)
    if args.overlays:
        from gdl_medseg.overlays import write_overlays

        folder = output.with_name(output.name + ".overlays")
        written = write_overlays(rows, args.overlays, Path(args.images), preds, refs, folder, names)
        print(f"{len(written)} overlay picture(s) in {folder}", flush=True)
    return 0


def summarise(rows: list[dict], names: dict[int, str]) -> str:
    lines = ["| label | cases | Dice | HD95 (mm) | volume diff (ml) |", "|---|---|---|---|---|"]
    for label in sorted({r["label"] for r in rows}):
        sel = [r for r in rows if r["label"] == label]
        hd = [r["hd95_mm"] for r in sel if np.isfinite(r["hd95_mm"])]
        lines.append(
            f"| {names.get(label, label)} | {len(sel)} | {np.mean([r['dice'] for r in sel]):.4f} | "
            f"{np.mean(hd) if hd else float('nan'):.2f} | "
            f"{np.mean([r['volume_diff_ml'] for r in sel]):+.3f} |"
        )
    return "\n".join(lines)
