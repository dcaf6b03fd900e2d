"""The DNA LightningModule: network, masked losses, metrics, augmentation, symmetry check.

``symmetry``: ``equivariant`` ties the weights (exact RC invariance or, with the strand
head, exact RC equivariance); ``none`` is the same CNN with untied weights and matched
parameter count; ``augment`` trains that CNN on randomly reverse-complemented sequences
and averages both strands outside training (so its predictions are RC-invariant too,
by test-time symmetrisation rather than by construction).
"""

from __future__ import annotations

import copy
from typing import Literal

import torch
import torch.nn.functional as F

from gdl_dna.data.labels import LabelSpec
from gdl_dna.metrics import PredictionStore, compute_metrics
from gdl_dna.model import ArchConfig, build_network, supported_length
from gdl_science.io import UserInputError
from gdl_science.symmetry import (
    EquivarianceReport,
    RCFieldType,
    ReverseComplementGroup,
    check_equivariance,
    trivial_action,
)
from gdl_science.training import (
    GDLTask,
    OptimizerName,
    SchedulerName,
    StepOutput,
    SymmetryMode,
    uses_equivariant_layers,
)

RC = ReverseComplementGroup()
STAGES = ("train", "val", "test")


class DNATask(GDLTask):
    def __init__(
        self,
        label_names: list[str] | None = None,
        task_type: Literal["binary", "multiclass", "regression"] = "binary",
        class_names: list[str] | None = None,
        sequence_length: int = 200,
        channels: list[int] | None = None,
        irrep_channels: int = 4,
        kernel_sizes: list[int] | None = None,
        dilations: list[int] | None = None,
        pool_sizes: list[int] | None = None,
        kmer: int = 1,
        head: Literal["invariant", "strand"] = "invariant",
        global_pool: Literal["max", "mean"] = "max",
        hidden: list[int] | None = None,
        dropout: float = 0.1,
        match_parameters: bool = True,
        symmetry: SymmetryMode = "equivariant",
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        optimizer: OptimizerName = "adamw",
        scheduler: SchedulerName = "cosine",
        warmup_steps: int = 0,
        augment_seed: int = 0,
    ) -> None:
        """
        Args:
            label_names / task_type / class_names / sequence_length: linked from the data.
            channels: RC-regular pairs per conv block; irrep_channels: +1 and -1 channels
                per block (each); kernel_sizes (odd), dilations, pool_sizes: per block.
            kmer: k-mer input layer (1 = one-hot). head: invariant (orientation pooled) or
                strand (strand-specific, RC-equivariant). global_pool: max (motif presence) or
                mean over the length before the head. hidden/dropout: the MLP head.
            match_parameters: plain nets (none/augment) get the equivariant net's
                parameter count by scaling their widths.
        """
        super().__init__(
            symmetry, lr, weight_decay, optimizer, scheduler, warmup_steps, augment_seed
        )
        self.save_hyperparameters()
        self.spec = LabelSpec(task_type, list(label_names or ["label"]), list(class_names or []))
        self.arch = ArchConfig(
            channels=tuple(channels or (32, 32, 32)),
            irrep_channels=irrep_channels,
            kernel_sizes=tuple(kernel_sizes or (15, 9, 9)),
            dilations=tuple(dilations or (1, 2, 4)),
            pool_sizes=tuple(pool_sizes or (4, 4, 1)),
            kmer=kmer,
            head=head,
            global_pool=global_pool,
            hidden=tuple(hidden if hidden is not None else (32,)),
            dropout=dropout,
        )
        if not supported_length(self.arch, sequence_length):
            raise UserInputError(
                f"window {sequence_length} cannot be pooled RC-symmetrically by pool sizes "
                f"{list(self.arch.pool_sizes)}; use an even window or odd pool sizes"
            )
        if symmetry == "augment" and head == "strand":
            raise UserInputError(
                "symmetry 'augment' cannot train a strand-specific head: reverse-complementing "
                "a sequence would need the other strand's labels"
            )
        self.sequence_length = sequence_length
        self.n_outputs = self.spec.n_outputs
        self.net = build_network(
            self.arch, self.n_outputs, uses_equivariant_layers(symmetry), match_parameters
        )
        self.stores = torch.nn.ModuleDict({f"{s}_preds": PredictionStore() for s in STAGES})

    # ----- the model as a function of one-hot sequences -------------------------------
    def full_output(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 4, L) -> (B, n) logits, or (B, 2n) with the strand head (both strands).

        In augment mode, outside training, the two strands' outputs are averaged.
        """
        out = self.net(x)
        if self.symmetry == "augment" and not self.training:
            out = 0.5 * (out + self.net(RC.act_on_one_hot(1, x)))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 4, L) -> (B, n_outputs) logits (regression: values) for the given strand."""
        return self.full_output(x)[:, : self.n_outputs]

    def predict_values(self, x: torch.Tensor) -> torch.Tensor:
        """Probabilities (sigmoid per label, softmax over classes) or regression values."""
        logits = self(x)
        if self.spec.kind == "binary":
            return torch.sigmoid(logits)
        if self.spec.kind == "multiclass":
            return torch.softmax(logits, dim=1)
        return logits

    # ----- training ------------------------------------------------------------------
    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Masked loss: BCE per label, CE over classes, or MSE; missing targets ignored."""
        if self.spec.kind == "multiclass":
            if not (target >= 0).any():
                return logits.sum() * 0.0
            return F.cross_entropy(logits, target.long(), ignore_index=-1)
        keep = ~torch.isnan(target)
        if not keep.any():
            return logits.sum() * 0.0
        if self.spec.kind == "binary":
            return F.binary_cross_entropy_with_logits(logits[keep], target[keep])
        return F.mse_loss(logits[keep], target[keep])

    def step(self, batch: tuple[torch.Tensor, torch.Tensor]) -> StepOutput:
        x, y = batch
        logits = self(x)
        with torch.no_grad():
            if self.spec.kind == "binary":
                preds = torch.sigmoid(logits)
            elif self.spec.kind == "multiclass":
                preds = torch.softmax(logits, dim=1)
            else:
                preds = logits
        return StepOutput(self.loss(logits, y), preds, y, batch_size=x.shape[0])

    def random_transform(
        self, batch: tuple[torch.Tensor, torch.Tensor], generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Reverse-complement a random half of the batch (labels are RC-invariant)."""
        x, y = batch
        flip = torch.rand(x.shape[0], generator=generator) < 0.5
        flip = flip.to(x.device)[:, None, None]
        return torch.where(flip, RC.act_on_one_hot(1, x), x), y

    def update_metrics(self, stage: str, out: StepOutput) -> None:
        if out.preds is not None and out.target is not None:
            self.stores[f"{stage}_preds"].update(out.preds, out.target)

    def _log_epoch_metrics(self, stage: str) -> None:
        gathered = self.stores[f"{stage}_preds"].compute()
        self.stores[f"{stage}_preds"].reset()
        if gathered is None:
            return
        preds, target = gathered
        values = compute_metrics(self.spec.kind, preds, target, self.spec.names, self.spec.classes)
        for name, value in values.items():
            # Values are already global (CatMetric gathers every rank), so syncing is a no-op
            # average of equal numbers; it keeps Lightning's DDP warning quiet.
            show = name in ("auroc", "pearson") and stage == "val"
            self.log(f"{stage}/{name}", value, prog_bar=show, sync_dist=True)

    def on_train_epoch_end(self) -> None:
        self._log_epoch_metrics("train")

    def on_validation_epoch_end(self) -> None:
        self._log_epoch_metrics("val")

    def on_test_epoch_end(self) -> None:
        self._log_epoch_metrics("test")

    # ----- symmetry --------------------------------------------------------------------
    def symmetry_inputs(
        self, input_path: str | None = None, n: int = 16, dtype: torch.dtype = torch.float64
    ) -> torch.Tensor:
        """(n, 4, L) sequences to check on: the first valid records of a file, or random
        one-hot DNA with N codes and padding (seeded)."""
        if input_path is not None:
            from gdl_dna.data import encode_window, iter_records

            xs = []
            for record in iter_records(input_path):
                if record.error is None:
                    xs.append(encode_window(record.sequence, self.sequence_length))
                if len(xs) == n:
                    break
            if not xs:
                raise UserInputError(f"{input_path}: no valid sequence to check symmetry on")
            return torch.stack(xs).to(dtype)
        g = torch.Generator().manual_seed(0)
        length = self.sequence_length
        x = F.one_hot(torch.randint(4, (n, length), generator=g), 4).transpose(1, 2).to(dtype)
        x[:, :, torch.rand(length, generator=g) < 0.05] = 0.25  # some N
        x[0, :, : length // 10] = 0.0  # padding
        return x

    def check_symmetry(
        self, input_path: str | None = None, dtype: torch.dtype = torch.float64
    ) -> EquivarianceReport:
        """Invariant head: |p(x) - p(RC x)|. Strand head: p(RC x) vs the strand swap of p(x)."""
        model = copy.deepcopy(self).to(dtype).eval()
        x = self.symmetry_inputs(input_path, dtype=dtype)
        if self.arch.head == "strand":
            out_action = RC.action(RCFieldType(regular=self.n_outputs), length_axis=False)
            fn = model.full_output
        else:
            out_action, fn = trivial_action, model.predict_values
        return check_equivariance(fn, RC, x, RC.act_on_one_hot, out_action)
