"""MSD Hippocampus A/B at a reduced budget: old vs new augmentation, mirroring TTA on/off.

- **Arms** (``--arms mode:style ...``, default ``none:patch none:crop``): ``gdl-medseg
  fit --config configs/medseg/default.yaml`` with only ``--data.path``,
  ``--model.symmetry``, ``--data.augment_style`` and ``--trainer.max_time`` (``--budget``
  minutes) set. ``patch`` is the old recipe (the cropped patch rotated/zoomed with zero
  fill, gamma without restoring the statistics), ``crop`` the new one (nnU-Net's: the
  patch read from the case, gamma keeping mean/std, plus the inverted gamma).
- **Test-time mirroring**: each checkpoint predicts the held-out cases once per
  ``--tta`` mode (default ``off`` and ``auto``): TTA changes predict only, so it is
  measured on the same checkpoint. ``--checkpoint LABEL=PATH`` adds predict-only rows
  for an existing checkpoint (e.g. the mirror-equivariant net, ``auto`` vs ``all``).
- The split is ``medseg_hippocampus.py``'s / ``medseg_vs_nnunet.py``'s (seed 0: 20% of the
  cases held out, never seen by fit; fit's own 80/20 train/validation split of the rest).
  Scores by ``gdl-medseg evaluate``; predict s/case is the command's own per-case time
  (load, preprocess, network, write; start-up excluded). Fits run one after another with
  ``--threads`` torch threads; the load average is recorded per row.

    python benchmarks/medseg_augment_ab.py [--budget 10] [--arms none:patch none:crop] \
        [--tta off auto] [--checkpoint equivariant=PATH]

Writes benchmarks/results/medseg_augment_ab.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
import medseg_hippocampus as hippo  # noqa: E402
import medseg_vs_nnunet as vs  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
PER_CASE = re.compile(r"gdl-medseg predict: (\d+) case\(s\), ([0-9.]+) s per case; "
                      r"test-time mirroring (.+)")


def predict(ckpt: str, images: Path, out: Path, tta: str, env: dict) -> dict:
    """One predict command over the held-out images; its own per-case time and passes."""
    if out.exists():
        shutil.rmtree(out)
    res = subprocess.run(
        [hippo.CLI, "predict", "--checkpoint", ckpt, "--input", str(images), "--output",
         str(out), "--tta", tta], cwd=REPO, capture_output=True, text=True, env=env,
    )
    if res.returncode != 0:
        raise RuntimeError(f"predict failed: {res.stderr[-2000:]}")
    m = PER_CASE.search(res.stderr)
    if not m:
        raise RuntimeError(f"predict printed no per-case time: {res.stderr[-1000:]}")
    return {"predict_s_per_case": float(m.group(2)), "tta_passes": m.group(3)}


def rows_for(label: str, ckpt: str, fit: dict, ttas: list[str], held: Path, work: Path,
             env: dict) -> list[dict]:
    rows = []
    for tta in ttas:
        out = work / f"pred_{label}_{tta}"
        row = {"arm": label, "tta": tta, **fit,
               **predict(ckpt, held / "imagesTr", out, tta, env)}
        row["heldout"] = vs.score(out, held / "labelsTr", held / "dataset.json", env)
        row["load"] = round(os.getloadavg()[0], 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        f"MSD Hippocampus, {meta['heldout']} held-out cases (seed {meta['seed']}, never seen "
        f"by fit); each fit on the same {meta['train_folder']} training-folder cases (fit's own "
        f"80/20 train/validation split), "
        + (f"**{meta['budget_min']} min of training each**, one after another, "
           if any(r.get("steps") for r in rows) else "")
        + f"{meta['threads']} torch thread(s) on a shared 2-core CPU. "
        "Speed figures are comparable only within this table (load average per row). "
        "Dice / HD95 by `gdl-medseg evaluate` (HD95: larger one-way 95th percentile). Rows "
        "without steps are predict-only, on the checkpoint named in the command.",
        "",
        "| arm | augmentation | predict --tta | steps | val Dice (fit) | Dice anterior "
        "| Dice posterior | held-out mean | HD95 ant/post (mm) | predict s/case | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        h = r["heldout"]
        val = r.get("val_dice_mean")
        lines.append(
            f"| {r['arm']} | {r.get('augment_style', '—')} | {vs.cell(r['tta_passes'])} "
            f"| {r.get('steps', '—')} | "
            f"{f'{val:.4f}' if val is not None else '—'} | {h['dice_1']:.4f} | "
            f"{h['dice_2']:.4f} | **{h['dice_mean']:.4f}** | {h['hd95_1']} / {h['hd95_2']}"
            f"{hippo.empty_note(h)} | {r['predict_s_per_case']} | {r['load']} |"
        )
    lines += ["", f"Command: `{meta['command']}`"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=hippo.DATA)
    p.add_argument("--budget", type=float, default=10.0, help="fit minutes per arm")
    p.add_argument("--arms", nargs="*", default=["none:patch", "none:crop"],
                   help="mode:augment_style per fit, in the order they run")
    p.add_argument("--tta", nargs="+", default=["off", "auto"], help="predict --tta modes")
    p.add_argument("--checkpoint", nargs="*", default=[], metavar="LABEL=PATH",
                   help="predict-only rows for existing checkpoints (same held-out cases)")
    p.add_argument("--checkpoint-tta", nargs="+", default=["auto", "all"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cases", type=int, default=0, help="use only this many cases (smoke)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", type=Path, default=Path("/tmp/medseg_augment_ab"))
    p.add_argument("--name", default="medseg_augment_ab")
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--append", action="store_true", help="keep the rows of other arms")
    a = p.parse_args(argv)
    if not (a.data / "dataset.json").is_file():
        sys.exit(f"{a.data}: no Hippocampus dataset (see ../shared/data/README.md)")
    env = hippo.thread_env(a.threads)
    held, train = hippo.heldout_split(a.data, a.seed, a.cases)
    a.work.mkdir(parents=True, exist_ok=True)
    train_ds = hippo.link_dataset(a.data, train, a.work / "train")
    held_ds = hippo.link_dataset(a.data, held, a.work / "heldout")
    command = shlex.join(
        ["python", "benchmarks/medseg_augment_ab.py", *(argv if argv is not None else sys.argv[1:])]
    )
    meta = {"heldout": len(held), "train_folder": len(train), "seed": a.seed,
            "budget_min": a.budget, "threads": a.threads, "command": command}
    out_json = a.out / f"{a.name}.json"
    rows: list[dict] = []
    labels = [spec.replace(":", "/") for spec in a.arms]
    labels += [spec.split("=", 1)[0] for spec in a.checkpoint]
    if a.append and out_json.is_file():
        saved = json.loads(out_json.read_text())
        rows = [r for r in saved["rows"] if r["arm"] not in labels]
        meta["command"] = saved["meta"]["command"] + "; " + command

    def write() -> None:
        a.out.mkdir(parents=True, exist_ok=True)
        out_json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
        (a.out / f"{a.name}.md").write_text(markdown(rows, meta))

    for spec in a.checkpoint:
        label, path = spec.split("=", 1)
        rows += rows_for(label, path, {}, a.checkpoint_tta, held_ds, a.work, env)
        write()
    for spec in a.arms:
        mode, style = spec.split(":")
        label = f"{mode}/{style}"
        root = a.work / f"fit_{mode}_{style}"
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        print(f"--- {label}: fit ({a.budget} min)", flush=True)
        fit = hippo.fit(train_ds, mode, a.budget, root, 1.0, 0, env,
                        extra=("--data.augment_style", style))
        ckpt = fit.pop("checkpoint")
        fit = {"mode": mode, "augment_style": style, "budget_min": a.budget,
               "steps": fit["steps"], "val_dice_mean": fit["val_dice_mean"],
               "fit_wall_s": fit["fit_wall_s"], "network": fit["network"], "lcc": fit["lcc"]}
        rows += rows_for(label, ckpt, fit, a.tta, held_ds, a.work, env)
        write()
    print(markdown(rows, meta))


if __name__ == "__main__":
    main()
