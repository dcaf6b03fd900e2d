"""gdl-medseg side by side with nnU-Net v2 and MONAI: same split, same wall budget, CPU.

On MSD Hippocampus (``../shared/data/hippocampus``) with the held-out split of
``medseg_hippocampus.py`` (seed 0: 20% of the cases never seen by any fit):
- **ours**: ``gdl-medseg fit --config configs/medseg/default.yaml --data.path TRAIN``
  with ``--trainer.max_time`` = the budget; ``predict`` the held-out cases;
- **nnU-Net v2** (2.8.1): ``nnUNetv2_plan_and_preprocess -c 3d_fullres`` on the same
  training cases, ``splits_final.json`` = our datamodule's train/validation split (fold
  0), then ``nnUNetv2_train 3d_fullres 0`` on the CPU with a trainer variant
  ``nnUNetTrainer_GDLBudget``: nnU-Net's trainer, but with short epochs (25 iterations)
  whose poly learning rate follows the elapsed share of the budget and a stop when the
  budget ends (nnU-Net's own schedule needs its 1000 epochs); its final validation is
  skipped (the held-out cases are what we score). ``nnUNetv2_predict`` (with its default
  mirroring test-time augmentation) on the held-out cases;
- **MONAI** (1.6.1): ``medseg_vs_nnunet_monai.py`` (DynUNet + DiceCELoss +
  sliding_window_inference) on the same split and budget.
Every row is scored by *our* ``gdl-medseg evaluate``. The fits run in ``--lanes``
parallel lanes (rows dealt to them in turn; one after another inside a lane), each with
``--threads`` torch threads (and nnU-Net's augmentation in the main process): on a 2-core
machine ``--lanes 2 --threads 1`` gives every tool one core, side by side. Rows
``ours:none`` / ``ours:augment`` train the default config in another symmetry mode;
``--ours-args`` adds fit flags to every row of ours (``--model.unet classic``: the
U-Net layout before December 2026).

The competitors live in their own venv (``--venv``, default /work/venvs/nnunet), created
if missing: torch pinned to the local 2.13.0 CPU wheel first, then nnunetv2 and monai
(they pull scikit-learn, which must stay out of ours; DESIGN.md 7).

    python benchmarks/medseg_vs_nnunet.py [--budget 44] [--rows ours,nnunet,monai]
        [--lanes 2]

Writes benchmarks/results/medseg_vs_nnunet.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
import medseg_hippocampus as hippo  # noqa: E402

from gdl_science.training import split_indices  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
ROWS = ("ours:equivariant", "ours:augment", "ours:none", "nnunet", "monai")
ROW_ALIASES = {"ours": "ours:equivariant"}
VENV = Path(os.environ.get("GDL_NNUNET_VENV", "/work/venvs/nnunet"))
TORCH = "2.13.0"
PACKAGES = ["nnunetv2==2.8.1", "monai==1.6.1"]
TRAINER = "nnUNetTrainer_GDLBudget"
TRAINER_CODE = '''"""nnU-Net's trainer under a wall-clock budget (written by gdl-science)."""
import os
import time

import torch
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer


class nnUNetTrainer_GDLBudget(nnUNetTrainer):
    def __init__(self, plans: dict, configuration: str, fold: int, dataset_json: dict,
                 device: torch.device = torch.device("cuda")):
        super().__init__(plans, configuration, fold, dataset_json, device)
        self.budget_s = float(os.environ["GDL_NNUNET_BUDGET_S"])
        self.num_iterations_per_epoch = 25
        self.num_val_iterations_per_epoch = 5
        self.num_epochs = 100000

    def on_train_start(self):
        torch.set_num_threads(int(os.environ.get("GDL_THREADS", "1")))
        super().on_train_start()
        self._t0 = time.perf_counter()

    def _fraction(self):
        return min((time.perf_counter() - self._t0) / self.budget_s, 1.0)

    def on_train_epoch_start(self):
        super().on_train_epoch_start()
        for g in self.optimizer.param_groups:  # poly over the budget, not over epochs
            g["lr"] = self.initial_lr * (1 - self._fraction()) ** 0.9

    def run_training(self):
        self.on_train_start()
        steps = 0
        while self._fraction() < 1:
            self.on_epoch_start()
            self.on_train_epoch_start()
            outputs = []
            for _ in range(self.num_iterations_per_epoch):
                outputs.append(self.train_step(next(self.dataloader_train)))
                steps += 1
                if self._fraction() >= 1:
                    break
            self.on_train_epoch_end(outputs)
            with torch.no_grad():
                self.on_validation_epoch_start()
                val = [self.validation_step(next(self.dataloader_val))
                       for _ in range(self.num_val_iterations_per_epoch)]
                self.on_validation_epoch_end(val)
            self.on_epoch_end()
        self.print_to_log_file(f"gdl-budget steps {steps}")
        self.on_train_end()

    def perform_actual_validation(self, *args, **kwargs):
        pass
'''


class VenvError(RuntimeError):
    """The competitors' venv could not be built."""


def ensure_venv(venv: Path = VENV) -> Path:
    """The venv's python, creating the venv if needed (torch pinned first)."""
    python = venv / "bin" / "python"
    ok = (
        python.is_file()
        and subprocess.run(
            [
                str(python),
                "-c",
                "import nnunetv2, monai, torch; assert torch.__version__.startswith('"
                + TORCH
                + "')",
            ],
            capture_output=True,
        ).returncode
        == 0
    )
    if not ok:
        pin = venv.with_name(venv.name + "-constraints.txt")
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [str(python), "-m", "pip", "install", f"torch=={TORCH}"],
            [str(python), "-m", "pip", "install", "-c", str(pin), *PACKAGES],
        ]
        venv.parent.mkdir(parents=True, exist_ok=True)
        pin.write_text(f"torch=={TORCH}\n")  # never let nnunetv2 pull another torch
        for cmd in steps:
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                raise VenvError(f"{' '.join(cmd[:4])}: {res.stderr.strip()[-500:]}")
    site = subprocess.run(
        [str(python), "-c", "import nnunetv2, os; print(os.path.dirname(nnunetv2.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    )
    # Top level of nnUNetTrainer/: nnU-Net's trainer search imports that folder's modules
    # before its subpackages, so it finds ours without importing ``primus`` (timm ->
    # torchvision, whose PyPI wheel does not load against the CPU torch).
    trainers = Path(site.stdout.strip()) / "training" / "nnUNetTrainer"
    (trainers / "gdl_budget.py").write_text(TRAINER_CODE)
    return python


def nnunet_row(
    python: Path, train_ds: Path, split: dict, held: Path, work: Path, budget_s: float, threads: int
) -> dict:
    bin_ = python.parent
    raw, pre, res = work / "nnUNet_raw", work / "nnUNet_preprocessed", work / "nnUNet_results"
    ds = raw / "Dataset004_Hippocampus"
    if ds.exists():
        shutil.rmtree(ds)
    shutil.copytree(train_ds, ds, symlinks=True)
    meta = json.loads((train_ds / "dataset.json").read_text())
    meta["numTraining"] = len(list((ds / "labelsTr").glob("*.nii.gz")))
    (ds / "dataset.json").write_text(json.dumps(meta, indent=1))
    env = {
        **os.environ,
        "nnUNet_raw": str(raw),
        "nnUNet_preprocessed": str(pre),
        "nnUNet_results": str(res),
        "nnUNet_n_proc_DA": "0",
        "nnUNet_compile": "f",
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "GDL_THREADS": str(threads),
        "GDL_NNUNET_BUDGET_S": str(budget_s),
    }

    def run(*cmd: str) -> float:
        t0 = time.perf_counter()
        # Augmentation in the main process for training (as our num_workers 0); the
        # planner needs >= 1 there (it sets torch's threads from it).
        procs = "0" if cmd[0] == "nnUNetv2_train" else "1"
        r = subprocess.run(
            [str(bin_ / cmd[0]), *cmd[1:]],
            env={**env, "nnUNet_n_proc_DA": procs},
            capture_output=True,
            text=True,
        )
        (work / f"{cmd[0]}.log").write_text(r.stdout + r.stderr)
        if r.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed: {r.stderr[-2000:]}")
        return time.perf_counter() - t0

    prep = run("nnUNetv2_plan_and_preprocess", "-d", "4", "-c", "3d_fullres", "-np", "1")
    splits = [{"train": split["train"], "val": split["val"]}]
    (pre / ds.name / "splits_final.json").write_text(json.dumps(splits, indent=1))
    fit = run("nnUNetv2_train", "4", "3d_fullres", "0", "-tr", TRAINER, "-device", "cpu")
    out = work / "pred_nnunet"
    wall = run(
        "nnUNetv2_predict",
        "-i",
        str(held),
        "-o",
        str(out),
        "-d",
        "4",
        "-c",
        "3d_fullres",
        "-f",
        "0",
        "-tr",
        TRAINER,
        "-device",
        "cpu",
        "-npp",
        "1",
        "-nps",
        "1",
    )
    log = (work / "nnUNetv2_train.log").read_text()
    steps = int(log.rsplit("gdl-budget steps ", 1)[1].split()[0])
    plans = json.loads((pre / ds.name / "nnUNetPlans.json").read_text())
    conf = plans["configurations"]["3d_fullres"]
    return {
        "row": "nnU-Net v2 3d_fullres",
        "pred": out,
        "fit_wall_s": round(fit, 1),
        "preprocess_s": round(prep, 1),
        "steps": steps,
        "predict_s_per_case": round(wall / max(len(list(held.glob("*.nii.gz"))), 1), 3),
        "network": f"nnU-Net plan: patch {conf['patch_size']}, batch {conf['batch_size']}",
    }


def monai_row(
    python: Path, train_ds: Path, split: dict, held: Path, work: Path, budget_s: float, threads: int
) -> dict:
    out = work / "pred_monai"
    cmd = [
        str(python),
        str(REPO / "benchmarks" / "medseg_vs_nnunet_monai.py"),
        "--data",
        str(train_ds),
        "--train",
        ",".join(split["train"]),
        "--val",
        ",".join(split["val"]),
        "--heldout",
        str(held),
        "--output",
        str(out),
        "--budget-s",
        str(budget_s),
        "--threads",
        str(threads),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    (work / "monai.log").write_text(r.stdout + r.stderr)
    if r.returncode != 0:
        raise RuntimeError(f"MONAI row failed: {r.stderr[-2000:]}")
    return {"row": "MONAI DynUNet", "pred": out, **json.loads(r.stdout.strip().splitlines()[-1])}


def ours_row(
    train_ds: Path,
    held: Path,
    work: Path,
    budget_s: float,
    env: dict,
    mode: str = "equivariant",
    extra: tuple[str, ...] = (),
) -> dict:
    """The default config, or the same config in another symmetry mode (``ours:none``);
    ``extra``: further fit flags (``--ours-args``, e.g. ``--model.unet classic``)."""
    root = work / f"fit_ours_{mode}"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    r = hippo.fit(train_ds, mode, budget_s / 60, root, 1.0, 0, env, extra=extra)
    out = root / "pred"
    t0 = time.perf_counter()
    hippo.run_predict(r["checkpoint"], held, out, env)
    wall = time.perf_counter() - t0
    flags = ([] if mode == "equivariant" else [f"--model.symmetry {mode}"]) + (
        [" ".join(extra)] if extra else []
    )
    name = "gdl-medseg (default config" + "".join(f", {f}" for f in flags) + ")"
    return {
        "row": name,
        "pred": out,
        "fit_wall_s": r["fit_wall_s"],
        "steps": r["steps"],
        "val_dice_mean": r["val_dice_mean"],
        "network": r["network"],
        "predict_s_per_case": round(wall / max(len(list(held.glob("*.nii.gz"))), 1), 3),
    }


def score(pred: Path, labels: Path, dataset_json: Path, env: dict) -> dict:
    metrics = pred.with_name(pred.name + ".csv")
    r = subprocess.run(
        [
            hippo.CLI,
            "evaluate",
            "--pred",
            str(pred),
            "--ref",
            str(labels),
            "--output",
            str(metrics),
            "--dataset-json",
            str(dataset_json),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
    )
    if r.returncode != 0:
        raise RuntimeError(f"evaluate failed: {r.stderr[-2000:]}")
    return hippo.scores(metrics)


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell ("|G|=2" would split it)."""
    return text.replace("|", "\\|")


def lanes_text(lanes: int) -> str:
    return "one after another" if lanes == 1 else f"in {lanes} lanes side by side"


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        f"MSD Hippocampus, {meta['heldout']} held-out cases (seed {meta['seed']}, never seen "
        f"by any fit); every fit on the same {meta['train']} train / {meta['val']} validation "
        f"cases, **{meta['budget_min']} min of training each**, "
        f"{lanes_text(meta.get('lanes', 1))}, {meta['threads']} torch thread(s) each on a "
        "shared 2-core CPU (load average when each row ended in its last column). Scored by "
        "`gdl-medseg evaluate` (HD95: larger one-way 95th "
        "percentile; empty masks named).",
        "",
        "| tool | Dice anterior | Dice posterior | mean Dice | HD95 ant/post (mm) | steps "
        "| fit wall (s) | predict s/case | network | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        h = r["heldout"]
        lines.append(
            f"| {r['row']} | {h['dice_1']:.4f} | {h['dice_2']:.4f} | **{h['dice_mean']:.4f}** "
            f"| {h['hd95_1']} / {h['hd95_2']}{hippo.empty_note(h)} | {r.get('steps', '?')} | "
            f"{r['fit_wall_s']} | {r['predict_s_per_case']} | {cell(r['network'])} | "
            f"{r.get('load', '?')} |"
        )
    lines += ["", f"Command: `{meta['command']}`"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=hippo.DATA)
    p.add_argument(
        "--budget",
        type=float,
        default=44.0,
        help="training minutes per tool (44: the default config's max_time)",
    )
    p.add_argument("--rows", default="ours,nnunet,monai")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--lanes", type=int, default=1, help="rows trained side by side")
    p.add_argument("--cases", type=int, default=0, help="use only this many cases (smoke)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", type=Path, default=Path("/tmp/medseg_vs_nnunet"))
    p.add_argument("--venv", type=Path, default=VENV)
    p.add_argument("--name", default="medseg_vs_nnunet")
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument(
        "--ours-args",
        default="",
        help="further fit flags for our rows, e.g. '--model.unet classic' (the layout "
        "before December 2026)",
    )
    a = p.parse_args(argv)
    ours_extra = tuple(shlex.split(a.ours_args))
    names = [ROW_ALIASES.get(n, n) for n in a.rows.split(",")]
    if any(n not in ROWS for n in names) or len(set(names)) < len(names):
        sys.exit(
            f"--rows {a.rows}: each row once, from {', '.join(ROWS)} (ours = "
            "ours:equivariant, the default config)"
        )
    if not (a.data / "dataset.json").is_file():
        sys.exit(f"{a.data}: no dataset.json")
    env = hippo.thread_env(a.threads)
    held, train = hippo.heldout_split(a.data, a.seed, a.cases)
    # Our datamodule's own train/validation split of the training folder (val 0.2, seed 0).
    tr, va, _ = split_indices(len(train), 0.2, 0.0, 0)
    split = {"train": [train[i] for i in tr], "val": [train[i] for i in va]}
    a.work.mkdir(parents=True, exist_ok=True)
    train_ds = hippo.link_dataset(a.data, train, a.work / "train")
    held_ds = hippo.link_dataset(a.data, held, a.work / "heldout")
    images, labels = held_ds / "imagesTr", held_ds / "labelsTr"
    budget_s = a.budget * 60
    python = ensure_venv(a.venv) if any(not n.startswith("ours") for n in names) else None
    command = "python benchmarks/medseg_vs_nnunet.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    done: dict[int, dict] = {}
    lock = threading.Lock()

    def run_row(i: int) -> None:
        name = names[i]
        print(f"--- {name}: {a.budget} min", flush=True)
        if name.startswith("ours"):
            mode = name.split(":", 1)[1]
            r = ours_row(train_ds, images, a.work, budget_s, env, mode, ours_extra)
        else:
            fn = nnunet_row if name == "nnunet" else monai_row
            r = fn(python, train_ds, split, images, a.work, budget_s, a.threads)
        r["heldout"] = score(r.pop("pred"), labels, a.data / "dataset.json", env)
        r["load"] = round(os.getloadavg()[0], 2)
        print(json.dumps(r), flush=True)
        with lock:  # the tables hold the rows done so far, in --rows order
            done[i] = r
            rows = [done[k] for k in sorted(done)]
            meta = {
                "heldout": len(held),
                "train": len(split["train"]),
                "val": len(split["val"]),
                "seed": a.seed,
                "budget_min": a.budget,
                "threads": a.threads,
                "lanes": a.lanes,
                "command": command,
            }
            a.out.mkdir(parents=True, exist_ok=True)
            (a.out / f"{a.name}.json").write_text(
                json.dumps({"meta": meta, "rows": rows}, indent=2)
            )
            (a.out / f"{a.name}.md").write_text(markdown(rows, meta))

    def run_lane(lane: int) -> None:
        for i in range(lane, len(names), a.lanes):
            run_row(i)

    with ThreadPoolExecutor(max_workers=a.lanes) as pool:
        for f in [pool.submit(run_lane, k) for k in range(min(a.lanes, len(names)))]:
            f.result()  # a failed row fails the run, with its error
    print((a.out / f"{a.name}.md").read_text())


if __name__ == "__main__":
    main()
