"""An ensemble of checkpoints named by one file, ``ensemble.json``.

``fit --ensemble_size N`` trains N members (seeds s, s+1, ...) and writes this manifest
beside them; every ``predict --checkpoint`` (and ``variant-effect``) accepts it where it
accepts a checkpoint, or the folder that holds it. Member paths are stored relative to
the manifest, so the whole folder can be moved or copied to another machine.

A manifest is written atomically after each member finishes. One whose ``size`` is
larger than its member list belongs to a fit that was stopped: it is refused by predict
with a line that says how many members are trained.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from gdl_science.io.atomic import atomic_write
from gdl_science.io.user_error import UserInputError

MANIFEST_NAME = "ensemble.json"
FORMAT = "gdl-science ensemble"


@dataclass(frozen=True)
class EnsembleMember:
    """One trained member: its seed, checkpoints (relative to the manifest) and score."""

    seed: int | None
    best: str
    last: str
    monitor: str
    score: float | None
    settings: str  # canonical model + data settings: a rerun skips only identical members


def write_manifest(
    path: str | Path,
    size: int,
    members: Sequence[EnsembleMember],
    validation: dict[str, float] | None = None,
) -> None:
    """``validation``: the whole ensemble's validation metrics, once every member is done."""
    body: dict = {"format": FORMAT, "size": size, "members": [asdict(m) for m in members]}
    if validation:
        body["ensemble_validation"] = validation
    with atomic_write(path) as fh:
        json.dump(body, fh, indent=2)
        fh.write("\n")


def read_manifest(path: str | Path) -> tuple[int, list[EnsembleMember]]:
    """``(size, members)``; a file that is not a manifest is a one-line user error."""
    path = Path(path)
    try:
        body = json.loads(path.read_text())
        if body.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT!r}")
        members = [EnsembleMember(**m) for m in body["members"]]
        if any(not isinstance(m.best, str) or not m.best for m in members):
            raise ValueError("a member's 'best' is not a path")
        return int(body["size"]), members
    except FileNotFoundError as err:
        raise UserInputError(f"{path}: ensemble manifest not found") from err
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise UserInputError(f"{path}: not a gdl-science ensemble manifest ({err})") from err


def manifest_of(path: str | Path) -> Path | None:
    """The manifest ``path`` names (the file, or a folder holding ``ensemble.json``)."""
    path = Path(path)
    if path.is_dir() and (path / MANIFEST_NAME).is_file():
        return path / MANIFEST_NAME
    if path.suffix == ".json":
        return path
    return None


def member_checkpoints(manifest: str | Path) -> list[str]:
    """The members' best checkpoints, as paths usable from the current directory."""
    manifest = Path(manifest)
    size, members = read_manifest(manifest)
    if len(members) < size:
        raise UserInputError(
            f"{manifest}: only {len(members)} of {size} ensemble members are trained; rerun "
            "the same fit command to finish them, or pass member best.ckpt files one by one"
        )
    folder = manifest.parent.resolve()
    paths = [manifest.parent / m.best for m in members]
    for p in paths:
        # Members live in the manifest's folder (fit writes them there): a path that
        # leaves it (``../``, absolute, a symlink out) is refused, so a manifest from
        # elsewhere cannot point predict at arbitrary files.
        if not p.resolve().is_relative_to(folder):
            raise UserInputError(
                f"{manifest}: member checkpoint {p} is outside the manifest's folder {folder}; "
                "refused"
            )
        if not p.is_file():
            raise UserInputError(f"{manifest}: member checkpoint {p} is missing")
    return [str(p) for p in paths]


def expand_checkpoints(paths: Sequence[str | Path]) -> list[str]:
    """Replace each manifest (or folder with one) by its members; checkpoints stay as given."""
    expanded: list[str] = []
    for p in paths:
        manifest = manifest_of(p)
        expanded += member_checkpoints(manifest) if manifest is not None else [str(p)]
    return expanded
