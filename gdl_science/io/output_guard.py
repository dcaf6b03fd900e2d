"""The output guard: refuse an ``--output`` that would destroy an input or a model.

Every command that writes goes through ``check_output_path`` *before* doing any work,
so a bad ``--output`` costs a second, not an hour of prediction followed by a
traceback. Refused, each with one line naming the path (exit 2):
- a remote URL (``s3://...``; see ``remote``);
- one of the inputs (or the same file under another name);
- a checkpoint given as ``--checkpoint``, an ``ensemble.json`` manifest, a manifest's
  member checkpoints (best and last), or the manifest's folder itself;
- any existing ``.ckpt`` file or ``ensemble.json``, given as input or not;
- a folder where a file is written (``expect="file"``), or a file where a folder is
  (``expect="folder"``);
- a place that cannot be written (permission, or a parent that is a file).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from gdl_science.io.ensemble_manifest import MANIFEST_NAME, manifest_of, read_manifest
from gdl_science.io.remote import refuse_remote
from gdl_science.io.user_error import UserInputError

Expect = Literal["any", "file", "folder"]


def _same(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    return a.exists() and b.exists() and os.path.samefile(a, b)


def protected_paths(checkpoints: Iterable[str | Path]) -> list[tuple[Path, str]]:
    """``(path, what)`` for every file and folder a ``--checkpoint`` list stands for."""
    protected: list[tuple[Path, str]] = []
    for given in checkpoints:
        refuse_remote(given, "--checkpoint")
        manifest = manifest_of(given)
        if manifest is None or not manifest.is_file():
            protected.append((Path(given), "the checkpoint"))
            continue
        protected += [(manifest, "the ensemble manifest"), (manifest.parent, "the ensemble folder")]
        try:
            _, members = read_manifest(manifest)
        except UserInputError:
            continue  # predict itself reports the broken manifest, with its reason
        for m in members:
            for rel in (m.best, m.last):
                if isinstance(rel, str) and rel:
                    protected.append((manifest.parent / rel, "an ensemble member checkpoint"))
    return protected


def check_output_path(
    output: str | Path,
    inputs: Sequence[str | Path] = (),
    checkpoints: Sequence[str | Path] = (),
    expect: Expect = "any",
) -> Path:
    """Refuse an output that is unsafe or unwritable (see the module docstring).

    ``inputs``: files or folders the command reads; ``checkpoints``: its ``--checkpoint``
    values (files, manifests or manifest folders). Returns the output as a Path.
    """
    refuse_remote(output, "--output")
    out = Path(output)
    for inp in inputs:
        if _same(out, Path(inp)):
            raise UserInputError(f"{out}: output would overwrite the input; choose another path")
    for path, what in protected_paths(checkpoints):
        if _same(out, path):
            raise UserInputError(
                f"{out}: output would overwrite {what} {path}; choose another path"
            )
    if out.is_file() and (out.suffix == ".ckpt" or out.name == MANIFEST_NAME):
        raise UserInputError(f"{out}: is a model file; choose another output path")
    if out.is_dir() and (out / MANIFEST_NAME).is_file():
        raise UserInputError(f"{out}: is an ensemble folder; choose another output path")
    if expect == "file" and out.is_dir():
        raise UserInputError(f"{out}: is a folder; --output names the file to write")
    if expect == "folder" and out.exists() and not out.is_dir():
        raise UserInputError(f"{out}: exists and is not a folder; --output names a folder here")
    parent = out if out.is_dir() else out.parent
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if probe.is_file():
        raise UserInputError(f"{out}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK):
        raise UserInputError(f"{out}: cannot write to {probe} (permission denied)")
    return out
