"""What averaging trained fits buys on Hippocampus: members and their ensembles, val and held-out.

Each ``--member LABEL=PATH`` is a trained checkpoint (e.g. the 44-minute fits of
``medseg_vs_nnunet.py``); each ``--ensemble NAME=LABEL,LABEL[,...]`` is an
``ensemble.json`` of some of them (hard links beside the manifest, which predict
requires), the same manifest ``fit --ensemble_size N`` writes. Every member and ensemble
predicts (default ``--tta auto``) and is scored by ``gdl-medseg evaluate`` on
- **val**: the validation split the fits selected their checkpoints on (the data
  module's seed-0 20% of the training folder), the split to decide on;
- **held-out**: ``medseg_hippocampus.py``'s seed-0 held-out cases, never seen by a fit.

An ensemble of N fits costs N fits' budget; the table says whether that buys Dice.

    python benchmarks/medseg_ensemble.py --member a=A.ckpt --member b=B.ckpt \
        --ensemble ab=a,b

Writes benchmarks/results/medseg_ensemble.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
import medseg_hippocampus as hippo  # noqa: E402
import medseg_mirrored as mirrored  # noqa: E402
import medseg_vs_nnunet as vs  # noqa: E402

from gdl_science.io.ensemble_manifest import EnsembleMember, write_manifest  # noqa: E402
from gdl_science.training import split_indices  # noqa: E402


def validation_cases(train_cases: list[str], seed: int = 0, fraction: float = 0.2) -> list[str]:
    """The data module's validation cases of a training folder (its ids sorted, as
    ``training_cases`` lists them, split by ``split_indices``)."""
    ids = sorted(train_cases)
    _, val, _ = split_indices(len(ids), fraction, 0.0, seed)
    return [ids[i] for i in val]


def write_ensemble(root: Path, members: list[tuple[str, Path]]) -> Path:
    """``root/ensemble.json`` over hard links to the members' checkpoints."""
    root.mkdir(parents=True, exist_ok=True)
    entries = []
    for label, ckpt in members:
        link = root / f"{label}.ckpt"
        if link.exists():
            link.unlink()
        os.link(ckpt, link)
        entries.append(EnsembleMember(None, link.name, link.name, "val/dice_mean", None, label))
    write_manifest(root / "ensemble.json", len(entries), entries)
    return root / "ensemble.json"


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        f"MSD Hippocampus: {meta['val']} validation cases (what the fits selected on) and "
        f"{meta['heldout']} held-out cases (seed {meta['seed']}, never seen by a fit); "
        f"predict `--tta {meta['tta']}`, scored by `gdl-medseg evaluate`.",
        "",
        "| model | members | val mean Dice | val ant / post | held-out mean Dice | "
        "held-out ant / post | load |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        v, h = r["val"], r["heldout"]
        lines.append(
            f"| {r['label']} | {'+'.join(r['members'])} | **{v['dice_mean']:.4f}** | "
            f"{v['per_label'][0]:.4f} / {v['per_label'][1]:.4f} | {h['dice_mean']:.4f} | "
            f"{h['per_label'][0]:.4f} / {h['per_label'][1]:.4f} | {r['load']} |"
        )
    lines += ["", f"Command: `{meta['command']}`"]
    return "\n".join(lines) + "\n"


def scored(ckpt: str, ds: Path, out: Path, tta: str, env: dict) -> dict:
    hippo.run_predict(ckpt, ds / "imagesTr", out, env, ("--tta", tta))
    s = vs.score(out, ds / "labelsTr", ds / "dataset.json", env)
    summary = json.loads(out.with_name(out.name + ".csv.summary.json").read_text())["labels"]
    per_label = [summary[k]["dice_mean"] for k in sorted(summary, key=int)]
    return {"dice_mean": round(s["dice_mean"], 4), "per_label": [round(x, 4) for x in per_label]}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--member", action="append", required=True, help="LABEL=CHECKPOINT")
    p.add_argument("--ensemble", action="append", default=[], help="NAME=LABEL,LABEL,...")
    mirrored.add_predict_only_args(p, "medseg_ensemble")
    a = p.parse_args(argv)
    if not (a.data / "dataset.json").is_file():
        sys.exit(f"{a.data}: no dataset.json")
    members = dict(mirrored.labelled_checkpoints(a.member, "--member"))
    models: list[tuple[str, list[str], str]] = [(k, [k], str(v)) for k, v in members.items()]
    for spec in a.ensemble:
        name, sep, labels = spec.partition("=")
        chosen = [x for x in labels.split(",") if x]
        if not sep or len(chosen) < 2 or any(x not in members for x in chosen):
            sys.exit(f"--ensemble {spec}: expected NAME=LABEL,LABEL,... of --member labels")
        manifest = write_ensemble(a.work / f"ensemble_{name}", [(x, members[x]) for x in chosen])
        models.append((name, chosen, str(manifest)))
    env = hippo.thread_env(a.threads)
    held, train = hippo.heldout_split(a.data, a.seed, a.cases)
    sets = {
        "val": hippo.link_dataset(a.data, validation_cases(train), a.work / "val"),
        "heldout": hippo.link_dataset(a.data, held, a.work / "heldout"),
    }
    rows = []
    for label, chosen, ckpt in models:
        row: dict = {"label": label, "members": chosen, "checkpoint": ckpt}
        for key, ds in sets.items():
            row[key] = scored(ckpt, ds, a.work / f"pred_{label}_{key}", a.tta, env)
        row["load"] = round(os.getloadavg()[0], 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
    meta = {"val": len(validation_cases(train)), "heldout": len(held), "seed": a.seed,
            "tta": a.tta, "command": "python benchmarks/medseg_ensemble.py "
            + " ".join(argv if argv is not None else sys.argv[1:])}
    mirrored.write_results(a.out, a.name, rows, meta, markdown(rows, meta))


if __name__ == "__main__":
    main()
