"""Safe checkpoint loading: tensors and primitives only, never arbitrary pickles.

Our tasks keep their hyperparameters primitive (DESIGN.md section 5), so a Lightning
checkpoint loads with ``torch.load(weights_only=True)``: a checkpoint from an untrusted
source cannot run code. escnn modules expose extra buffers in eval mode, so a state
dict saved in one mode is loaded in the mode whose keys it matches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import torch

from gdl_science.io.ensemble_manifest import manifest_of, member_checkpoints
from gdl_science.io.errors import UserInputError
from gdl_science.io.remote import refuse_remote

TaskT = TypeVar("TaskT", bound=torch.nn.Module)


def _refusal(err: BaseException) -> str:
    """torch's reason in one line, without its advice to load with ``weights_only=False``
    (that would run whatever code the file carries: the refusal is the safety)."""
    text = str(err)
    if "Unsupported global" in text or "WeightsUnpickler" in text:
        detail = text.split("WeightsUnpickler error:", 1)[-1].strip().splitlines()[0]
        detail = detail.split(" was not an allowed global", 1)[0]
        detail = detail.replace("Unsupported global: ", "")
        return f"refused: it holds Python objects, not only tensors and plain values ({detail})"
    if isinstance(err, (KeyError, IndexError, ValueError, EOFError, TypeError)):
        # torch's legacy reader on a text or foreign file: "KeyError: 101" says nothing
        return f"not in PyTorch's checkpoint format ({type(err).__name__}: {err})"
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first or type(err).__name__


def safe_torch_load(path: str | Path, map_location: str | torch.device = "cpu") -> Any:
    """``torch.load(weights_only=True)``; any failure is a one-line UserInputError.

    A text file fails inside torch's legacy reader with ``KeyError`` (the first byte), a
    truncated zip with ``RuntimeError``, a pickle with code in it with ``UnpicklingError``:
    every one of them means "not a checkpoint this program will load".
    """
    path = Path(path)
    if not path.is_file():
        where = " (it is a folder)" if path.is_dir() else ""
        raise UserInputError(f"{path}: checkpoint not found{where}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # every failure of an untrusted file is bad user input
        reason = _refusal(err)
        raise UserInputError(f"{path}: not a readable gdl-science checkpoint ({reason})") from None


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint dict safely; bad files become a one-line UserInputError."""
    path = Path(path)
    manifest = manifest_of(path)
    if manifest is not None and manifest.is_file():
        members = member_checkpoints(manifest)
        raise UserInputError(
            f"{path}: an ensemble of {len(members)} checkpoints; this command takes one "
            f"checkpoint, e.g. {members[0]}"
        )
    refuse_remote(path, "--checkpoint")
    ckpt = safe_torch_load(path, map_location)
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise UserInputError(f"{path}: not a Lightning checkpoint (no state_dict)")
    return ckpt


def task_hyperparameters(ckpt: dict[str, Any]) -> dict[str, Any]:
    """The task's constructor arguments saved in the checkpoint (private keys dropped)."""
    hparams = dict(ckpt.get("hyper_parameters") or {})
    return {k: v for k, v in hparams.items() if not k.startswith("_")}


def load_task(
    task_class: type[TaskT], path: str | Path, map_location: str | torch.device = "cpu"
) -> TaskT:
    """Rebuild a task from its checkpoint's hyperparameters and weights; returns it in eval mode."""
    ckpt = load_checkpoint(path, map_location)
    # ``legacy_hparams``: the values that checkpoints saved before a hyperparameter
    # existed were trained with (its new default may build another network).
    hparams = {**getattr(task_class, "legacy_hparams", {}), **task_hyperparameters(ckpt)}
    try:
        task = task_class(**hparams)
    except TypeError as err:
        raise UserInputError(f"{path}: checkpoint is not a {task_class.__name__} ({err})") from err
    if hasattr(task, "on_load_checkpoint"):
        task.on_load_checkpoint(ckpt)
    state = ckpt["state_dict"]
    problems = ""
    for training in (True, False):
        task.train(training)
        missing, unexpected = task.load_state_dict(state, strict=False)
        if not missing and not unexpected:
            break
        problems = f"missing {list(missing)[:3]}, unexpected {list(unexpected)[:3]}"
    else:
        raise UserInputError(f"{path}: weights do not match {task_class.__name__}: {problems}")
    return task.eval()
