"""The segmentation task: a U-Net (equivariant or plain) trained with Dice + cross-entropy.

``symmetry``:
- ``equivariant``: the escnn octahedral U-Net; ``widths[i]`` regular fields at level i.
- ``none``: a plain U-Net with the *same channel widths* (24 × widths) by default, or with
  a matched parameter count (``plain_channels="matched"``), for the benchmarks.
- ``augment``: the plain U-Net trained on patches randomly rotated by cube rotations
  (rotations about the through-plane axis only when the plan says ``inplane``).

The preprocessing plan (spacing, normalisation, rotations) is taken from the data module
in ``setup`` and stored in the hyperparameters, so a checkpoint alone can preprocess new
images at predict time.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
import torchmetrics

from gdl_medseg.metrics import LabelDice, MeanDice, soft_dice_loss
from gdl_medseg.model.sizes import is_valid_size, valid_size
from gdl_medseg.model.unet import build_plain_unet, count_parameters, matched_plain_channels
from gdl_science.io import UserInputError
from gdl_science.symmetry import (
    ElementError,
    EquivarianceReport,
    OctahedralGroup,
    check_equivariance,
    rotate_grid,
)
from gdl_science.training import GDLTask, OptimizerName, SchedulerName, StepOutput, SymmetryMode

GROUP_ORDER = {"octahedral": 24, "inplane": 4}  # channels of one regular field
log = logging.getLogger(__name__)


class MedSegTask(GDLTask):
    def __init__(
        self,
        in_channels: int = 1,
        n_classes: int = 2,
        label_names: list[str] | None = None,
        widths: list[int] | None = None,
        convs_per_level: int = 2,
        plain_channels: Literal["same", "matched"] = "same",
        norm: Literal["instance", "batch"] = "instance",
        patch_size: int = 33,
        dice_weight: float = 1.0,
        target_spacing: list[float] | None = None,
        channel_norm: list[str] | None = None,
        intensity_stats: list[float] | None = None,
        rotations: Literal["octahedral", "inplane"] = "octahedral",
        symmetry: SymmetryMode = "equivariant",
        lr: float = 2e-3,
        weight_decay: float = 0.0,
        optimizer: OptimizerName = "adamw",
        scheduler: SchedulerName = "cosine",
        warmup_steps: int = 0,
        augment_seed: int = 0,
    ) -> None:
        """
        Args:
            in_channels / n_classes / label_names: linked from the data module.
            widths: regular fields per U-Net level (each 24 channels); len(widths) levels.
            convs_per_level: conv-norm-ELU units per encoder/decoder block.
            norm: "instance" (per sample; per field over its group channels in the
                equivariant net, as nnU-Net) or "batch" (escnn's IIDBatchNorm3d).
            plain_channels: for symmetry none/augment: "same" channel widths as the
                equivariant net (24 × widths) or a "matched" parameter count.
            patch_size: training patch edge (linked from the data); also the sliding window.
            dice_weight: loss = cross-entropy + dice_weight × soft Dice.
            target_spacing / channel_norm / intensity_stats / rotations: the preprocessing
                plan, filled in from the data at fit time. ``rotations="inplane"`` (chosen
                for strongly anisotropic spacing) makes the network C4-equivariant about
                the through-plane axis (regular fields of 4 channels) instead of
                octahedral; the network is rebuilt in ``setup`` when the plan says so.
        """
        super().__init__(
            symmetry, lr, weight_decay, optimizer, scheduler, warmup_steps, augment_seed
        )
        self.save_hyperparameters()
        widths = list(widths or [2, 4])
        self.label_names = list(label_names or [f"label{i}" for i in range(n_classes)])
        if len(self.label_names) != n_classes:
            raise UserInputError(f"{len(self.label_names)} label names for {n_classes} classes")
        self.levels = len(widths)
        self.net = self.build_network()

    def build_network(self) -> torch.nn.Module:
        """The network the hyperparameters describe (also after the plan changed them)."""
        h = self.hparams
        widths = list(h.widths or [2, 4])
        group, axis = h.rotations, self.through_plane_axis()
        if self.symmetry == "equivariant":
            from gdl_medseg.model.equivariant_unet import EquivariantUNet

            return EquivariantUNet(
                h.in_channels,
                h.n_classes,
                widths,
                h.convs_per_level,
                group=group,
                axis=axis,
                norm=h.norm,
            )
        channels = [GROUP_ORDER[group] * w for w in widths]
        if h.plain_channels == "matched":
            target = equivariant_parameter_count(
                h.in_channels, h.n_classes, widths, h.convs_per_level, group, h.norm
            )
            channels = matched_plain_channels(
                target, h.in_channels, h.n_classes, widths, h.convs_per_level, h.norm
            )
        return build_plain_unet(h.in_channels, h.n_classes, channels, h.convs_per_level, h.norm)

    def _symmetry_key(self) -> tuple[str, int | None]:
        inplane = self.hparams.rotations == "inplane"
        return self.hparams.rotations, self.through_plane_axis() if inplane else None

    def through_plane_axis(self) -> int:
        spacing = self.hparams.target_spacing
        return int(np.argmax(spacing)) if spacing is not None else 2

    # ----- data plumbing -------------------------------------------------------------
    def setup(self, stage: str) -> None:
        super().setup(stage)
        dm = self.trainer.datamodule if self._trainer is not None else None
        if dm is None or getattr(dm, "data", None) is None:
            return
        if self.symmetry == "equivariant" and not is_valid_size(dm.patch_size, self.levels):
            raise UserInputError(
                f"--data.patch_size {dm.patch_size} breaks exact equivariance for a "
                f"{self.levels}-level U-Net; use {valid_size(dm.patch_size, self.levels)} "
                f"(sizes k*{2 ** (self.levels - 1)}+1)"
            )
        before = self._symmetry_key()
        self.hparams.update(dm.plan.to_hparams())
        self.hparams.patch_size = dm.patch_size
        if self._symmetry_key() != before:
            # The data decided the symmetry (anisotropic spacing -> in-plane rotations
            # only): rebuild the network before the optimiser is created.
            log.warning(
                "rotations=%s about axis %d for this data: rebuilding the %s network",
                self.hparams.rotations,
                self.through_plane_axis(),
                self.symmetry,
            )
            self.net = self.build_network()

    def on_train_epoch_start(self) -> None:
        dm = self.trainer.datamodule
        if dm is not None and hasattr(dm, "train_set"):
            dm.train_set.set_epoch(self.current_epoch)

    @property
    def plan_hparams(self) -> dict[str, Any]:
        h = self.hparams
        if h.target_spacing is None:
            raise UserInputError("this checkpoint has no preprocessing plan (was it trained?)")
        return {k: h[k] for k in ("target_spacing", "channel_norm", "intensity_stats", "rotations")}

    # ----- model -----------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in_channels, D, H, W) -> logits (B, n_classes, D, H, W)."""
        return self.net(x)

    def step(self, batch: tuple[torch.Tensor, torch.Tensor]) -> StepOutput:
        image, label = batch
        logits = self(image)
        loss = F.cross_entropy(logits, label)
        if self.hparams.dice_weight:
            loss = loss + self.hparams.dice_weight * soft_dice_loss(logits, label)
        return StepOutput(loss, logits.argmax(1), label, batch_size=image.shape[0])

    def configure_metrics(self) -> torchmetrics.MetricCollection:
        metrics: dict[str, torchmetrics.Metric] = {
            f"dice_{name}": LabelDice(i) for i, name in enumerate(self.label_names) if i > 0
        }
        metrics["dice_mean"] = MeanDice(len(self.label_names))
        return torchmetrics.MetricCollection(metrics, compute_groups=False)

    # ----- symmetry --------------------------------------------------------------
    def rotation_elements(self) -> list[torch.Tensor]:
        """The cube rotations that are physical for this data (all 24, or 4 in-plane)."""
        elements = OctahedralGroup().elements
        if self.hparams.rotations != "inplane" or self.hparams.target_spacing is None:
            return list(elements)
        through = self.through_plane_axis()
        return [r for r in elements if int(r[through, through]) == 1]

    def random_transform(self, batch: Any, generator: torch.Generator) -> Any:
        image, label = batch
        elements = self.rotation_elements()
        picks = torch.randint(len(elements), (image.shape[0],), generator=generator).tolist()
        image = torch.stack([rotate_grid(elements[k], x) for k, x in zip(picks, image)])
        label = torch.stack([rotate_grid(elements[k], y) for k, y in zip(picks, label)])
        return image, label

    def check_symmetry(
        self, input_path: str | None = None, dtype: torch.dtype = torch.float64
    ) -> EquivarianceReport:
        """Whole-network check over the cube rotations, before and (if possible) after export."""
        x = self.symmetry_input(input_path).to(dtype)
        group = OctahedralGroup()
        act = OctahedralGroup.act_on_grid
        elements = self.rotation_elements()
        per_element: list[ElementError] = []
        original_dtype = next(self.net.parameters()).dtype
        was_training = self.net.training
        # Cast in train mode so escnn re-expands its filters in the checked dtype when
        # eval() runs (a cached float32 filter would cap the float64 check at ~1e-7).
        self.net.train().to(dtype).eval()
        try:
            nets: dict[str, Any] = {"escnn" if hasattr(self.net, "export") else "plain": self.net}
            if hasattr(self.net, "export"):
                nets["exported"] = self.net.export().to(dtype)
            for name, net in nets.items():
                report = check_equivariance(net, group, x, act, act, elements=elements)
                per_element += [
                    ElementError(f"{name}:{e.element}", e.max_abs, e.max_rel)
                    for e in report.per_element
                ]
        finally:
            self.net.train().to(original_dtype).train(was_training)
        return EquivarianceReport(group.name, tuple(per_element))

    def symmetry_input(self, input_path: str | None) -> torch.Tensor:
        """(1, C, P, P, P): a preprocessed crop of ``input_path``, or seeded noise."""
        size = valid_size(int(self.hparams.patch_size), self.levels)
        if input_path is None:
            g = torch.Generator().manual_seed(0)
            return torch.randn(1, self.hparams.in_channels, size, size, size, generator=g)
        from gdl_medseg.predict import load_and_preprocess

        image = load_and_preprocess([input_path], self.plan_hparams)[0]  # (C, X, Y, Z)
        from gdl_medseg.data.sampler import crop_padded

        start = (np.array(image.shape[1:]) - size) // 2
        return torch.from_numpy(crop_padded(image, start, size))[None]


def equivariant_parameter_count(
    in_channels: int,
    n_classes: int,
    widths: list[int],
    convs_per_level: int,
    group: str,
    norm: str = "instance",
) -> int:
    from gdl_medseg.model.equivariant_unet import EquivariantUNet

    net = EquivariantUNet(in_channels, n_classes, widths, convs_per_level, group=group, norm=norm)
    return count_parameters(net)
