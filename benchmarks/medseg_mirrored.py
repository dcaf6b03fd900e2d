"""What the mirror prior buys on mirrored scans: held-out Hippocampus cases flipped per axis.

Each checkpoint (``--checkpoint LABEL=PATH``, e.g. the equivariant and ``none`` fits of
``medseg_vs_nnunet.py``) predicts the held-out cases of ``medseg_hippocampus.py``'s split
(seed 0) as they are and flipped along each voxel axis (``--axes``; the image and its
label flipped together, the affine kept, so a left scan becomes a right one). Reported per
checkpoint and axis:
- held-out mean Dice of the flipped cases against their flipped labels (``gdl-medseg
  evaluate``), next to the unflipped figure;
- **consistency**: the Dice, averaged over foreground labels and cases, between the
  prediction of the flipped scan flipped back and the prediction of the scan itself. An
  exactly flip-equivariant pipeline scores 1.0 on its group's axis; 1 - consistency is
  how much of the output depends on which way the scan faces.
Predict runs with its default ``--tta auto`` (what a user gets) unless ``--tta`` is set.

    python benchmarks/medseg_mirrored.py --checkpoint equivariant=PATH --checkpoint none=PATH

Writes benchmarks/results/medseg_mirrored.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import nibabel as nib
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
import medseg_hippocampus as hippo  # noqa: E402
import medseg_vs_nnunet as vs  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"


def write_flipped(src: Path, out: Path, axis: int) -> Path:
    """Every image and label of ``src`` (nnU-Net layout) flipped along voxel ``axis``."""
    for sub in ("imagesTr", "labelsTr"):
        (out / sub).mkdir(parents=True, exist_ok=True)
        for f in sorted((src / sub).glob("*.nii.gz")):
            img = nib.load(str(f))
            data = np.flip(np.asanyarray(img.dataobj), axis).copy()
            nib.save(nib.Nifti1Image(data, img.affine, img.header), str(out / sub / f.name))
    return out


def consistency(pred: Path, flipped_pred: Path, axis: int, labels: list[int]) -> float:
    """Mean over cases and labels of Dice(flip(pred(flip(x))), pred(x)); 1 = exact."""
    values = []
    for f in sorted(pred.glob("*.nii.gz")):
        a = np.asanyarray(nib.load(str(f)).dataobj)
        b = np.flip(np.asanyarray(nib.load(str(flipped_pred / f.name)).dataobj), axis)
        for k in labels:
            inter, total = np.sum((a == k) & (b == k)), np.sum(a == k) + np.sum(b == k)
            values.append(1.0 if total == 0 else 2.0 * inter / total)
    return float(np.mean(values))


def foreground_labels(names: dict) -> list[int]:
    """Foreground label values of a dataset.json (nnU-Net v2 ``name: value`` or MSD
    ``"value": name``)."""
    values = [int(v) if str(v).isdigit() else int(k) for k, v in names.items()]
    return sorted(v for v in values if v)


def add_predict_only_args(p: argparse.ArgumentParser, name: str) -> None:
    """The flags every predict-only Hippocampus benchmark shares (data, split, output)."""
    p.add_argument("--data", type=Path, default=hippo.DATA)
    p.add_argument("--tta", choices=["auto", "all", "off"], default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cases", type=int, default=0, help="use only this many cases (smoke)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--work", type=Path, default=Path(f"/tmp/{name}"))
    p.add_argument("--name", default=name)
    p.add_argument("--out", type=Path, default=RESULTS)


def labelled_checkpoints(specs: list[str], flag: str) -> list[tuple[str, Path]]:
    """``LABEL=PATH`` specs to (label, resolved path); a bad one exits in one line."""
    out = []
    for spec in specs:
        label, sep, path = spec.partition("=")
        if not sep or not label or not Path(path).is_file():
            sys.exit(f"{flag} {spec}: expected LABEL=PATH to an existing checkpoint")
        out.append((label, Path(path).resolve()))
    return out


def write_results(out: Path, name: str, rows: list[dict], meta: dict, table: str) -> None:
    """``out/name.json`` (meta + rows) and ``out/name.md`` (the table), then print it."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    (out / f"{name}.md").write_text(table)
    print(table)


def markdown(rows: list[dict], meta: dict) -> str:
    axes = meta["axes"]
    lines = [
        f"MSD Hippocampus, {meta['heldout']} held-out cases (seed {meta['seed']}, never seen "
        f"by fit), each flipped along one voxel axis (image and label). Predict `--tta "
        f"{meta['tta']}`; mean Dice by `gdl-medseg evaluate`; consistency = Dice between the "
        "flipped-back prediction of the flipped scan and the prediction of the scan (1 = the "
        "output does not depend on which way the scan faces).",
        "",
        "| checkpoint | mean Dice, as is | "
        + " | ".join(f"mean Dice, flipped axis {a}" for a in axes)
        + " | "
        + " | ".join(f"consistency axis {a}" for a in axes)
        + " | load |",
        "|---|---|" + "---|" * (2 * len(axes)) + "---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | **{r['as_is']:.4f}** | "
            + " | ".join(f"{r['flipped'][str(a)]:.4f}" for a in axes)
            + " | "
            + " | ".join(f"{r['consistency'][str(a)]:.4f}" for a in axes)
            + f" | {r['load']} |"
        )
    lines += ["", f"Command: `{meta['command']}`"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", action="append", required=True, help="LABEL=PATH")
    p.add_argument("--axes", type=int, nargs="+", default=[0, 1, 2])
    add_predict_only_args(p, "medseg_mirrored")
    a = p.parse_args(argv)
    if not (a.data / "dataset.json").is_file():
        sys.exit(f"{a.data}: no dataset.json")
    ckpts = [(label, str(path)) for label, path in labelled_checkpoints(a.checkpoint,
                                                                         "--checkpoint")]
    env = hippo.thread_env(a.threads)
    held, _ = hippo.heldout_split(a.data, a.seed, a.cases)
    meta_json = a.data / "dataset.json"
    labels = foreground_labels(json.loads(meta_json.read_text())["labels"])
    sets = {"as_is": hippo.link_dataset(a.data, held, a.work / "as_is")}
    for ax in a.axes:
        sets[str(ax)] = write_flipped(sets["as_is"], a.work / f"flip{ax}", ax)
    rows = []
    for label, ckpt in ckpts:
        row: dict = {"label": label, "checkpoint": ckpt, "flipped": {}, "consistency": {}}
        preds = {}
        for key, ds in sets.items():
            out = a.work / f"pred_{label}_{key}"
            hippo.run_predict(ckpt, ds / "imagesTr", out, env, ("--tta", a.tta))
            dice = vs.score(out, ds / "labelsTr", meta_json, env)["dice_mean"]
            preds[key] = out
            if key == "as_is":
                row["as_is"] = dice
            else:
                row["flipped"][key] = dice
        for ax in a.axes:
            row["consistency"][str(ax)] = round(
                consistency(preds["as_is"], preds[str(ax)], ax, labels), 4
            )
        row["load"] = round(os.getloadavg()[0], 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
    meta = {"heldout": len(held), "seed": a.seed, "axes": a.axes, "tta": a.tta,
            "command": "python benchmarks/medseg_mirrored.py "
            + " ".join(argv if argv is not None else sys.argv[1:])}
    write_results(a.out, a.name, rows, meta, markdown(rows, meta))


if __name__ == "__main__":
    main()
