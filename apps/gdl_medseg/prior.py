"""prior-report's medseg part: score a cell on the validation patches as given and moved
by every element of the plan's group (mirror, flips, C4 or the 24 cube rotations: the
elements of ``check-symmetry``), at most ``MAX_ELEMENTS`` of them.

The patches are the fit's own validation patches (one per validation case, centred on
its foreground: ``val_mode centred``), so "as given" is the fit's validation Dice. For
each element g: the Dice of the prediction of g·x against g·label ("under the group"),
and the prediction of g·x mapped back by g⁻¹ against the prediction of x: the share of
voxels whose label changes (``changed_voxels``) and the mean foreground Dice between the
two masks (``mask_dice``). Whole-case sliding-window scores are ``gdl-medseg evaluate``'s.
"""

from __future__ import annotations

from typing import Any

import torch

from gdl_science.prior_report import CellScores, PriorHooks
from gdl_science.symmetry import rotate_grid

MAX_ELEMENTS = 8  # of a larger group, a fixed seeded sample (the octahedral group has 23)


def elements(task: Any) -> list[torch.Tensor]:
    """The group's elements other than the identity (a seeded sample when many)."""
    group = task.group()
    others = group.elements[1:]
    if len(others) <= MAX_ELEMENTS:
        return others
    pick = torch.randperm(len(others), generator=torch.Generator().manual_seed(0))
    return [others[i] for i in sorted(pick[:MAX_ELEMENTS].tolist())]


def _dice(task: Any, preds: list[torch.Tensor], targets: list[torch.Tensor]) -> dict[str, float]:
    collection = task.configure_metrics()
    for p, t in zip(preds, targets):
        collection.update(p, t)
    return {k: float(v) for k, v in collection.compute().items()}


@torch.no_grad()
def score(task: Any, datamodule: Any) -> CellScores:
    task = task.eval()
    gs = elements(task)
    pred, label = [], []
    moved_pred: list[list[torch.Tensor]] = [[] for _ in gs]
    moved_label: list[list[torch.Tensor]] = [[] for _ in gs]
    back: list[list[torch.Tensor]] = [[] for _ in gs]
    for image, target in datamodule.val_dataloader():
        p = task(image).argmax(1)  # (B, D, H, W) labels
        pred.append(p)
        label.append(target)
        for k, g in enumerate(gs):
            pg = task(rotate_grid(g, image)).argmax(1)
            moved_pred[k].append(pg)
            moved_label[k].append(rotate_grid(g, target))
            back[k].append(rotate_grid(g.T.contiguous(), pg))
    given = _dice(task, pred, label)
    if not gs:  # the trivial group: nothing moves
        return CellScores(given, dict(given), {"changed_voxels": 0.0, "max_change": 0.0,
                                               "mask_dice": 1.0})
    per_element = [_dice(task, moved_pred[k], moved_label[k]) for k in range(len(gs))]
    transformed = {key: sum(d[key] for d in per_element) / len(gs) for key in given}
    shares = [
        float(sum((b != p).sum() for b, p in zip(back[k], pred)) / sum(p.numel() for p in pred))
        for k in range(len(gs))
    ]
    agreement = [_dice(task, back[k], pred)["dice_mean"] for k in range(len(gs))]
    consistency = {
        "changed_voxels": sum(shares) / len(shares),
        "max_change": max(shares),
        "mask_dice": sum(agreement) / len(agreement),
        "min_mask_dice": min(agreement),
    }
    return CellScores(given, transformed, consistency)


def group_of(task: Any, datamodule: Any) -> str:
    """The group the cells use: the config's, or (``group: auto``) the data plan's."""
    if task.hparams.group == "auto" and getattr(datamodule, "network_plan", None) is not None:
        from gdl_medseg.layers.groups import make_group

        plan = datamodule.network_plan
        return make_group(plan.group, plan.axis).name
    return task.group().name


def hooks(group: str | None = None) -> PriorHooks:
    """``group``: how the report names it (None: resolved from the config and data)."""
    return PriorHooks(
        group=f"the {group} group" if group else "the plan's group",
        metric="dice_mean",
        higher_is_better=True,
        change="changed_voxels",
        change_label="the predicted masks (mapped back) change",
        score=score,
        level_tolerance=0.01,
        percent_change=True,
        notes=["scores are on the validation patches (one per case, centred on its "
               "foreground), the fit's own validation; max_change is the worst element's "
               "share of changed voxels"],
        for_task=None if group else lambda task, data: hooks(group_of(task, data)),
    )
