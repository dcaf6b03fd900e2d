"""The ``--device`` option of every app's predict-like command."""

from __future__ import annotations

import os

import torch

from gdl_science.io.errors import UserInputError


def resolve_device(name: str) -> torch.device:
    """``auto``: this process's GPU when CUDA is available, else the CPU; anything else is
    parsed by torch (``cpu``, ``cuda``, ``cuda:1``).

    Under torchrun or srun every rank runs the same command, so ``auto`` picks the GPU of
    the rank's local index (LOCAL_RANK / SLURM_LOCALID) rather than all ranks using GPU 0.
    """
    if name == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        local = int(os.environ.get("LOCAL_RANK", os.environ.get("SLURM_LOCALID", "0")))
        return torch.device("cuda", local % torch.cuda.device_count())
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise UserInputError(f"--device {name!r}: not a device ({err})") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserInputError(f"--device {name!r}: CUDA is not available on this machine")
    return device
