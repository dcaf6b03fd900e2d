"""The DNA LightningModule: network, head decision, masked losses, metrics, symmetry check.

``symmetry``: ``equivariant`` ties the weights (exact RC invariance or, with the strand
head, exact RC equivariance); ``none`` is the same CNN with untied weights and matched
parameter count; ``augment`` trains that CNN on randomly reverse-complemented sequences
and averages both strands outside training (so its predictions are RC-invariant too,
by test-time symmetrisation rather than by construction).

``head: auto`` (the default) asks the training data whether the labels are strand-
symmetric (``gdl_dna.strand_test``) when the fit starts, builds the network that goes
with the answer, prints the evidence and keeps both in the checkpoint's hyperparameters
(``head``, ``kmer``, ``strand_evidence``), so predict/explain/variant-effect follow it.
Batches are padded by the window rule (``gdl_dna.batching``).
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from typing import Any, Literal

import torch

from gdl_dna.batching import FramedBatches
from gdl_dna.config import ArchConfig, frame_length, frame_period, supported_length
from gdl_dna.data.framing import FramedGroup, FrameRule
from gdl_dna.data.labels import LabelSpec
from gdl_dna.metrics import PredictionStore, compute_metrics
from gdl_dna.model import build_network
from gdl_dna.selection import PlateauSelection
from gdl_dna.strand_test import HEAD_KMER
from gdl_dna.symmetry_inputs import guarantee, symmetry_inputs
from gdl_science.io import UserInputError
from gdl_science.symmetry import RCFieldType, ReverseComplementGroup, trivial_action
from gdl_science.training import (
    GDLTask,
    StepOutput,
    SymmetryCheck,
    log_mean_softmax,
    logit_mean_sigmoid,
)
from gdl_science.training.masked import masked_loss

RC = ReverseComplementGroup()
STAGES = ("train", "val", "test")
Batch = tuple[list[FramedGroup], torch.Tensor]  # framed rows, targets (B, T) or (B,)
A = ArchConfig  # every architecture default is declared once, there


class DNATask(PlateauSelection, FramedBatches, GDLTask):
    def __init__(
        self,
        label_names: list[str] | None = None,
        task_type: Literal["binary", "multiclass", "regression"] = "binary",
        class_names: list[str] | None = None,
        sequence_length: int = 200,
        fixed_window: bool = False,
        channels: tuple[int, ...] = A.channels,
        irrep_channels: int = A.irrep_channels,
        kernel_sizes: tuple[int, ...] = A.kernel_sizes,
        dilations: tuple[int, ...] = A.dilations,
        pool_sizes: tuple[int, ...] = A.pool_sizes,
        kmer: int | Literal["auto"] = "auto",
        head: Literal["auto", "invariant", "strand"] = "auto",
        global_pool: Literal["max", "mean", "maxmean", "flatten"] = "max",
        hidden: tuple[int, ...] = A.hidden,
        dropout: float = A.dropout,
        strand_trunk: Literal["conjoined", "tied"] = "conjoined",
        strand_init: Literal["auto", "mixed", "separate"] = "auto",
        match_parameters: bool = True,
        trunk_dropout: float = A.trunk_dropout,
        first_activation: Literal["relu", "exp"] = "relu",
        block: Literal["conv", "gated"] = "conv",
        label_smoothing: float = 0.0,
        augment_shift: int = 0,
        augment_mutate: float = 0.0,
        strand_evidence: str | None = None,
        selection_tolerance: float = 0.0,
        lr: float = 0.003,
        weight_decay: float = 0.01,
        **base_kwargs: Any,
    ) -> None:
        """
        Args:
            label_names / task_type / class_names: linked from the data.
            sequence_length: linked from the data: its longest sequence (``window auto``)
                or the user's window; rounded up to a length the pools accept.
            fixed_window: linked from the data: True crops/pads everything to the window,
                False (``auto``) pads each batch to its own longest sequence.
            channels .. block: the architecture (``gdl_dna.config.ArchConfig`` documents
                each). head: auto (the strand test on the training data picks invariant
                or strand), invariant (orientation pooled) or strand (strand-specific,
                RC-equivariant). kmer: auto (3 with the invariant head, 1 with the strand
                head) or the k-mer size of the input layer (1 = one-hot). strand_init
                auto: separate with the strand head, mixed otherwise.
            match_parameters: plain nets (none/augment) get the equivariant net's size.
            label_smoothing: binary targets y -> y (1 - s) + s / 2 in the training loss.
            augment_shift / augment_mutate: training batches only, every symmetry mode:
                up to ``augment_shift`` bases trimmed off the ends in total, and each base
                replaced by a random one with probability ``augment_mutate``.
            strand_evidence: set by fit (the strand test's line), kept in the checkpoint.
            selection_tolerance: best.ckpt is the latest epoch within this of the best val
                auROC (``gdl_dna.selection``); 0: the best-auROC epoch.
            lr / weight_decay, base_kwargs: the shared arguments of ``GDLTask``.
        """
        super().__init__(lr=lr, weight_decay=weight_decay, **base_kwargs)
        self.stores = torch.nn.ModuleDict({f"{s}_preds": PredictionStore() for s in STAGES})

    # ----- configuration (called by the base before the network is built) ----------
    @property
    def head(self) -> str:
        """The head in use: ``auto`` builds the invariant one until the data decides."""
        return "invariant" if self.hparams.head == "auto" else self.hparams.head

    def configure(self) -> None:
        hp = self.hparams
        self.spec = LabelSpec(
            hp.task_type, list(hp.label_names or ["label"]), list(hp.class_names or [])
        )
        kmer = HEAD_KMER[self.head] if hp.kmer == "auto" else hp.kmer
        strand_init = hp.strand_init
        if strand_init == "auto":
            strand_init = "separate" if self.head == "strand" else "mixed"
        # None: checkpoints written before the defaults moved to ArchConfig.
        self.arch = ArchConfig(
            channels=tuple(hp.channels or A.channels), irrep_channels=hp.irrep_channels,
            kernel_sizes=tuple(hp.kernel_sizes or A.kernel_sizes),
            dilations=tuple(hp.dilations or A.dilations),
            pool_sizes=tuple(hp.pool_sizes or A.pool_sizes), kmer=kmer, head=self.head,
            global_pool=hp.global_pool, dropout=hp.dropout,
            hidden=tuple(A.hidden if hp.hidden is None else hp.hidden),
            strand_trunk=hp.strand_trunk, trunk_dropout=hp.trunk_dropout,
            first_activation=hp.first_activation, strand_init=strand_init, block=hp.block,
        )  # fmt: skip
        if hp.sequence_length < max(1, kmer):
            raise UserInputError(
                f"window {hp.sequence_length} is shorter than the k-mer size {kmer}"
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
        # A provisional ``auto`` net leaves the global RNG alone, so the net built once the
        # data has decided starts from the same weights as with the head given explicitly.
        provisional = self.hparams.head == "auto"
        with torch.random.fork_rng() if provisional else nullcontext():
            return build_network(
                self.arch,
                self.n_outputs,
                equivariant,
                self.hparams.match_parameters,
                self.sequence_length,
            )

    def setup(self, stage: str) -> None:
        super().setup(stage)
        dm = self.trainer.datamodule if self._trainer is not None else None
        hp = self.hparams
        if hp.head != "auto" or dm is None or not hasattr(dm, "strand_decision"):
            return
        if self.symmetry == "augment":  # trains on both strands: strand-symmetric by choice
            hp.head, evidence = "invariant", "choice of symmetry augment (no strand test)"
        else:
            decision = dm.strand_decision()
            hp.head, evidence = decision.head, decision.evidence()
        hp.kmer = HEAD_KMER[hp.head] if hp.kmer == "auto" else hp.kmer
        hp.strand_evidence = evidence
        self.configure()
        self.rebuild_network()  # before the optimiser is created
        if self.global_rank == 0:
            print(f"gdl-dna: {evidence}", file=sys.stderr, flush=True)

    def on_fit_start(self) -> None:
        if self.global_rank == 0:
            lengths = getattr(self.trainer.datamodule, "sequence_lengths", None)
            self.report_window(lengths() if lengths is not None else None)

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
        if stage == "val" and "auroc" in values:
            self.log_plateau(values["auroc"])

    def on_train_epoch_end(self) -> None:
        self._log_epoch_metrics("train")

    def on_validation_epoch_end(self) -> None:
        self._log_epoch_metrics("val")

    def on_test_epoch_end(self) -> None:
        self._log_epoch_metrics("test")

    # ----- symmetry --------------------------------------------------------------------
    def symmetry_check(self, input_path: str | None, dtype: torch.dtype) -> SymmetryCheck:
        """Invariant head: |p(x) - p(RC x)|. Strand head: p(RC x) vs the strand swap of p(x)."""
        hp = self.hparams
        print(guarantee(self.head, self.symmetry, hp.strand_evidence), file=sys.stderr)
        x = symmetry_inputs(self.sequence_length, input_path, dtype=dtype)
        if self.arch.head == "strand":
            out_action = RC.action(RCFieldType(regular=self.n_outputs), length_axis=False)
            return SymmetryCheck(self.full_output, RC, x, RC.act_on_one_hot, out_action)
        return SymmetryCheck(self.predict_values, RC, x, RC.act_on_one_hot, trivial_action)
