"""The DNA LightningModule: network, window rule, masked losses, metrics, symmetry check.

``symmetry``: ``equivariant`` ties the weights (exact RC invariance or, with the strand
head, exact RC equivariance); ``none`` is the same CNN with untied weights and matched
parameter count; ``augment`` trains that CNN on randomly reverse-complemented sequences
and averages both strands outside training (so its predictions are RC-invariant too,
by test-time symmetrisation rather than by construction).

The task owns the window rule (``gdl_dna.data.framing``): batches arrive as lists of
variable-length one-hots and are padded here, so ``predict``, ``explain`` and
``variant-effect`` pad exactly as training did.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from gdl_dna.data.augment import augment_one_hots
from gdl_dna.data.framing import FramedGroup, FrameRule, count_cropped, frame_groups
from gdl_dna.data.labels import LabelSpec
from gdl_dna.metrics import PredictionStore, compute_metrics
from gdl_dna.model import (
    ArchConfig,
    build_network,
    frame_length,
    frame_period,
    supported_length,
)
from gdl_science.io import UserInputError
from gdl_science.symmetry import RCFieldType, ReverseComplementGroup, trivial_action
from gdl_science.training import (
    GDLTask,
    SelectionMetric,
    StepOutput,
    SymmetryCheck,
    log_mean_softmax,
    logit_mean_sigmoid,
)
from gdl_science.training.masked import masked_loss

RC = ReverseComplementGroup()
STAGES = ("train", "val", "test")
Batch = tuple[list[FramedGroup], torch.Tensor]  # framed rows, targets (B, T) or (B,)


class DNATask(GDLTask):
    def __init__(
        self,
        label_names: list[str] | None = None,
        task_type: Literal["binary", "multiclass", "regression"] = "binary",
        class_names: list[str] | None = None,
        sequence_length: int = 200,
        fixed_window: bool = False,
        channels: list[int] | None = None,
        irrep_channels: int = 4,
        kernel_sizes: list[int] | None = None,
        dilations: list[int] | None = None,
        pool_sizes: list[int] | None = None,
        kmer: int = 1,
        head: Literal["invariant", "strand"] = "invariant",
        global_pool: Literal["max", "mean", "maxmean", "flatten"] = "max",
        hidden: list[int] | None = None,
        dropout: float = 0.1,
        strand_trunk: Literal["conjoined", "tied"] = "conjoined",
        strand_init: Literal["auto", "mixed", "separate"] = "auto",
        match_parameters: bool = True,
        trunk_dropout: float = 0.0,
        first_activation: Literal["relu", "exp"] = "relu",
        label_smoothing: float = 0.0,
        augment_shift: int = 0,
        augment_mutate: float = 0.0,
        **base_kwargs: Any,
    ) -> None:
        """
        Args:
            label_names / task_type / class_names: linked from the data.
            sequence_length: linked from the data: its longest sequence (``window auto``)
                or the user's window; rounded up to a length the pools accept.
            fixed_window: linked from the data: True crops/pads everything to the window,
                False (``auto``) pads each batch to its own longest sequence.
            channels: RC-regular pairs per conv block; irrep_channels: +1 and -1 channels
                per block (each); kernel_sizes (odd), dilations, pool_sizes: per block.
            kmer: k-mer input layer (1 = one-hot). head: invariant (orientation pooled) or
                strand (strand-specific, RC-equivariant). global_pool: max (motif presence),
                mean, or maxmean (both side by side) over the length before the head, or
                flatten (a dense readout of every position: position-aware, one fixed
                frame). hidden/dropout: the head.
            strand_trunk: the strand head's trunk: conjoined (one plain CNN on both strands;
                exactly equivariant, as accurate as none) or tied (RC-tied layers).
            strand_init: tied trunk only: separate (no cross-strand weights at init: it
                starts as one plain CNN on both strands), mixed (random tied weights), or
                auto (separate with the strand head, mixed with the invariant head).
            match_parameters: plain nets (none/augment) get the equivariant net's
                parameter count by scaling their widths.
            trunk_dropout: dropout on the features after every conv block (0 = none).
            first_activation: relu, or exp (exponential on the first block: PWM-like
                motif detectors, Koo & Ploenzke 2021).
            label_smoothing: binary targets y -> y (1 - s) + s / 2 in the training loss.
            augment_shift / augment_mutate: training batches only, every symmetry mode:
                up to ``augment_shift`` bases trimmed off the ends in total (a random
                shift of up to half that), and each base replaced by a random one with
                probability ``augment_mutate`` (``gdl_dna.data.augment``).
            base_kwargs: the shared arguments of ``GDLTask`` (symmetry, lr, ...).
        """
        super().__init__(**base_kwargs)
        self.stores = torch.nn.ModuleDict({f"{s}_preds": PredictionStore() for s in STAGES})

    # ----- configuration (called by the base before the network is built) ----------
    def configure(self) -> None:
        hp = self.hparams
        self.spec = LabelSpec(
            hp.task_type, list(hp.label_names or ["label"]), list(hp.class_names or [])
        )
        self.arch = ArchConfig(
            channels=tuple(hp.channels or (32, 32, 32)),
            irrep_channels=hp.irrep_channels,
            kernel_sizes=tuple(hp.kernel_sizes or (15, 9, 9)),
            dilations=tuple(hp.dilations or (1, 2, 4)),
            pool_sizes=tuple(hp.pool_sizes or (3, 3, 1)),
            kmer=hp.kmer,
            head=hp.head,
            global_pool=hp.global_pool,
            hidden=tuple(hp.hidden if hp.hidden is not None else (32,)),
            dropout=hp.dropout,
            strand_trunk=hp.strand_trunk,
            trunk_dropout=hp.trunk_dropout,
            first_activation=hp.first_activation,
            strand_init=(
                ("separate" if hp.head == "strand" else "mixed")
                if hp.strand_init == "auto"
                else hp.strand_init
            ),
        )
        if hp.sequence_length < max(1, hp.kmer):
            raise UserInputError(
                f"window {hp.sequence_length} is shorter than the k-mer size {hp.kmer}"
            )
        if self.symmetry == "augment" and hp.head == "strand":
            raise UserInputError(
                "symmetry 'augment' cannot train a strand-specific head: reverse-complementing "
                "a sequence would need the other strand's labels"
            )
        self.requested_length = hp.sequence_length
        self.sequence_length = frame_length(self.arch, hp.sequence_length)
        period = frame_period(self.arch)
        minimum = self.sequence_length
        while minimum - period >= 1 and supported_length(self.arch, minimum - period):
            minimum -= period
        odd = all(w % 2 for w in self.arch.pool_sizes if w > 1)
        # The positional readout has one weight per position: one frame for every batch.
        fixed = hp.fixed_window or hp.global_pool == "flatten"
        self.frame_rule = FrameRule(self.sequence_length, period, minimum, fixed, odd)
        self.n_outputs = self.spec.n_outputs

    def build_network(self, equivariant: bool) -> torch.nn.Module:
        return build_network(
            self.arch,
            self.n_outputs,
            equivariant,
            self.hparams.match_parameters,
            self.sequence_length,
        )

    def selection_metric(self) -> SelectionMetric:
        if self.spec.kind == "regression":
            return SelectionMetric("val/loss", "min")
        return SelectionMetric("val/auroc", "max")

    def window_note(self) -> str | None:
        """The one line a user sees when their window was padded up to a valid length."""
        if self.sequence_length == self.requested_length:
            return None
        what = "window" if self.hparams.fixed_window else "longest sequence"
        return (
            f"{what} {self.requested_length} padded to {self.sequence_length}: every pool "
            f"(sizes {list(self.arch.pool_sizes)}) must tile the length after padding it by an "
            "even number of zeros, so an even pool window needs an even length at its input"
        )

    # ----- batches -----------------------------------------------------------------
    def frame(self, one_hots: Sequence[np.ndarray]) -> list[FramedGroup]:
        """(4, L_i) one-hots -> groups padded by the window rule (``framing``)."""
        from gdl_dna.layers.batchnorm import sync_group

        return frame_groups(one_hots, self.frame_rule, keep_empty=self.training and sync_group())

    def on_before_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        # Training batches are (list of (4, L_i) arrays, targets) from ``collate_sequences``.
        items = batch[0] if isinstance(batch, (list, tuple)) and len(batch) == 2 else None
        if isinstance(items, list) and items and isinstance(items[0], np.ndarray):
            if self._trainer is not None and self.trainer.training:
                items = self.augment_items(items)
            return self.frame(items), batch[1]
        return batch

    def augment_items(
        self, items: Sequence[np.ndarray], generator: torch.Generator | None = None
    ) -> list[np.ndarray]:
        """Random trims / point mutations of a training batch's (4, L_i) one-hots."""
        hp = self.hparams
        if hp.augment_shift <= 0 and hp.augment_mutate <= 0:
            return list(items)
        if generator is None:
            if getattr(self, "_sequence_generator", None) is None:
                rank = self.global_rank if self._trainer is not None else 0
                seed = self.augment_seed + 7919 + 1000 * rank  # not the RC stream
                self._sequence_generator = torch.Generator().manual_seed(seed)
            generator = self._sequence_generator
        return augment_one_hots(items, generator, hp.augment_shift, hp.augment_mutate)

    def grouped_output(self, groups: Sequence[FramedGroup], fn: Any = None) -> torch.Tensor:
        """``fn(x, mask)`` (default: the logits) of every group, back in batch order."""
        fn = fn or self.forward
        outs = [(g.index, fn(g.x, g.mask)) for g in groups]
        n = sum(len(i) for i, _ in outs)
        first = outs[0][1]
        result = first.new_empty((n, *first.shape[1:]))
        for index, out in outs:
            result[index.to(result.device)] = out
        return result

    @torch.no_grad()
    def predict_sequences(self, one_hots: Sequence[np.ndarray]) -> torch.Tensor:
        """(B, n_outputs) probabilities / values of variable-length one-hots, in order."""
        dev = self.device
        groups = [
            FramedGroup(g.index, g.x.to(dev), None if g.mask is None else g.mask.to(dev))
            for g in self.frame(one_hots)
        ]
        return self.grouped_output(groups, self.predict_values)

    def on_fit_start(self) -> None:
        if self.global_rank != 0:
            return
        note = self.window_note()
        if note:
            print(f"gdl-dna: note: {note}", file=sys.stderr)
        lengths = getattr(self.trainer.datamodule, "sequence_lengths", None)
        if lengths is not None:
            n = lengths()
            cropped = count_cropped(n, self.frame_rule)
            if cropped:
                print(
                    f"gdl-dna: warning: {cropped} of {len(n)} sequences are longer than the "
                    f"window {self.sequence_length} and are centre-cropped (longest "
                    f"{int(n.max())}); --data.window auto keeps every base",
                    file=sys.stderr,
                )

    # ----- the model as a function of one-hot sequences -------------------------------
    def full_output(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 4, L) -> (B, n) logits, or (B, 2n) with the strand head (both strands).

        In augment mode, outside training, the two strands' outputs are averaged.
        """
        out = self.net(x, mask)
        if self.symmetry == "augment" and not self.training:
            rc_mask = None if mask is None else mask.flip(-1)
            out = 0.5 * (out + self.net(RC.act_on_one_hot(1, x), rc_mask))
        return out

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 4, L) -> (B, n_outputs) logits (regression: values) for the given strand."""
        if hasattr(self.net, "forward_strand"):  # conjoined strand trunk: skip the other strand
            return self.net.forward_strand(x, mask)
        return self.full_output(x, mask)[:, : self.n_outputs]

    def to_values(self, logits: torch.Tensor) -> torch.Tensor:
        """Probabilities (sigmoid per label, softmax over classes) or regression values."""
        if self.spec.kind == "binary":
            return torch.sigmoid(logits)
        if self.spec.kind == "multiclass":
            return torch.softmax(logits, dim=1)
        return logits

    def predict_values(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.to_values(self(x, mask))

    def ensemble_output(self, outputs: list[torch.Tensor]) -> torch.Tensor:
        """An ensemble's logits from its members': probabilities averaged as predict does
        (sigmoid per label, softmax over classes), turned back into logits."""
        if self.spec.kind == "binary":
            return logit_mean_sigmoid(outputs)
        if self.spec.kind == "multiclass":
            return log_mean_softmax(outputs, dim=1)
        return torch.stack(outputs).mean(0)

    # ----- training ------------------------------------------------------------------
    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Masked loss: BCE per label, CE over classes, or MSE; missing targets ignored.

        With ``label_smoothing`` s, binary targets are pulled to s/2 and 1 - s/2 in
        training (missing targets stay missing: NaN and -1 are kept as they are)."""
        s = self.hparams.label_smoothing
        if s > 0 and self.training and self.spec.kind == "binary":
            known = (target == 0) | (target == 1)
            target = torch.where(known, target * (1 - s) + 0.5 * s, target)
        return masked_loss(logits, target, self.spec.kind)

    def step(self, batch: Batch) -> StepOutput:
        groups, y = batch
        logits = self.grouped_output(groups)
        with torch.no_grad():
            preds = self.to_values(logits)
        return StepOutput(self.loss(logits, y), preds, y, batch_size=y.shape[0])

    def random_transform(self, batch: Batch, generator: torch.Generator) -> Batch:
        """Reverse-complement a random half of the batch (labels are RC-invariant).

        Frames are centred, so a flipped row is the framed reverse complement."""
        groups, y = batch
        flipped = []
        for g in groups:
            flip = torch.rand(g.x.shape[0], generator=generator) < 0.5
            flip = flip.to(g.x.device)[:, None, None]
            mask = None if g.mask is None else torch.where(flip, g.mask.flip(-1), g.mask)
            x = torch.where(flip, RC.act_on_one_hot(1, g.x), g.x)
            flipped.append(FramedGroup(g.index, x, mask))
        return flipped, y

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
        """(n, 4, L) sequences to check on: the first valid records of a file (framed at
        the checkpoint's window), or random one-hot DNA with N codes and padding (seeded)."""
        length = self.sequence_length
        if input_path is not None:
            from gdl_dna.data import encode_window, iter_records

            xs = []
            for record in iter_records(input_path):
                if record.error is None:
                    xs.append(encode_window(record.sequence, length))
                if len(xs) == n:
                    break
            if not xs:
                raise UserInputError(f"{input_path}: no valid sequence to check symmetry on")
            return torch.stack(xs).to(dtype)
        g = torch.Generator().manual_seed(0)
        x = F.one_hot(torch.randint(4, (n, length), generator=g), 4).transpose(1, 2).to(dtype)
        x[:, :, torch.rand(length, generator=g) < 0.05] = 0.25  # some N
        x[0, :, : length // 10] = 0.0  # padding
        return x

    def symmetry_check(self, input_path: str | None, dtype: torch.dtype) -> SymmetryCheck:
        """Invariant head: |p(x) - p(RC x)|. Strand head: p(RC x) vs the strand swap of p(x)."""
        x = self.symmetry_inputs(input_path, dtype=dtype)
        if self.arch.head == "strand":
            out_action = RC.action(RCFieldType(regular=self.n_outputs), length_axis=False)
            return SymmetryCheck(self.full_output, RC, x, RC.act_on_one_hot, out_action)
        return SymmetryCheck(self.predict_values, RC, x, RC.act_on_one_hot, trivial_action)
