"""Overlay pictures for ``gdl-medseg evaluate --overlays N``: look at the segmentations.

For the N worst and N best cases by mean Dice, one PNG each: three orthogonal slices
(sagittal, coronal, axial in stored voxel axes) through the reference structure's centre
of mass, the image in grey, the reference contours in green and the prediction contours
in magenta (one line style per label), titled with the case id and its Dice per label.
Written atomically as ``{rank:02d}_{worst|best}_{case}.png`` into the overlay folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gdl_medseg.data.layout import load_volume
from gdl_science.io import UserInputError, atomic_path

STYLES = ("solid", "dashed", "dotted", "dashdot")


def rank_cases(rows: list[dict], n: int) -> list[tuple[str, str]]:
    """[(kind, case)]: the n worst then the n best cases by mean Dice (no case twice)."""
    by_case: dict[str, list[float]] = {}
    for r in rows:
        by_case.setdefault(r["case"], []).append(float(r["dice"]))
    order = sorted(by_case, key=lambda c: (np.mean(by_case[c]), c))
    worst = order[:n]
    best = [c for c in reversed(order) if c not in worst][:n]
    return [("worst", c) for c in worst] + [("best", c) for c in best]


def _slices(volume: np.ndarray, centre: np.ndarray) -> list[np.ndarray]:
    x, y, z = (int(v) for v in centre)
    return [volume[x, :, :], volume[:, y, :], volume[:, :, z]]


def draw_case(
    image: np.ndarray,
    ref: np.ndarray,
    pred: np.ndarray,
    title: str,
    path: Path,
    labels: list[int],
    names: dict[int, str],
) -> None:
    """image, ref, pred: (X, Y, Z) arrays of one case in the same voxel grid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    mask = ref > 0 if (ref > 0).any() else pred > 0
    centre = np.argwhere(mask).mean(0) if mask.any() else (np.array(ref.shape) - 1) / 2
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.8))
    for ax, img, r, p, name in zip(
        axes,
        _slices(image, centre),
        _slices(ref, centre),
        _slices(pred, centre),
        ("sagittal (x)", "coronal (y)", "axial (z)"),
    ):
        ax.imshow(img.T, cmap="gray", origin="lower")
        for k, value in enumerate(labels):
            style = STYLES[k % len(STYLES)]
            for data, colour in ((r, "lime"), (p, "magenta")):
                m = (data == value).T.astype(float)
                if 0 < m.sum() < m.size:
                    ax.contour(m, levels=[0.5], colors=colour, linestyles=style, linewidths=1.2)
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    handles = [Line2D([], [], color="lime", label="reference")]
    handles.append(Line2D([], [], color="magenta", label="prediction"))
    handles += [
        Line2D([], [], color="k", ls=STYLES[k % len(STYLES)], label=names.get(v, str(v)))
        for k, v in enumerate(labels)
    ]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def write_overlays(
    rows: list[dict],
    n: int,
    images: Path,
    pred_paths: dict[str, Path],
    ref_paths: dict[str, Path],
    out_dir: Path,
    names: dict[int, str],
) -> list[Path]:
    """PNGs of the n worst and n best cases; returns their paths."""
    if not images.is_dir():
        raise UserInputError(f"--images {images}: not a folder (needed by --overlays)")
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = sorted({int(r["label"]) for r in rows})
    written = []
    for rank, (kind, case) in enumerate(rank_cases(rows, n)):
        candidates = sorted(images.glob(f"{case}_0000.nii*")) or sorted(images.glob(f"{case}.nii*"))
        if not candidates:
            raise UserInputError(f"{images}: no image {case}_0000.nii.gz for --overlays")
        image = load_volume(candidates[0], case).data
        ref = load_volume(ref_paths[case], case).data.round().astype(int)
        pred = load_volume(pred_paths[case], case).data.round().astype(int)
        dices = {int(r["label"]): float(r["dice"]) for r in rows if r["case"] == case}
        shown = ", ".join(f"{names.get(v, v)} {d:.3f}" for v, d in sorted(dices.items()))
        title = f"{case} ({kind} {rank % n + 1 if n else 0}): Dice {shown}"
        path = out_dir / f"{rank:02d}_{kind}_{case}.png"
        draw_case(image, ref, pred, title, path, labels, names)
        written.append(path)
    return written
