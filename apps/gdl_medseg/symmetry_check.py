"""``check-symmetry`` for medseg: the whole network, and its plain-PyTorch export, over
the task's group, on a preprocessed crop of a user's image or on seeded noise."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from gdl_medseg.layers.groups import ESCNN_GROUPS
from gdl_science.symmetry import rotate_grid
from gdl_science.training import SymmetryCheck

if TYPE_CHECKING:
    from gdl_medseg.task import MedSegTask


def whole_model_check(
    task: MedSegTask, input_path: str | None, dtype: torch.dtype
) -> SymmetryCheck:
    """f(g x) against g f(x) for every group element, for the net and its export."""
    # escnn caches its expanded filters when put in eval mode: expand them again in
    # this copy's dtype (a cached float32 filter caps a float64 check at ~1e-7).
    task.net.train()
    task.net.eval()
    nets = [task.net]
    if hasattr(task.net, "export"):
        nets.append(task.net.export().to(dtype))
    group = task.group()

    def act(g: torch.Tensor, y: Any) -> Any:
        if isinstance(y, tuple):
            return tuple(rotate_grid(g, t) for t in y)
        return rotate_grid(g, y)

    def fn(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(net(x) for net in nets)

    return SymmetryCheck(fn, group, symmetry_input(task, input_path).to(dtype), act, act)


def symmetry_input(task: MedSegTask, input_path: str | None) -> torch.Tensor:
    """(1, C, P0, P1, P2): a preprocessed crop of ``input_path``, or seeded noise; a
    cube (the window's largest edge) for groups that turn axes into each other."""
    size = task.window
    if task.group_name in ESCNN_GROUPS:
        size = (max(size),) * 3
    if input_path is None:
        g = torch.Generator().manual_seed(0)
        return torch.randn(1, task.hparams.in_channels, *size, generator=g)
    from gdl_medseg.data.preprocess import load_and_preprocess
    from gdl_medseg.data.sampler import crop_padded

    image = load_and_preprocess([input_path], task.plan_hparams)[0]  # (C, X, Y, Z)
    start = (np.array(image.shape[1:]) - np.array(size)) // 2
    return torch.from_numpy(crop_padded(image, start, size))[None]
