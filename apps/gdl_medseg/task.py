"""The segmentation task: a U-Net (equivariant or plain) trained with Dice + cross-entropy.

``symmetry`` (the base task's mode) with the plan's ``group``:
- ``equivariant``: the network is exactly equivariant to ``group``: ``mirror`` (left-right
  reflection, anatomy in a canonical pose) or ``flips`` via group convolutions, or
  ``octahedral``/``inplane`` (cube rotations; random poses, anisotropic data) via escnn;
- ``none``: the plain U-Net with the same channel widths (or, ``plain_channels="matched"``,
  the equivariant net's parameter count);
- ``augment``: the plain U-Net trained on patches transformed by random group elements.

The data module's plan (spacing, normalisation, patch size, channels, group) is copied
into the hyperparameters in ``setup``, so a checkpoint alone can rebuild the network and
preprocess new images. Values given explicitly (config or CLI) are kept: the plan only
fills what is left to it (``None`` / ``"auto"``). At the end of ``fit`` the
largest-component post-processing is decided on the validation cases with the best
checkpoint (``fit_end.decide_postprocessing``) and written into the checkpoints.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Literal

import numpy as np
import torch
import torch.nn.functional as F
import torchmetrics

from gdl_medseg.fit_end import decide_postprocessing
from gdl_medseg.layers.groups import make_group
from gdl_medseg.layers.sizes import Shape, as_shape, is_valid_shape, valid_shape
from gdl_medseg.layers.sliding_window import WHOLE_CASE_GROWTH, case_window
from gdl_medseg.metrics import LabelDice, MeanDice, soft_dice_loss
from gdl_medseg.model import ESCNN_GROUPS, build_network, group_order, is_compact
from gdl_medseg.symmetry_check import whole_model_check
from gdl_science.blueprint import count_parameters
from gdl_science.io import UserInputError
from gdl_science.symmetry import rotate_grid
from gdl_science.training import (
    GDLTask,
    SchedulerName,
    SelectionMetric,
    StepOutput,
    SymmetryCheck,
    log_mean_softmax,
)

GroupName = Literal["auto", "octahedral", "inplane", "mirror", "flips"]
DEFAULT_CHANNELS = [16, 32, 64, 128]
log = logging.getLogger(__name__)


class MedSegTask(GDLTask):
    # Checkpoints saved before ``unet`` existed were trained in the classic layout.
    legacy_hparams: ClassVar[dict[str, Any]] = {"unet": "classic"}

    def __init__(
        self,
        in_channels: int = 1,
        n_classes: int = 2,
        label_names: list[str] | None = None,
        channels: list[int] | None = None,
        convs_per_level: int = 2,
        group: GroupName = "auto",
        group_axis: int | None = None,
        plain_channels: Literal["same", "matched"] = "same",
        norm: Literal["instance", "batch"] = "instance",
        deep_supervision: bool = True,
        unet: Literal["auto", "compact", "classic"] = "auto",
        patch_size: int | list[int] | None = None,
        dice_weight: float = 1.0,
        target_spacing: list[float] | None = None,
        channel_norm: list[str] | None = None,
        intensity_stats: list[float] | None = None,
        rotations: Literal["octahedral", "inplane"] = "octahedral",
        lcc_labels: list[int] | None = None,
        lr: float = 0.003,
        scheduler: SchedulerName = "poly",
        **base_kwargs: Any,
    ) -> None:
        """
        Args:
            in_channels / n_classes / label_names: linked from the data module.
            channels: feature maps per U-Net level (len = levels); None: the data's plan.
                The equivariant nets use channels[i] / |G| regular fields.
            convs_per_level: conv-norm-ELU units per encoder/decoder block.
            group: the symmetry group; "auto": the data's plan (mirror for anatomy in a
                canonical pose, octahedral for random poses, inplane if anisotropic).
            group_axis: mirrored axis (mirror) or rotation axis (inplane); None: plan.
            plain_channels: none/augment: "same" channels, or a "matched" parameter count.
            norm: "instance" (per sample, per field for regular fields) or "batch".
            deep_supervision: losses at the coarser decoder stages too (nnU-Net).
            unet: "compact" (3³ average pooling, coarse maps projected 1×1 before
                upsampling: 1.3x faster per step), "classic" (the escnn net's blur pooling,
                coarse maps upsampled whole), or "auto": compact for the reflection
                groups (mirror, flips), classic for the escnn groups, whose networks
                exist in the classic layout only. ``none``/``augment`` follow the plan's
                group, so the three modes share one layout.
            patch_size: training patch, one edge or (D, H, W) (linked from the data);
                also the sliding window.
            dice_weight: loss = cross-entropy + dice_weight x soft Dice.
            target_spacing / channel_norm / intensity_stats / rotations: the
                preprocessing plan, filled in from the data at fit time.
            lcc_labels: labels reduced to their largest component at predict time
                (decided on validation Dice at the end of fit).
            lr / scheduler, base_kwargs: the shared arguments of ``GDLTask`` (poly decay
                as nnU-Net; it follows ``--trainer.max_time`` to zero).
        """
        super().__init__(lr=lr, scheduler=scheduler, **base_kwargs)

    # ----- network -----------------------------------------------------------------
    def configure(self) -> None:
        h = self.hparams
        self.label_names = list(h.label_names or [f"label{i}" for i in range(h.n_classes)])
        if len(self.label_names) != h.n_classes:
            raise UserInputError(f"{len(self.label_names)} label names for {h.n_classes} classes")

    @property
    def group_name(self) -> str:
        """The resolved group (before a plan: mirror, the cheapest exact prior)."""
        return "mirror" if self.hparams.group == "auto" else self.hparams.group

    @property
    def axis(self) -> int:
        if self.hparams.group_axis is not None:
            return int(self.hparams.group_axis)
        spacing = self.hparams.target_spacing
        if self.group_name == "inplane" and spacing is not None:
            return int(np.argmax(spacing))
        return 2 if self.group_name == "inplane" else 0

    @property
    def compact(self) -> bool:
        """Whether the network is the compact U-Net (``unet``; "auto" by the group)."""
        return is_compact(self.hparams.unet, self.group_name)

    @property
    def levels(self) -> int:
        return len(self.hparams.channels or DEFAULT_CHANNELS)

    def build_network(self, equivariant: bool) -> torch.nn.Module:
        h = self.hparams
        channels = list(h.channels or DEFAULT_CHANNELS)
        return build_network(
            equivariant,
            h.in_channels,
            h.n_classes,
            channels,
            self.group_name,
            self.axis,
            h.convs_per_level,
            h.norm,
            h.deep_supervision,
            self.compact,
            matched=h.plain_channels == "matched",
        )

    def describe_network(self) -> str:
        kind = f"{self.group_name}-equivariant" if self.equivariant else "plain"
        kind = f"{kind} {'compact' if self.compact else 'classic'}"
        extra = f", |G|={group_order(self.group_name)}" if self.equivariant else ""
        heads = len(getattr(self.net, "aux_heads", ()))
        if heads:
            supervision = f"deep supervision on ({heads} auxiliary heads)"
        elif self.hparams.deep_supervision:
            supervision = f"deep supervision off (a {self.levels}-level net has no coarse stage)"
        else:
            supervision = "deep supervision off"
        return (
            f"{kind} U-Net{extra}, channels {list(self.hparams.channels or DEFAULT_CHANNELS)}, "
            f"{count_parameters(self.net):,} parameters, {supervision}"
        )

    # ----- data plumbing -------------------------------------------------------------
    def setup(self, stage: str) -> None:
        super().setup(stage)
        dm = self.trainer.datamodule if self._trainer is not None else None
        if dm is None or getattr(dm, "data", None) is None:
            return
        h = self.hparams
        before = (h.channels, self.group_name, self.axis)
        h.update(dm.plan.to_hparams())
        net_plan = dm.network_plan
        if h.channels is None:
            h.channels = list(net_plan.channels)
        if h.group == "auto":
            h.group = net_plan.group
            h.group_axis = net_plan.axis if h.group_axis is None else h.group_axis
        h.patch_size = list(as_shape(dm.patch_size))
        if self.equivariant and not is_valid_shape(dm.patch_size, self.levels):
            fix = valid_shape(dm.patch_size, self.levels)
            use = fix[0] if isinstance(dm.patch_size, int) else list(fix)
            raise UserInputError(
                f"--data.patch_size {dm.patch_size} breaks exact equivariance for a "
                f"{self.levels}-level U-Net; use {use} (sizes k*{2 ** (self.levels - 1)}+1)"
            )
        rotations = self.group_name in ESCNN_GROUPS
        if self.equivariant and rotations and len(set(h.patch_size)) > 1:
            raise UserInputError(
                f"--data.patch_size {dm.patch_size}: the {self.group_name} group turns axes "
                "into each other, so its patch must be a cube (one int)"
            )
        if (h.channels, self.group_name, self.axis) != before:
            self.rebuild_network()  # before the optimiser is created
        if self.global_rank == 0:
            print(f"gdl-medseg network: {self.describe_network()}", flush=True)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Checkpoints from before the escnn nets had deep-supervision heads: drop the
        (training-only) heads so that their weights load; predict never uses them."""
        state = checkpoint.get("state_dict", {})
        if len(getattr(self.net, "aux_heads", ())) and not any(
            k.startswith("net.aux_heads.") for k in state
        ):
            self.net.aux_heads = torch.nn.ModuleList()

    def on_train_epoch_start(self) -> None:
        dm = self.trainer.datamodule
        if dm is not None and hasattr(dm, "train_set"):
            dm.train_set.set_epoch(self.current_epoch)

    def on_fit_end(self) -> None:
        decide_postprocessing(self)

    @property
    def plan_hparams(self) -> dict[str, Any]:
        h = self.hparams
        if h.target_spacing is None:
            raise UserInputError("this checkpoint has no preprocessing plan (was it trained?)")
        return {k: h[k] for k in ("target_spacing", "channel_norm", "intensity_stats", "rotations")}

    @property
    def window(self) -> Shape:
        """The sliding window: the training patch, valid for the network's depth."""
        return valid_shape(self.hparams.patch_size or 33, self.levels)

    def window_for(self, spatial: tuple[int, ...], growth: float = WHOLE_CASE_GROWTH) -> Shape:
        """The window for one case: the whole case when it is at most ``growth`` times
        the patch's voxels (one forward instead of several), else the patch."""
        return case_window(spatial, self.window, self.levels, growth)

    # ----- training ------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in_channels, D, H, W) -> logits (B, n_classes, D, H, W) (a list with deep
        supervision in training mode: full resolution first)."""
        return self.net(x)

    def step(self, batch: tuple[torch.Tensor, torch.Tensor]) -> StepOutput:
        image, label = batch
        outputs = self(image)
        outputs = outputs if isinstance(outputs, list) else [outputs]
        # nnU-Net's deep-supervision weights: 1, 1/2, 1/4, ... normalised (stage k sees
        # the label sampled at stride 2^k, as the stride-2 pooling samples voxels).
        weights = torch.tensor([0.5**k for k in range(len(outputs))])
        weights = weights / weights.sum()
        loss = image.new_zeros(())
        for k, (w, logits) in enumerate(zip(weights.tolist(), outputs)):
            target = label[:, :: 2**k, :: 2**k, :: 2**k] if k else label
            term = F.cross_entropy(logits, target)
            if self.hparams.dice_weight:
                term = term + self.hparams.dice_weight * soft_dice_loss(logits, target)
            loss = loss + w * term
        return StepOutput(loss, outputs[0].argmax(1), label, batch_size=image.shape[0])

    def ensemble_output(self, outputs: list[Any]) -> Any:
        """Average the members' softmax probabilities (as predict and nnU-Net do), returned
        as log-probabilities: valid logits for the loss and the argmax."""
        if isinstance(outputs[0], list):  # deep supervision: stage by stage
            return [log_mean_softmax(list(stage)) for stage in zip(*outputs)]
        return log_mean_softmax(outputs)

    def configure_metrics(self) -> torchmetrics.MetricCollection:
        metrics: dict[str, torchmetrics.Metric] = {
            f"dice_{name}": LabelDice(i) for i, name in enumerate(self.label_names) if i > 0
        }
        metrics["dice_mean"] = MeanDice(len(self.label_names))
        return torchmetrics.MetricCollection(metrics, compute_groups=False)

    def selection_metric(self) -> SelectionMetric:
        return SelectionMetric("val/dice_mean", "max")

    # ----- symmetry --------------------------------------------------------------
    def group(self):
        return make_group(self.group_name, self.axis)

    def random_transform(self, batch: Any, generator: torch.Generator) -> Any:
        image, label = batch
        elements = self.group().elements
        picks = torch.randint(len(elements), (image.shape[0],), generator=generator).tolist()
        image = torch.stack([rotate_grid(elements[k], x) for k, x in zip(picks, image)])
        label = torch.stack([rotate_grid(elements[k], y) for k, y in zip(picks, label)])
        return image, label

    def symmetry_check(self, input_path: str | None, dtype: torch.dtype) -> SymmetryCheck:
        """The whole network (and its plain-PyTorch export, for escnn) over the group."""
        return whole_model_check(self, input_path, dtype)
