"""``fit --ensemble_size N``: N members from seeds s, s+1, ..., s+N-1, one manifest.

nnU-Net predicts with an ensemble of its five fold models by default; seed ensembles
are the cheap equivalent when the data set is small enough that members train in
minutes (on GUE prom300 TATA the 3-seed ensemble's dev MCC is 0.794 against
0.747 +- 0.043 for one member). Each member is a complete ordinary fit in
``<root>/member_<i>`` (own best.ckpt, last.ckpt, metrics.png, auto-resume), and
``<root>/ensemble.json`` lists the trained members; ``predict --checkpoint
<root>/ensemble.json`` averages them and adds ``_std`` columns.

Rerunning the same command skips the members that finished with the same settings and
resumes the one that was interrupted, so a killed ensemble fit loses at most one
member's unfinished epochs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Protocol

from lightning.pytorch import Trainer, seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint

from gdl_science.cli.ensemble_validation import validate_ensemble
from gdl_science.io.ensemble_manifest import (
    MANIFEST_NAME,
    EnsembleMember,
    read_manifest,
    write_manifest,
)


class EnsembleCLI(Protocol):
    """What the ensemble loop needs of the LightningCLI it runs in."""

    config: Any
    trainer: Trainer
    model: Any
    datamodule: Any

    def instantiate_classes(self) -> None: ...
    def current_settings(self) -> str: ...
    def run_single_fit(self) -> None: ...


def selection_checkpoint(trainer: Trainer) -> ModelCheckpoint:
    """The monitored ``best.ckpt`` callback (not ``LastCheckpoint``, which monitors nothing)."""
    return next(
        cb for cb in trainer.checkpoint_callbacks
        if isinstance(cb, ModelCheckpoint) and cb.monitor is not None
    )


def _relative(path: str | Path, root: Path) -> str:
    return os.path.relpath(Path(path).resolve(), root.resolve())


def previous_members(manifest: Path) -> list[EnsembleMember]:
    """Members a previous run of this ensemble finished (none if there is no manifest)."""
    if not manifest.is_file():
        return []
    _, members = read_manifest(manifest)
    return [m for m in members if (manifest.parent / m.best).is_file()]


def run_ensemble_fit(cli: EnsembleCLI, size: int) -> list[EnsembleMember]:
    """Fit ``size`` members one after another; returns them (also in ``ensemble.json``)."""
    config = cli.config["fit"]
    root = Path(cli.trainer.default_root_dir)
    manifest = root / MANIFEST_NAME
    base_seed = config.get("seed_everything")
    seeded = isinstance(base_seed, int) and not isinstance(base_seed, bool)
    done = previous_members(manifest)
    members: list[EnsembleMember] = []
    for i in range(size):
        seed = base_seed + i if seeded else None
        member_root = root / f"member_{i}"
        config["trainer"]["default_root_dir"] = str(member_root)
        if seed is not None:
            config["seed_everything"] = seed
            seed_everything(seed, workers=True)
        cli.instantiate_classes()  # model weights drawn from this member's seed
        settings = cli.current_settings()
        earlier = done[i] if i < len(done) else None
        if earlier is not None and earlier.seed == seed and earlier.settings == settings:
            print(f"ensemble member {i + 1}/{size}: already trained ({earlier.best})",
                  file=sys.stderr)
            members.append(earlier)
            continue
        print(f"ensemble member {i + 1}/{size} (seed {seed}): {member_root}", file=sys.stderr)
        cli.run_single_fit()
        trainer = cli.trainer
        best = selection_checkpoint(trainer)
        best_path = best.best_model_path or str(Path(best.dirpath or member_root) / "best.ckpt")
        last_path = str(Path(best_path).with_name("last.ckpt"))
        score = best.best_model_score
        members.append(
            EnsembleMember(
                seed=seed,
                best=_relative(best_path, root),
                last=_relative(last_path, root),
                monitor=str(best.monitor),
                score=None if score is None else float(score),
                settings=settings,
            )
        )
        if trainer.is_global_zero:
            write_manifest(manifest, size, members)
    if cli.trainer.is_global_zero:
        validation = ensemble_validation(cli, root, members)
        write_manifest(manifest, size, members, validation)
        report(manifest, members, validation)
    return members


def ensemble_validation(
    cli: EnsembleCLI, root: Path, members: list[EnsembleMember]
) -> dict[str, float]:
    """The ensemble's validation metrics; skipped (with a line) under multi-process runs,
    where a second, single-device loop over the validation set would need all ranks."""
    if cli.trainer.world_size > 1:
        print("ensemble validation: skipped under multi-process training "
              "(score the members with predict)", file=sys.stderr)
        return {}
    checkpoints = [str(root / m.best) for m in members]
    return validate_ensemble(
        type(cli.model), checkpoints, cli.datamodule, cli.trainer.accelerator
    )


def report(manifest: Path, members: list[EnsembleMember], validation: dict[str, float]) -> None:
    scores = [m.score for m in members if m.score is not None]
    shown = ""
    if scores:
        each = " ".join(f"{s:.4g}" for s in scores)
        shown = f" ({members[0].monitor} per member: {each}; mean {sum(scores) / len(scores):.4g})"
    print(f"ensemble of {len(members)} members{shown}", file=sys.stderr)
    if validation:
        metrics = " ".join(f"{k}={v:.4g}" for k, v in sorted(validation.items()))
        print(f"ensemble validation (members averaged as predict does): {metrics}", file=sys.stderr)
    print(f"ensemble checkpoint: {manifest} (predict --checkpoint {manifest})", file=sys.stderr)
