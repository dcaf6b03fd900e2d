"""``gdl-medseg evaluate --pred DIR --ref DIR --output metrics.csv``.

Per case and label: Dice, HD95 in mm and the volume difference in ml. Writes a CSV
(one row per case and label) and prints a per-label summary (mean over cases), also
written to ``<output>.summary.md`` and ``<output>.summary.json``.

Conventions (those of the MSD challenge, nnU-Net and MONAI):
- HD95 is the larger of the two one-way 95th percentiles of surface distances
  (prediction surface -> reference surface, and back), in mm with the voxel spacing,
  as MONAI's ``compute_hausdorff_distance(percentile=95)``;
- Dice is 1 when prediction and reference are both empty, 0 when only one is;
- HD95 is undefined when either mask is empty: such cases are *counted and named* in
  the summary (empty prediction / empty reference) and left out of the HD95 mean only,
  never from the Dice mean.
``--overlays N --images DIR`` also draws the N worst and N best cases (``overlays.py``)
into ``<output>.overlays/``.
"""

from __future__ import annotations

import argparse
import csv
import json
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
    """max(p95 of pred-surface -> ref-surface distances, p95 of ref -> pred) in mm (the
    MSD/MONAI HD95); nan if either mask is empty."""
    if not pred.any() or not ref.any():
        return float("nan")
    sp, sr = surface(pred), surface(ref)
    to_ref = ndimage.distance_transform_edt(~sr, sampling=spacing)[sp]
    to_pred = ndimage.distance_transform_edt(~sp, sampling=spacing)[sr]
    return float(max(np.percentile(to_ref, 95), np.percentile(to_pred, 95)))


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
        values = set()
        if not names:  # every label seen in the reference or the prediction
            for path in (ref_path, pred_path):
                values |= set(np.unique(np.rint(load_volume(path, case).data)).astype(int).tolist())
        labels = sorted(set(names) - {0}) if names else sorted(values - {0})
        rows += evaluate_case(pred_path, ref_path, case, labels)
    if not rows:
        raise UserInputError(f"{pred_dir}: no prediction matches a reference case in {ref_dir}")
    with atomic_write(output, newline="") as fh:
        writer = csv.DictWriter(fh, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    stats = label_statistics(rows)
    summary = summarise(stats, names)
    with atomic_write(output.with_name(output.name + ".summary.md")) as fh:
        fh.write(summary + "\n")
    with atomic_write(output.with_name(output.name + ".summary.json")) as fh:
        json.dump({"labels": {str(k): v for k, v in stats.items()}}, fh, indent=2)
    print(summary)
    if missing:
        print(f"{len(missing)} reference case(s) without prediction: {missing[:5]}", flush=True)
    if args.overlays:
        from gdl_medseg.overlays import write_overlays

        folder = output.with_name(output.name + ".overlays")
        written = write_overlays(rows, args.overlays, Path(args.images), preds, refs, folder, names)
        print(f"{len(written)} overlay picture(s) in {folder}", flush=True)
    return 0


def label_statistics(rows: list[dict]) -> dict[int, dict]:
    """Per label: the Dice mean over all cases, the HD95 mean over the cases where it is
    defined, and the cases left out of it (empty prediction / empty reference)."""
    out = {}
    for label in sorted({r["label"] for r in rows}):
        sel = [r for r in rows if r["label"] == label]
        hd = [r["hd95_mm"] for r in sel if np.isfinite(r["hd95_mm"])]
        out[label] = {
            "cases": len(sel),
            "dice_mean": float(np.mean([r["dice"] for r in sel])),
            "hd95_mean_mm": float(np.mean(hd)) if hd else None,
            "hd95_cases": len(hd),
            "empty_prediction": [r["case"] for r in sel if r["volume_pred_ml"] == 0],
            "empty_reference": [r["case"] for r in sel if r["volume_ref_ml"] == 0],
            "volume_diff_ml": float(np.mean([r["volume_diff_ml"] for r in sel])),
        }
    return out


def summarise(stats: dict[int, dict], names: dict[int, str]) -> str:
    lines = [
        "| label | cases | Dice | HD95 (mm) | HD95 cases | empty pred | empty ref "
        "| volume diff (ml) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for label, s in stats.items():
        hd = "—" if s["hd95_mean_mm"] is None else f"{s['hd95_mean_mm']:.2f}"
        name = names.get(label, label)
        lines.append(
            f"| {name} | {s['cases']} | {s['dice_mean']:.4f} | {hd} | {s['hd95_cases']} | "
            f"{len(s['empty_prediction'])} | {len(s['empty_reference'])} | "
            f"{s['volume_diff_ml']:+.3f} |"
        )
        for kind in ("empty_prediction", "empty_reference"):
            if s[kind]:
                shown = ", ".join(s[kind][:10]) + (" ..." if len(s[kind]) > 10 else "")
                notes.append(f"- {name}: {kind.replace('_', ' ')} in {shown}")
    lines += [
        "",
        "Dice: 1 when prediction and reference are both empty, 0 when one is. HD95: the "
        "larger one-way 95th percentile (MSD/MONAI), averaged over the cases where both "
        "masks are non-empty (HD95 cases); the others are listed here:" if notes else
        "Dice: 1 when both masks are empty, 0 when one is; HD95: the larger one-way 95th "
        "percentile (MSD/MONAI); no case had an empty mask.",
        *notes,
    ]
    return "\n".join(lines)
