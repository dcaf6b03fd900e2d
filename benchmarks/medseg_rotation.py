"""Rotation robustness: train on canonically posed phantoms, test on rotated ones.

Three (four with MONAI installed) networks are trained with the same data, steps and
optimiser on phantoms whose rods and discs always have the same orientation:
- equivariant: the octahedral escnn U-Net (widths regular fields per level);
- augment: the plain U-Net of the same channel widths, trained with random cube rotations;
- none: the same plain U-Net without augmentation;
- monai: MONAI's UNet at a matched parameter count, no augmentation (if installed).
Test cases (held out, same canonical pose) are segmented as they are, rotated by the 90°
cube rotations (exact resampling) and by arbitrary angles (trilinear image, nearest
label). We report the mean foreground Dice in each condition.

    python benchmarks/medseg_rotation.py [--quick] [--steps 300] [--out benchmarks/results]
Writes medseg_rotation.json, medseg_rotation.md and medseg_rotation.png.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from gdl_medseg.data.phantoms import PhantomConfig, write_dataset
from gdl_medseg.datamodule import MedSegDataModule
from gdl_medseg.layers.sliding_window import sliding_window
from gdl_medseg.task import MedSegTask

from gdl_science.blueprint import count_parameters
from gdl_science.symmetry import OctahedralGroup, random_rotation, resample_rotated, rotate_grid


def monai_unet(n_classes: int, target_params: int):
    """MONAI's UNet (2 levels, residual units) scaled to about ``target_params``."""
    from monai.networks.nets import UNet

    best = None
    for base in range(2, 64):
        net = UNet(3, 1, n_classes, channels=(base, 2 * base), strides=(2,), num_res_units=2)
        n = count_parameters(net)
        if best is None or abs(n - target_params) < abs(best[0] - target_params):
            best = (n, net)
    return best[1]


def dice_scores(pred: np.ndarray, label: np.ndarray, n_classes: int) -> float:
    """Mean Dice over foreground classes present in the reference."""
    scores = []
    for c in range(1, n_classes):
        p, t = pred == c, label == c
        if t.any():
            scores.append(2 * (p & t).sum() / (p.sum() + t.sum()))
    return float(np.mean(scores)) if scores else 1.0


def rotations(quick: bool) -> dict[str, list]:
    cube = OctahedralGroup().elements
    g = torch.Generator().manual_seed(123)
    n = 2 if quick else 4
    return {
        "unrotated": [None],
        "rot90": [cube[i] for i in (1, 8, 17, 23)[:n]],
        "arbitrary": [random_rotation(g) for _ in range(n)],
    }


def evaluate(net, cases, n_classes, size, conditions) -> dict[str, float]:
    net.eval()
    out = {}
    for name, rots in conditions.items():
        scores = []
        for image, label in cases:
            for r in rots:
                x, y = torch.from_numpy(image.copy()), torch.from_numpy(label.astype(np.int64))
                if r is not None and r.dtype == torch.int64:
                    x, y = rotate_grid(r, x), rotate_grid(r, y)
                elif r is not None:
                    # Border padding: the corners a rotation brings in look like background.
                    x = resample_rotated(r, x[None], padding_mode="border")[0]
                    y = resample_rotated(r, y[None, None].double(), mode="nearest")[0, 0].long()
                probs = sliding_window([net], x.numpy(), size, n_classes, overlap=0.5)
                scores.append(dice_scores(probs.argmax(0), y.numpy(), n_classes))
        out[name] = float(np.mean(scores))
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: a few steps, tiny data")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--train-cases", type=int, default=16)
    p.add_argument("--test-cases", type=int, default=4)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--widths", default="2,4")
    p.add_argument("--patch", type=int, default=17)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--foreground", type=float, default=0.5, help="foreground patch fraction")
    p.add_argument("--structure-scale", type=float, default=1.0, help="phantom structure size")
    p.add_argument("--models", default="equivariant,augment,none,monai")
    p.add_argument("--out", default="benchmarks/results")
    a = p.parse_args(argv)
    if a.quick:
        a.steps, a.train_cases, a.test_cases, a.size, a.widths = 3, 2, 1, 24, "1,1"
    torch.set_num_threads(1)
    widths = [int(w) for w in a.widths.split(",")]
    work = Path(tempfile.mkdtemp(prefix="medseg_rot_"))
    os.environ.setdefault("GDL_CACHE_DIR", str(work / "cache"))
    train_root = write_dataset(
        work / "train",
        PhantomConfig(
            a.train_cases, a.size, "canonical", seed=0, structure_scale=a.structure_scale
        ),
    )
    test_root = write_dataset(
        work / "test",
        PhantomConfig(a.test_cases, a.size, "canonical", seed=1, structure_scale=a.structure_scale),
    )
    test_dm = MedSegDataModule(
        str(test_root), patch_size=a.patch, val_fraction=0.0, cache_dir=str(work / "c")
    )
    test_dm.prepare_data()
    test_dm.setup("test")
    assert test_dm.data is not None
    test_cases = [
        (np.asarray(c.image), np.asarray(c.label))
        for c in map(test_dm.data.case, test_dm.data.case_ids)
    ]
    conditions = rotations(a.quick)
    results: dict[str, dict] = {}
    eq_params = None
    for model in a.models.split(","):
        if model == "monai":
            try:
                import monai  # noqa: F401
            except ImportError:
                print("monai is not installed (pip install --no-deps monai): skipping it")
                continue
        pl.seed_everything(0, verbose=False)
        symmetry = {"monai": "none"}.get(model, model)
        patch = a.patch - 1 if model == "monai" else a.patch  # MONAI needs even sizes
        dm = MedSegDataModule(
            str(train_root),
            patch_size=patch,
            batch_size=4,
            samples_per_epoch=4 * a.steps,
            val_fraction=0.0,
            foreground_fraction=a.foreground,
            cache_dir=str(work / "c"),
            augment=False,  # the benchmark's recipe predates nnU-Net's augmentation
        )
        task = MedSegTask(
            1,
            4,
            dm.label_names,
            channels=[24 * w for w in widths],  # widths regular fields of the cube group
            group="octahedral",
            deep_supervision=False,
            convs_per_level=1,
            patch_size=a.patch,
            symmetry=symmetry,
            lr=a.lr,
        )
        if model == "monai":
            task.net = monai_unet(4, eq_params or count_parameters(task.net))
        if model == "equivariant":
            eq_params = count_parameters(task.net)
        trainer = pl.Trainer(
            max_steps=a.steps,
            accelerator="cpu",
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            limit_val_batches=0,
            num_sanity_val_steps=0,
        )
        t0 = time.time()
        trainer.fit(task, dm)
        train_s = time.time() - t0
        net = task.net.export() if hasattr(task.net, "export") else task.net
        scores = evaluate(net, test_cases, 4, patch, conditions)
        results[model] = {
            "params": count_parameters(task.net),
            "train_s": round(train_s, 1),
            **scores,
        }
        print(model, results[model], flush=True)
    write_results(Path(a.out), results, vars(a))


def write_results(out: Path, results: dict, config: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "medseg_rotation.json").write_text(
        json.dumps({"config": config, "results": results}, indent=2)
    )
    lines = [
        "| model | parameters | train time (s) | Dice unrotated | Dice 90° rotations "
        "| Dice arbitrary rotations | drop 90° | drop arbitrary |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['params']:,} | {r['train_s']} | {r['unrotated']:.3f} | "
            f"{r['rot90']:.3f} | {r['arbitrary']:.3f} | {r['unrotated'] - r['rot90']:+.3f} | "
            f"{r['unrotated'] - r['arbitrary']:+.3f} |"
        )
    (out / "medseg_rotation.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        names = list(results)
        conds = ["unrotated", "rot90", "arbitrary"]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for i, c in enumerate(conds):
            ax.bar(np.arange(len(names)) + i * 0.27, [results[n][c] for n in names], 0.27, label=c)
        ax.set_xticks(np.arange(len(names)) + 0.27, names)
        ax.set_ylabel("mean foreground Dice")
        ax.set_ylim(0, 1)
        ax.legend()
        ax.set_title("Phantoms trained in canonical pose, tested rotated")
        fig.tight_layout()
        fig.savefig(out / "medseg_rotation.png", dpi=120)
    except Exception as err:  # plotting is optional; the table is the result
        print(f"plot skipped: {err}")


if __name__ == "__main__":
    main()
